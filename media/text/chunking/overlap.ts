/** The overlap between neighbouring chunks, measured in tokens. */
import { measure, type ChunkContext, type CountedSpan } from './chunk-context';
import { wordSpans } from './finer-spans';
import { fittingSuffix } from './grapheme-runs';
import type { TextSpan } from './split-sentences';

/** Characters of a unit's end segmented into words per token of budget left (plus slack). */
const WINDOW_CHARS_PER_TOKEN = 4;
const WINDOW_SLACK = 16;

/**
 * Pushes the starts of `words[from..]` taken from the end while each word's count fits what
 * is left of `remaining` (and the word starts after `floor`); returns what is left, or
 * undefined when every word from `from` on was taken (the caller may need earlier words).
 */
function takeWords(
  context: ChunkContext,
  words: readonly TextSpan[],
  from: number,
  floor: number,
  remaining: number,
  starts: number[],
): number | undefined {
  let left = remaining;
  for (let word = words.length - 1; word >= from; word -= 1) {
    const span = words[word]!;
    if (span.start <= floor) return left;
    const tokens = measure(context, span).tokens;
    if (tokens > left) return left;
    starts.push(span.start);
    left -= tokens;
  }
  return from === 0 ? left : undefined;
}

export interface Overlap {
  start: number;
  tokens: number;
}

/**
 * Where the next chunk starts so that it repeats at most `limit` tokens of `previous`
 * (exact count): whole units from its end, then words, then grapheme clusters of the unit
 * before them. Never the whole previous chunk. Undefined when nothing fits.
 */
export function overlapFor(
  context: ChunkContext,
  units: readonly CountedSpan[],
  previous: TextSpan,
  lastUnit: number,
  limit: number,
): Overlap | undefined {
  if (limit <= 0) return undefined;
  const starts: number[] = [];
  let remaining = limit;
  for (let index = lastUnit; index >= 0; index -= 1) {
    const unit = units[index]!;
    if (unit.end <= previous.start) break;
    if (unit.tokens === 0) continue;
    if (unit.start > previous.start && unit.tokens <= remaining) {
      starts.push(unit.start);
      remaining -= unit.tokens;
      continue;
    }
    const clipped = {
      start: Math.max(unit.start, previous.start),
      end: Math.min(unit.end, previous.end),
    };
    // Words are only needed from the end until `remaining` runs out: segment a window at the
    // end first (its first word may be cut, so it is not taken), all of `clipped` if every
    // other word of the window fits.
    const before = starts.length;
    const windowStart = clipped.end - (remaining * WINDOW_CHARS_PER_TOKEN + WINDOW_SLACK);
    let words: TextSpan[] | undefined;
    if (windowStart > clipped.start) {
      words = wordSpans(context.text, { start: windowStart, end: clipped.end }, context.locale);
      const left = takeWords(context, words, 1, previous.start, remaining, starts);
      if (left === undefined) {
        starts.length = before;
        words = undefined;
      } else {
        remaining = left;
      }
    }
    if (words === undefined) {
      words = wordSpans(context.text, clipped, context.locale);
      remaining = takeWords(context, words, 0, previous.start, remaining, starts) ?? remaining;
    }
    if (starts.length === 0) {
      const lastWord = words[words.length - 1];
      if (lastWord !== undefined) {
        const suffix = fittingSuffix(context, lastWord, previous.start, remaining);
        if (suffix !== undefined) starts.push(suffix);
      }
    }
    break;
  }
  while (starts.length > 0) {
    const candidate = measure(context, { start: starts[starts.length - 1]!, end: previous.end });
    if (candidate.tokens <= limit) return { start: candidate.start, tokens: candidate.tokens };
    starts.pop();
  }
  return undefined;
}
