/**
 * Sentence-aware chunking to a token budget with overlap.
 *
 * The text is cut into units: sentences, and for a sentence over the budget its clauses,
 * words, grapheme clusters (packed as long as they fit) or, for a single cluster over the
 * budget, code points. Units are packed greedily by their summed counts; each chunk is then
 * counted as a whole with the same counter and shrunk if the sum was optimistic (or, when
 * exact counts are cheap, see range-counts, grown while it still fits). The next
 * chunk starts with an overlap: whole sentences from the end of the previous chunk while
 * they fit in `overlapTokens`, then words of the sentence before them (grapheme clusters
 * where there are no words).
 */
import type { TokenCounter } from '../../../models/tokens/token-counter';
import { measure, type ChunkContext, type CountedSpan } from './chunk-context';
import { overlapFor, type Overlap } from './overlap';
import type { TextSpan } from './split-sentences';
import { buildUnits } from './units';

export interface ChunkTextOptions {
  /** Upper bound on `counter.count(chunk.text)` for every chunk. A positive integer. */
  maxTokens: number;
  /** Tokens of the previous chunk's end to repeat at the start of the next. Default 0. */
  overlapTokens?: number;
  counter: TokenCounter;
  /** BCP 47 locale for ICU's sentence and word rules; the default rules suit ko/ja/zh/en. */
  locale?: string;
}

export interface TextChunk {
  index: number;
  /** Exactly `source.slice(start, end)`: whitespace at either end is left out. */
  text: string;
  /** UTF-16 offsets into the chunked text. */
  start: number;
  end: number;
  /** `counter.count(text)`, never above `maxTokens`. */
  tokenCount: number;
  /** `source.slice(start, overlapEnd)` repeats the end of the previous chunk (empty if none). */
  overlapEnd: number;
}

function validate(options: ChunkTextOptions): void {
  const { maxTokens, overlapTokens = 0 } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 1) {
    throw new RangeError(`maxTokens must be a positive integer, got ${maxTokens}`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens) {
    throw new RangeError(
      `overlapTokens must be an integer in [0, maxTokens), got ${overlapTokens}`,
    );
  }
}

/**
 * Splits `text` into chunks of at most `maxTokens` tokens by `counter`, cutting at sentence
 * boundaries where possible, with up to `overlapTokens` tokens repeated between neighbours.
 * Empty or whitespace-only text gives no chunks. Offsets are UTF-16 indices into `text`;
 * surrogate pairs and, unless one alone is over the budget, grapheme clusters stay whole.
 * Throws `RangeError` for invalid options or when one code point is over the budget.
 */
export function chunkText(text: string, options: ChunkTextOptions): TextChunk[] {
  validate(options);
  const overlapTokens = options.overlapTokens ?? 0;
  const context: ChunkContext = {
    text,
    counter: options.counter,
    maxTokens: options.maxTokens,
    overlapTokens,
    locale: options.locale,
  };
  const units = buildUnits(context);
  const chunks: TextChunk[] = [];
  let next = 0;
  let overlap: Overlap | undefined;
  let previous: { span: TextSpan; lastUnit: number } | undefined;
  for (;;) {
    while (next < units.length && units[next]!.tokens === 0) next += 1;
    const firstUnit = units[next];
    if (firstUnit === undefined) break;
    if (overlap !== undefined && previous !== undefined) {
      if (overlap.tokens + firstUnit.tokens > context.maxTokens) {
        const limit = Math.min(overlapTokens, context.maxTokens - firstUnit.tokens);
        overlap = overlapFor(context, units, previous.span, previous.lastUnit, limit);
      }
    }
    let last = next;
    let sum = (overlap?.tokens ?? 0) + firstUnit.tokens;
    while (last + 1 < units.length && sum + units[last + 1]!.tokens <= context.maxTokens) {
      last += 1;
      sum += units[last]!.tokens;
    }
    const start = overlap?.start ?? firstUnit.start;
    let chunk = measure(context, { start, end: units[last]!.end });
    if (chunk.tokens > context.maxTokens) {
      const shrunk = shrink(context, units, start, next, last);
      if (shrunk === undefined) {
        overlap = undefined;
        continue;
      }
      ({ chunk, last } = shrunk);
    } else if (context.ranges !== undefined) {
      // Exact counts are cheap here: take further units while the chunk still fits.
      while (last + 1 < units.length) {
        const longer = measure(context, { start, end: units[last + 1]!.end });
        if (longer.tokens > context.maxTokens) break;
        chunk = longer;
        last += 1;
      }
    }
    const overlapEnd =
      overlap !== undefined && previous !== undefined
        ? Math.min(Math.max(previous.span.end, chunk.start), chunk.end)
        : chunk.start;
    chunks.push({
      index: chunks.length,
      text: text.slice(chunk.start, chunk.end),
      start: chunk.start,
      end: chunk.end,
      tokenCount: chunk.tokens,
      overlapEnd,
    });
    previous = { span: chunk, lastUnit: last };
    next = last + 1;
    overlap =
      overlapTokens > 0 && next < units.length
        ? overlapFor(context, units, chunk, last, overlapTokens)
        : undefined;
  }
  return chunks;
}

/**
 * The longest chunk from `start` ending at a unit in [first, last) that fits, by binary
 * search on exact counts; undefined when not even unit `first` fits after `start` (only
 * possible with an overlap, since every unit fits alone).
 */
function shrink(
  context: ChunkContext,
  units: readonly CountedSpan[],
  start: number,
  first: number,
  last: number,
): { chunk: CountedSpan; last: number } | undefined {
  let good: { chunk: CountedSpan; last: number } | undefined;
  let low = first;
  let high = last - 1;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const chunk = measure(context, { start, end: units[middle]!.end });
    if (chunk.tokens <= context.maxTokens) {
      good = { chunk, last: middle };
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  if (good === undefined && start === units[first]!.start) {
    throw new Error(
      'chunkText: a unit that fitted alone no longer fits (counter not deterministic)',
    );
  }
  return good;
}
