/**
 * Exact OpenAI token counts through gpt-tokenizer (pure JS; the same counts as tiktoken).
 * Each encoding's rank table (~35 MB of heap and ~250 ms for o200k_base) is imported on
 * first use and then shared by every counter of that encoding.
 *
 * A count is the sum over the pre-tokens (the pieces the encoding's split regex cuts the text
 * into) of each piece's BPE length, as gpt-tokenizer's own count computes it. The counter
 * walks the pieces with the library's split regex in sticky mode (no match arrays) and
 * remembers the count of short pieces per encoding (words recur: most lookups hit a small
 * table instead of the 200k-entry rank map, and no piece is merged twice). The per-piece
 * step is gpt-tokenizer's (rank lookup, else its byte-pair merge); when that internal is not
 * there (another version), every text is counted by the library's `countTokens`. A unit test
 * checks the counts against `countTokens` on mixed text.
 */
import {
  CL100K_TOKEN_SPLIT_REGEX,
  O200K_TOKEN_SPLIT_REGEX,
} from 'gpt-tokenizer/encodingParams/constants';
import type { OpenAiEncoding, TokenCounter } from './token-counter';

interface EncodingApi {
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
  /** The encoding object (gpt-tokenizer's GptEncoding); its BPE core is internal. */
  default?: unknown;
}

/** The per-piece step of gpt-tokenizer's count (BytePairEncodingCore, gpt-tokenizer 4.x). */
interface PieceCore {
  getBpeRankFromString(piece: string): number | undefined;
  bytePairEncode(piece: string): readonly number[];
}

/** Pieces up to this many code units have their counts remembered. */
const CACHED_PIECE_LENGTH = 32;
/** Remembered pieces per encoding; the table is emptied when it grows past this. */
const CACHED_PIECES = 32_768;

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
export function countInSlices(
  text: string,
  countPiece: (piece: string, limit: number) => number,
  /** Past this many tokens the count may stop (the result is then above it). */
  limit = Infinity,
): number {
  if (!mayHaveLongRun(text)) return countPiece(text, limit);
  let total = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUNS)) {
    const runEnd = run.index + run[0].length;
    let cut = run.index + LONG_RUN_SLICE;
    while (cut < runEnd) {
      if (/[\uDC00-\uDFFF]/.test(text[cut] ?? '')) cut -= 1;
      total += countPiece(text.slice(from, cut), limit - total);
      if (total > limit) return total;
      from = cut;
      cut += LONG_RUN_SLICE;
    }
  }
  return total + countPiece(text.slice(from), limit - total);
}

const loaded = new Map<OpenAiEncoding, Promise<TokenCounter>>();
/** Special-token text in the input is ordinary text. */
const asPlainText = { disallowedSpecial: new Set<string>() };

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
    counter = importEncoding(encoding).then((api) => {
      const library = (piece: string) =>
        piece.length === 0 ? 0 : api.countTokens(piece, asPlainText);
      const countPiece = pieceCounter(api, encoding) ?? library;
      return {
        family: 'openai' as const,
        encoding,
        exact: true,
        count: (text: string) => countInSlices(text, countPiece),
        countWithin: (text: string, limit: number) => countInSlices(text, countPiece, limit),
      };
    });
    counter.catch(() => loaded.delete(encoding));
    loaded.set(encoding, counter);
  }
  return counter;
}

/** gpt-tokenizer's BPE core behind `api`, when this version has the per-piece step. */
function bpeCore(api: EncodingApi): PieceCore | undefined {
  const core = (api.default as { bytePairEncodingCoreProcessor?: Partial<PieceCore> } | undefined)
    ?.bytePairEncodingCoreProcessor;
  return typeof core?.getBpeRankFromString === 'function' &&
    typeof core.bytePairEncode === 'function'
    ? (core as PieceCore)
    : undefined;
}

/**
 * A count of `text` equal to gpt-tokenizer's `countTokens(text)` with no special tokens
 * allowed: the split regex (the library's own, sticky) walks the pieces; each piece is one
 * token when it is in the rank table, else as many as its byte-pair merge gives. Undefined
 * when the library's internals are not the ones this was written against.
 */
function pieceCounter(
  api: EncodingApi,
  encoding: OpenAiEncoding,
): ((text: string, limit?: number) => number) | undefined {
  const core = bpeCore(api);
  if (!core) return undefined;
  const split = new RegExp(
    (encoding === 'o200k_base' ? O200K_TOKEN_SPLIT_REGEX : CL100K_TOKEN_SPLIT_REGEX).source,
    'uy',
  );
  const known = new Map<string, number>();
  const tokensOf = (piece: string): number =>
    core.getBpeRankFromString(piece) !== undefined ? 1 : core.bytePairEncode(piece).length;
  // `limit`: the count may stop once it is above it (checked every piece: one comparison).
  return (text: string, limit = Infinity): number => {
    let tokens = 0;
    let start = 0;
    while (start < text.length && tokens <= limit) {
      split.lastIndex = start;
      // Every character matches one of the pattern's alternatives; never taken.
      if (!split.test(text)) return tokens + api.countTokens(text.slice(start), asPlainText);
      const end = split.lastIndex;
      const piece = text.slice(start, end);
      if (piece.length > CACHED_PIECE_LENGTH) tokens += tokensOf(piece);
      else {
        let count = known.get(piece);
        if (count === undefined) {
          if (known.size >= CACHED_PIECES) known.clear();
          count = tokensOf(piece);
          known.set(piece, count);
        }
        tokens += count;
      }
      start = end;
    }
    return tokens;
  };
}

