/** Memory ids derived from what they came of, and the sentences a text states. */
import { createHash } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A memory id derived from `parts` (the same parts, the same id). */
export function derivedMemoryId(...parts: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest();
  let bits = 0;
  let value = 0;
  let id = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && id.length < 26) {
      id += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (id.length === 26) break;
  }
  return `mem_${id}`;
}

/** The sentences of `text` (split at . ! ? ; 。 and line breaks), trimmed, without empty ones. */
export function sentencesOf(text: string): string[] {
  return text
    .split(/(?<=[.!?;。])\s+|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= 3 && sentence.length <= 1000);
}
