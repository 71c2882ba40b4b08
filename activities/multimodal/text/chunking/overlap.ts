/** The overlap between neighbouring chunks, measured in tokens. */
import { measure, type ChunkContext, type CountedSpan } from './chunk-context';
import { wordSpans } from './finer-spans';
import { fittingSuffix } from './grapheme-runs';
import type { TextSpan } from './split-sentences';

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
    const words = wordSpans(context.text, clipped, context.locale);
    for (let word = words.length - 1; word >= 0; word -= 1) {
      const span = words[word]!;
      if (span.start <= previous.start) break;
      const tokens = measure(context, span).tokens;
      if (tokens > remaining) break;
      starts.push(span.start);
      remaining -= tokens;
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
