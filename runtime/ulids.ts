/**
 * ULIDs drawn from a pool of cryptographically random bytes. `ulid()`'s own generator asks
 * `crypto.getRandomValues` for ONE byte per character — 16 calls per id, which showed as 2.5% of
 * the API's CPU per `POST /v1/sessions` in the `api-load` bench's profile. The pool is filled
 * from `crypto.randomFillSync` 4 KiB at a time (as Node buffers its random UUIDs), and each
 * byte is used once; a byte ÷ 256 maps onto the 32 ULID characters without bias (256 = 8 × 32).
 */
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let next = POOL_BYTES;

function pooledRandom(): number {
  if (next >= POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const byte = pool[next] ?? 0;
  next += 1;
  return byte / 256;
}

/** A new ULID (time now, 80 random bits). */
export function newUlid(): string {
  return ulid(undefined, pooledRandom);
}
