/**
 * The codec server's wire format (Temporal's codec-server protocol): `{ payloads: [...] }` with
 * each payload in protobuf JSON form — metadata values and data as base64 strings.
 */
import type { Payload } from '@temporalio/common';
import { z } from 'zod';

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64')
  .transform((value) => new Uint8Array(Buffer.from(value, 'base64')));

export const codecRequestSchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), base64).optional(),
        data: base64.optional(),
      }),
    )
    .max(10_000)
    // Protobuf JSON leaves empty lists out: the temporal CLI sends `{}` for no payloads.
    .default([]),
});

export interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

export const fromJsonPayloads = (payloads: z.infer<typeof codecRequestSchema>['payloads']) =>
  payloads.map((payload): Payload => ({
    metadata: payload.metadata ?? {},
    data: payload.data ?? new Uint8Array(),
  }));

export const toJsonPayload = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([key, value]) => [
      key,
      Buffer.from(value ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});
