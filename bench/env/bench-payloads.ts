/**
 * Payload encryption in the bench: key-file mode (no KMS round trips in the numbers beyond the
 * product's own), so our side runs with the codec the product runs with; the raw baseline does not.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DataConverter } from '@temporalio/common';
import {
  EncryptionCodec,
  KeyRingKeySource,
  generateKeyRing,
  readKeyRingFile,
} from '../../runtime/temporal/codec';
import { createDataConverter } from '../../runtime/temporal/data-converter';

export function writeBenchKeyRing(dir: string): string {
  const file = path.join(dir, 'payload-key-ring.json');
  writeFileSync(file, JSON.stringify(generateKeyRing('bench')), { mode: 0o600 });
  return file;
}

export function benchDataConverter(keyRingFile: string): DataConverter {
  return createDataConverter(
    new EncryptionCodec({
      keys: new KeyRingKeySource(readKeyRingFile(keyRingFile)),
      compression: { algorithm: 'gzip', thresholdBytes: 1024 },
    }),
  );
}
