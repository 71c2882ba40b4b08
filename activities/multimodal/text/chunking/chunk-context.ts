/** What the chunking steps share: the text, the counter, the budget, and exact measuring. */
import type { TokenCounter } from '../tokens/token-counter';
import type { TextSpan } from './split-sentences';

export interface ChunkContext {
  text: string;
  counter: TokenCounter;
  maxTokens: number;
  overlapTokens: number;
  locale: string | undefined;
}

/** A span with the token count of its trimmed text. */
export interface CountedSpan extends TextSpan {
  tokens: number;
}

/** `span` without whitespace at either end (possibly empty). */
export function trimSpan(text: string, span: TextSpan): TextSpan {
  let { start, end } = span;
  while (start < end && /\s/.test(text[start] ?? '')) start += 1;
  while (end > start && /\s/.test(text[end - 1] ?? '')) end -= 1;
  return { start, end };
}

/** `span` trimmed, with the exact count of its text (0 when only whitespace). */
export function measure(context: ChunkContext, span: TextSpan): CountedSpan {
  const trimmed = trimSpan(context.text, span);
  const tokens =
    trimmed.end > trimmed.start
      ? context.counter.count(context.text.slice(trimmed.start, trimmed.end))
      : 0;
  return { ...trimmed, tokens };
}
