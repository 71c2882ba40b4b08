/** What the chunking steps share: the text, the counter, the budget, and exact measuring. */
import type { TokenCounter } from '../../../models/tokens/token-counter';
import type { RangeCounts } from './range-counts';
import type { TextSpan } from './split-sentences';

export interface ChunkContext {
  text: string;
  counter: TokenCounter;
  maxTokens: number;
  overlapTokens: number;
  locale: string | undefined;
  /** Set by `buildUnits` when the counter's counts split exactly (see range-counts). */
  ranges?: RangeCounts;
}

/** A span with the token count of its trimmed text. */
export interface CountedSpan extends TextSpan {
  tokens: number;
}

/** `span` without whitespace at either end (possibly empty). */
export function trimSpan(text: string, span: TextSpan): TextSpan {
  let { start, end } = span;
  while (start < end && isSpace(text.charCodeAt(start))) start += 1;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end -= 1;
  return { start, end };
}

const SPACE = /\s/;

/** `/\s/` on one UTF-16 code unit, without the regex for ASCII. */
export function isSpace(code: number): boolean {
  if (code < 0x80) return code === 32 || (code >= 9 && code <= 13);
  return SPACE.test(String.fromCharCode(code));
}

/** `span` trimmed, with the exact count of its text (0 when only whitespace). */
export function measure(context: ChunkContext, span: TextSpan): CountedSpan {
  const trimmed = trimSpan(context.text, span);
  return { ...trimmed, tokens: countRange(context, trimmed.start, trimmed.end) };
}

/** The exact count of `text[start, end)` (0 when empty), through `ranges` when set. */
export function countRange(context: ChunkContext, start: number, end: number): number {
  if (end <= start) return 0;
  if (context.ranges !== undefined) return context.ranges.count(start, end);
  return context.counter.count(context.text.slice(start, end));
}
