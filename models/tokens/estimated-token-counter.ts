/**
 * Token estimates for model families whose tokenizer is not available offline.
 *
 * Calibration: per-character weights were fitted by least squares against OpenAI's
 * cl100k_base counts on ~4,000 lines of mixed text (the Korean seed document with its code,
 * English READMEs, Japanese and Chinese prose), then rounded up. Against cl100k_base the
 * generic estimate (margin 1.1) came out at 1.08× for Korean prose, 1.08× English, 1.13×
 * code, 1.20× Japanese, 1.31× Chinese and 1.59× Russian; o200k_base counts are lower
 * still for CJK. Each family then
 * multiplies by a safety margin so that estimates err high (a chunk that is estimated to fit
 * should fit). The margins are NOT measurements of the vendors' tokenizers: for exact
 * numbers use the provider's own count (Bedrock `CountTokens`) or real usage figures.
 */
import type { ModelFamily, TokenCounter } from './token-counter';

/** Tokens per character class (cl100k_base-calibrated). */
export const ESTIMATE_WEIGHTS = {
  hangul: 1.45,
  han: 1.0,
  kana: 1.1,
  asciiLetter: 0.23,
  digit: 0.8,
  whitespace: 0.13,
  asciiPunctuation: 0.4,
  otherLetter: 0.8,
  other: 2.6,
} as const;

/** Safety margin per family over the cl100k-calibrated weights. */
export const ESTIMATE_MARGINS: Readonly<Record<Exclude<ModelFamily, 'openai'>, number>> = {
  anthropic: 1.2,
  'bedrock-titan': 1.2,
  generic: 1.1,
};

function isLetter(character: string): boolean {
  return /\p{L}|\p{M}/u.test(character);
}

/** The weight of each ASCII character (letter, digit, whitespace or control, punctuation). */
const ASCII_WEIGHTS = Float64Array.from({ length: 0x80 }, (_, code) => {
  if ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a) return ESTIMATE_WEIGHTS.asciiLetter;
  if (code >= 0x30 && code <= 0x39) return ESTIMATE_WEIGHTS.digit;
  if (code <= 0x20) return ESTIMATE_WEIGHTS.whitespace;
  return ESTIMATE_WEIGHTS.asciiPunctuation;
});

/**
 * The weighted sum of `text`'s characters (of `[from, to)`) before the family margin is
 * applied.
 */
export function weightedCharacterSum(
  text: string,
  from = 0,
  to = text.length,
  /** Added to, in order (a sum over blocks is then exactly the sum over the whole). */
  start = 0,
): number {
  let sum = start;
  for (let index = from; index < to; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x80) {
      sum += ASCII_WEIGHTS[code]!;
    } else if (code >= 0xac00 && code <= 0xd7a3) {
      sum += ESTIMATE_WEIGHTS.hangul;
    } else if ((code >= 0x4e00 && code <= 0x9fff) || (code >= 0x3400 && code <= 0x4dbf)) {
      sum += ESTIMATE_WEIGHTS.han;
    } else if ((code >= 0x3040 && code <= 0x30ff) || (code >= 0xff66 && code <= 0xff9f)) {
      sum += ESTIMATE_WEIGHTS.kana;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      // A supplementary-plane character (emoji, rare Han): one weight for the pair.
      sum += ESTIMATE_WEIGHTS.other;
      index += 1;
    } else if (/\s/.test(text[index]!)) {
      sum += ESTIMATE_WEIGHTS.whitespace;
    } else if (isLetter(text[index]!)) {
      sum += ESTIMATE_WEIGHTS.otherLetter;
    } else {
      sum += ESTIMATE_WEIGHTS.other;
    }
  }
  return sum;
}

/** Characters weighed between two checks of `countWithin`'s limit. */
const WITHIN_BLOCK = 2_048;
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/**
 * A counter returning `ceil(weighted sum × margin)`, labelled `exact: false`. It is
 * subadditive (a text never counts more than the sum of its parts), so chunks packed by
 * summing sentence counts always fit.
 */
export function createEstimatedTokenCounter(
  family: Exclude<ModelFamily, 'openai'> = 'generic',
): TokenCounter {
  const margin = ESTIMATE_MARGINS[family];
  return {
    family,
    encoding: 'estimate',
    exact: false,
    count(text: string): number {
      return text.length === 0 ? 0 : Math.ceil(weightedCharacterSum(text) * margin - 1e-9);
    },
    countWithin(text: string, limit: number): number {
      // In blocks, stopping once the sum is past the limit.
      let sum = 0;
      let from = 0;
      while (from < text.length && sum * margin - 1e-9 <= limit) {
        // A block never ends inside a surrogate pair (the pair is weighed once, as a whole).
        let to = Math.min(text.length, from + WITHIN_BLOCK);
        if (to < text.length && isHighSurrogate(text.charCodeAt(to - 1))) to += 1;
        sum = weightedCharacterSum(text, from, to, sum);
        from = to;
      }
      return Math.ceil(sum * margin - 1e-9);
    },
  };
}
