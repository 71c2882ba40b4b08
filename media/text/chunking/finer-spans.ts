/**
 * Finer cuts for a sentence that is over the budget: clauses, then words (then, in
 * chunk-text, runs of grapheme clusters, then code points). Every function returns spans
 * that tile the given span, so offsets stay exact; none cuts a surrogate pair in half.
 */
import { segmentRange } from './segments';
import { splitAfter, type TextSpan } from './split-sentences';

// ASCII , ; : only before whitespace (not 3,000 or 12:30); CJK clause marks anywhere.
const CLAUSE_END = /[,;:](?=\s)\s*|[，、；：︐︑︓︔]\s*|\s+[-–—]\s+/g;

export function clauseSpans(text: string, span: TextSpan): TextSpan[] {
  return splitAfter(text, span, CLAUSE_END);
}

/**
 * Word spans from ICU's word segmenter (dictionary-based for Chinese, Japanese and Thai);
 * spaces and punctuation stay attached to the word before them.
 */
export function wordSpans(text: string, span: TextSpan, locale?: string): TextSpan[] {
  const spans: TextSpan[] = [];
  for (const segment of segmentRange(text, span.start, span.end, 'word', locale)) {
    const previous = spans[spans.length - 1];
    if (previous === undefined) {
      spans.push({ start: segment.start, end: segment.end });
    } else if (!segment.isWordLike || !/\S/.test(text.slice(previous.start, previous.end))) {
      previous.end = segment.end;
    } else {
      spans.push({ start: segment.start, end: segment.end });
    }
  }
  return spans;
}

/** Code points: the last resort for a grapheme cluster over the budget (e.g. Zalgo text). */
export function codePointSpans(text: string, span: TextSpan): TextSpan[] {
  const spans: TextSpan[] = [];
  let start = span.start;
  for (const character of text.slice(span.start, span.end)) {
    spans.push({ start, end: start + character.length });
    start += character.length;
  }
  return spans;
}
