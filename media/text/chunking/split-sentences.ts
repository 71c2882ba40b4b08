/**
 * Sentence boundaries from ICU (`Intl.Segmenter`, Unicode UAX #29) with two corrections:
 * ICU ends a sentence after English abbreviations followed by a capital ("Dr. Kim",
 * "e.g. The"), which we undo, and it does not end one at the Chinese full-width semicolon
 * (；), which we add. ICU already handles Korean (다. 요. ? !), Japanese and Chinese
 * terminators (。！？), decimals (3.14) and line breaks.
 */
import { segmentRange } from './segments';

/** A half-open range of UTF-16 offsets into a text. */
export interface TextSpan {
  start: number;
  end: number;
}

// Abbreviations normally followed by a capitalised word, and single initials (J. R. R.).
// "No.", "Fig.", "Vol." are left out: ICU already keeps them when a number follows.
const ABBREVIATION_AT_END =
  /[\s("'[](?:Mr|Mrs|Ms|Mx|Dr|Prof|Sr|Jr|St|Mt|Gen|Col|Lt|Sgt|Capt|Rev|Hon|Gov|Sen|Rep|Pres|vs|cf|viz|approx|e\.g|i\.e|E\.g|I\.e|U\.S|U\.K|[A-Z])\.$/;
const FULL_WIDTH_SEMICOLON = /；[ \t\u3000]*/g;

/**
 * Splits `text` into sentence spans that tile it (each sentence keeps its trailing
 * whitespace; the spans cover every offset exactly once). Empty text gives no spans.
 */
export function splitSentences(text: string, locale?: string): TextSpan[] {
  const spans: TextSpan[] = [];
  for (const { start, end } of segmentRange(text, 0, text.length, 'sentence', locale)) {
    const previous = spans[spans.length - 1];
    if (previous !== undefined && endsWithAbbreviation(text, previous)) {
      previous.end = end;
    } else {
      spans.push({ start, end });
    }
  }
  if (!text.includes('；')) return spans;
  return spans.flatMap((span) => splitAfter(text, span, FULL_WIDTH_SEMICOLON));
}

/** True when `span` ends with an abbreviation and spaces (not a line break). */
function endsWithAbbreviation(text: string, span: TextSpan): boolean {
  let end = span.end;
  while (end > span.start && isBlank(text.charCodeAt(end - 1))) end -= 1;
  // Every abbreviation ends with a full stop.
  if (end === span.end || text.charCodeAt(end - 1) !== 0x2e) return false;
  const from = Math.max(span.start, end - 8);
  const before = from > span.start ? (text[from - 1] ?? ' ') : ' ';
  return ABBREVIATION_AT_END.test(before + text.slice(from, end));
}

/** Space, tab or no-break space (`[ \t\u00A0]`). */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0xa0;
}

/** Cuts `span` after each match of `pattern` (a global regex) that is not at its end. */
export function splitAfter(text: string, span: TextSpan, pattern: RegExp): TextSpan[] {
  const pieces: TextSpan[] = [];
  let start = span.start;
  for (const match of text.slice(span.start, span.end).matchAll(pattern)) {
    const cut = span.start + match.index + match[0].length;
    if (cut > start && cut < span.end) {
      pieces.push({ start, end: cut });
      start = cut;
    }
  }
  pieces.push({ start, end: span.end });
  return pieces;
}