// Character classes of the split predicate below, matching the tokenizers' regexes (JS `\s`,
// `\p{L}`, `\p{M}`, `\p{N}` with the `u` flag), with fast paths for ASCII and common CJK.
const LETTER = /\p{L}/u;
const MARK = /\p{M}/u;
const NUMBER = /\p{N}/u;

function isWhitespace(code: number): boolean {
  return (
    code === 32 ||
    (code >= 9 && code <= 13) ||
    (code >= 0x80 &&
      (code === 0xa0 ||
        code === 0x1680 ||
        (code >= 0x2000 && code <= 0x200a) ||
        code === 0x2028 ||
        code === 0x2029 ||
        code === 0x202f ||
        code === 0x205f ||
        code === 0x3000 ||
        code === 0xfeff))
  );
}

function isLetter(code: number): boolean {
  if (code < 0x80) return (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a;
  if ((code >= 0xac00 && code <= 0xd7a3) || (code >= 0x4e00 && code <= 0x9fff)) return true;
  if ((code >= 0x3041 && code <= 0x3096) || (code >= 0x30a1 && code <= 0x30fa)) return true;
  return LETTER.test(String.fromCharCode(code));
}

function isMark(code: number): boolean {
  return code >= 0x300 && MARK.test(String.fromCharCode(code));
}

function isNumber(code: number): boolean {
  if (code < 0x80) return code >= 0x30 && code <= 0x39;
  return NUMBER.test(String.fromCharCode(code));
}

const isSurrogate = (code: number) => code >= 0xd800 && code <= 0xdfff;

/**
 * True when `position` (0 < position < text.length) splits counts exactly: for every
 * a < position < b, count(text[a, b)) = count(text[a, position)) + count(text[position, b))
 * for the exact o200k_base and cl100k_base counters. Judged from the two characters x, y
 * around `position` only:
 *
 * - x not whitespace, y whitespace other than \r and \n;
 * - x a letter, y neither a letter, a mark nor an apostrophe (' or ’);
 * - x a number, y not a number.
 *
 * Why: both pre-tokenizer regexes (gpt-tokenizer's O200K/CL100K_TOKEN_SPLIT_PATTERN, as
 * tiktoken's) have no look-behind, so a scan that reaches `position` at a piece boundary
 * continues exactly like a scan of the suffix alone. No alternative can match a piece holding
 * both x and y: letters are followed only by letters, marks (o200k) or a contraction ('s),
 * the one-character prefix before letters is neither a letter nor a number, numbers are
 * only `\p{N}{1,3}`, symbol runs take no letters or numbers and only \r \n (and /) after
 * them, and whitespace alternatives take no other characters. So a piece ends at `position`,
 * and the scan of the prefix alone yields the same pieces: every alternative that fails on
 * y also fails at the end of the prefix, and the only look-ahead/anchor (`\s+(?!\S)`,
 * `\s+$`) needs whitespace just before `position`, which x is not. The BPE runs per piece,
 * so the counts add up. `countInSlices` keeps this: no run it slices (letters+marks,
 * whitespace, symbols) continues across `position`, so its slice points on either side are
 * the same whether counted together or apart. Surrogate halves around the letter and
 * number cases are refused (astral letters would need the whole code point).
 */
export function splitsCountsAt(text: string, position: number): boolean {
  if (position <= 0 || position >= text.length) return false;
  const x = text.charCodeAt(position - 1);
  const y = text.charCodeAt(position);
  if (isWhitespace(y) && y !== 10 && y !== 13) return !isWhitespace(x);
  if (isSurrogate(x) || isSurrogate(y)) return false;
  if (isLetter(x)) return !isLetter(y) && !isMark(y) && y !== 0x27 && y !== 0x2019;
  if (isNumber(x)) return !isNumber(y);
  return false;
}

/**
 * The split test above when `counter` promises exact o200k_base or cl100k_base counts
 * (`exact: true`: the tokenizer's real count, whatever object computes it); undefined for
 * estimates and other encodings.
 */
export function countSplitTest(
  counter: TokenCounter,
): ((text: string, position: number) => boolean) | undefined {
  if (counter.family !== 'openai' || !counter.exact) return undefined;
  if (counter.encoding !== 'o200k_base' && counter.encoding !== 'cl100k_base') return undefined;
  return splitsCountsAt;
}
