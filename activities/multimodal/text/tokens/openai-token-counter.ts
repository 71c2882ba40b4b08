/**
 * Exact OpenAI token counts through gpt-tokenizer (pure JS; the same counts as tiktoken).
 * Each encoding's rank table (~35 MB of heap and ~250 ms for o200k_base) is imported on
 * first use and then shared by every counter of that encoding.
 */
import type { OpenAiEncoding, TokenCounter } from './token-counter';

interface EncodingApi {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

/**
 * Longest run counted in one piece. The BPE merge in gpt-tokenizer (as in tiktoken) is
 * quadratic in the length of one pre-token, so 100,000 letters without a space take ~12 s;
 * longer runs are counted in slices of this size.
 */
export const LONG_RUN_SLICE = 256;

const LONG_RUNS = new RegExp(
  `(?<![\\p{L}\\p{M}])[\\p{L}\\p{M}]{${LONG_RUN_SLICE + 1},}` +
    `|(?<!\\s)\\s{${LONG_RUN_SLICE + 1},}` +
    `|(?<![^\\s\\p{L}\\p{M}\\p{N}])[^\\s\\p{L}\\p{M}\\p{N}]{${LONG_RUN_SLICE + 1},}`,
  'gu',
);

/** Cheap pre-check: can `text` hold a run of one character class longer than a slice? */
function mayHaveLongRun(text: string): boolean {
  if (text.length <= LONG_RUN_SLICE) return false;
  let nonSpace = 0;
  let space = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code === 32 || (code >= 9 && code <= 13)) {
      space += 1;
      nonSpace = 0;
    } else {
      nonSpace += 1;
      space = 0;
    }
    if (nonSpace > LONG_RUN_SLICE || space > LONG_RUN_SLICE) return true;
  }
  return false;
}

/**
 * Counts `text` with `countPiece`, cutting runs of letters, spaces or symbols longer than
 * `LONG_RUN_SLICE` into slices (never inside a surrogate pair). Exact for ordinary text;
 * for such runs the sum of the slices, which keeps the cost linear.
 */
export function countInSlices(text: string, countPiece: (piece: string) => number): number {
  if (!mayHaveLongRun(text)) return countPiece(text);
  let total = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUNS)) {
    const runEnd = run.index + run[0].length;
    let cut = run.index + LONG_RUN_SLICE;
    while (cut < runEnd) {
      if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut -= 1;
      total += countPiece(text.slice(from, cut));
      from = cut;
      cut += LONG_RUN_SLICE;
    }
  }
  return total + countPiece(text.slice(from));
}

const loaded = new Map<OpenAiEncoding, Promise<TokenCounter>>();

async function importEncoding(encoding: OpenAiEncoding): Promise<EncodingApi> {
  switch (encoding) {
    case 'o200k_base':
      return import('gpt-tokenizer/encoding/o200k_base');
    case 'cl100k_base':
      return import('gpt-tokenizer/encoding/cl100k_base');
  }
}

/**
 * The exact counter for `encoding`. Special-token text such as `<|endoftext|>` in user input
 * is counted as ordinary text, never rejected.
 */
export function loadOpenAiTokenCounter(encoding: OpenAiEncoding): Promise<TokenCounter> {
  let counter = loaded.get(encoding);
  if (counter === undefined) {
    const asPlainText = { disallowedSpecial: new Set<string>() };
    counter = importEncoding(encoding).then((api) => {
      const countPiece = (piece: string) =>
        piece.length === 0 ? 0 : api.countTokens(piece, asPlainText);
      return {
        family: 'openai' as const,
        encoding,
        exact: true,
        count: (text: string) => countInSlices(text, countPiece),
      };
    });
    counter.catch(() => loaded.delete(encoding));
    loaded.set(encoding, counter);
  }
  return counter;
}
