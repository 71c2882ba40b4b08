/**
 * Text our own stores keep at rest (model answers in the result store, session titles in the
 * index), encrypted with the payload codec — the same keys, key ids, rotation and KMS as
 * Temporal payloads. A sealed value is a string `tdev-sealed:v1:<base64 JSON of the encrypted
 * payload>`; values written before encryption was on are not prefixed and read as they are.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface TextSealer {
  seal(text: string): Promise<string>;
  /** The text of a sealed value; an unsealed value comes back unchanged. */
  open(value: string): Promise<string>;
}

const PREFIX = 'tdev-sealed:v1:';

interface SealedForm {
  metadata: Record<string, string>;
  data: string;
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Seals with `codec` (the API's and workers' encryption codec). */
export function codecTextSealer(codec: PayloadCodec): TextSealer {
  return {
    async seal(text) {
      const [payload] = await codec.encode([
        { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(text, 'utf8') },
      ]);
      const form: SealedForm = {
        metadata: Object.fromEntries(
          Object.entries(payload?.metadata ?? {}).map(([key, value]) => [
            key,
            Buffer.from(value ?? new Uint8Array()).toString('base64'),
          ]),
        ),
        data: Buffer.from(payload?.data ?? new Uint8Array()).toString('base64'),
      };
      return `${PREFIX}${Buffer.from(JSON.stringify(form)).toString('base64')}`;
    },
    async open(value) {
      if (!isSealed(value)) return value;
      const form = JSON.parse(
        Buffer.from(value.slice(PREFIX.length), 'base64').toString('utf8'),
      ) as SealedForm;
      const payload: Payload = {
        metadata: Object.fromEntries(
          Object.entries(form.metadata).map(([key, encoded]) => [
            key,
            Buffer.from(encoded, 'base64'),
          ]),
        ),
        data: Buffer.from(form.data, 'base64'),
      };
      const [decoded] = await codec.decode([payload]);
      return Buffer.from(decoded?.data ?? new Uint8Array()).toString('utf8');
    },
  };
}
