/**
 * A deterministic local "embedding" for offline runs and tests: word and character-trigram
 * features hashed into a fixed number of dimensions (the hashing trick), L2-normalised. It is
 * NOT semantic: two texts are close only when they share words or word pieces ("PostgreSQL"
 * and "Postgres" are; "database" and "PostgreSQL" are not). Recall results say so
 * (`semantic: false`). Same text, same vector, on every machine.
 */
import type { EmbeddingProvider, EmbeddingRequest, EmbeddingResponse } from '../model-provider';
import { assertEmbeddingRequest } from './embedding-request';

export const LEXICAL_EMBEDDING_PROVIDER = 'local-lexical';
export const LEXICAL_EMBEDDING_DIMENSIONS = 256;

/** FNV-1a, 32 bits. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

const STOP_WORDS = new Set(
  'a an and are as at be by for from in is it of on or our so that the this to we with i you use uses used'.split(
    ' ',
  ),
);

/** Lower-cased letter/digit runs of two characters or more, without common stop words. */
export function lexicalTokens(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]{2,}/gu) ?? []
  ).filter((word) => !STOP_WORDS.has(word));
}

/** The vector of one text: words weigh 1, their trigrams 0.5 (signed hashing). */
export function lexicalVector(text: string, dimensions = LEXICAL_EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number) => {
    const code = hash(feature);
    vector[code % dimensions]! += code & 0x80000000 ? -weight : weight;
  };
  for (const word of lexicalTokens(text)) {
    add(`w:${word}`, 1);
    const padded = `^${word}$`;
    for (let index = 0; index + 3 <= padded.length; index += 1) {
      add(`t:${padded.slice(index, index + 3)}`, 0.5);
    }
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? vector : vector.map((value) => value / norm);
}

/**
 * The lexical embedding behind `EmbeddingProvider` (no network, no model). `dimensions` sets
 * the vector size (256 by default). Bad input fails like any provider's: ModelRequestInvalid.
 */
export function createLexicalEmbeddings(
  options: { dimensions?: number } = {},
): EmbeddingProvider & { readonly semantic: false; readonly dimensions: number } {
  const dimensions = options.dimensions ?? LEXICAL_EMBEDDING_DIMENSIONS;
  return {
    name: LEXICAL_EMBEDDING_PROVIDER,
    model: `hashed-words-trigrams-${dimensions}`,
    semantic: false,
    dimensions,
    async embed(request: EmbeddingRequest): Promise<EmbeddingResponse> {
      assertEmbeddingRequest(LEXICAL_EMBEDDING_PROVIDER, request);
      const size = request.dimensions ?? dimensions;
      return {
        vectors: request.texts.map((text) => lexicalVector(text, size)),
        provider: LEXICAL_EMBEDDING_PROVIDER,
        model: `hashed-words-trigrams-${size}`,
        usage: { inputTokens: 0 },
        latencyMs: 0,
      };
    },
  };
}
