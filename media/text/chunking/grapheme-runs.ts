/**
 * The last resort for text with no sentence, clause or word boundary inside the budget:
 * searches over grapheme-cluster boundaries with exact counts.
 */
import { measure, type ChunkContext, type CountedSpan } from './chunk-context';
import { codePointSpans } from './finer-spans';
import { graphemeBoundaryAfter, graphemeBoundaryAtOrBefore } from './segments';
import type { TextSpan } from './split-sentences';

/**
 * Cuts `span` (over the budget, with no finer natural boundary) into runs of grapheme
 * clusters. Runs are sized to `maxTokens - overlapTokens`, leaving room for the overlap.
 * Each run's end is found from the token density seen so far: extrapolated while under
 * the budget, then bisected, on exact counts; a run within 1/16 of the budget is accepted.
 * A cluster over `maxTokens` is cut into code points; a code point over it is an error.
 */
export function packGraphemes(
  context: ChunkContext,
  span: TextSpan,
  tokensPerUnit: number,
): CountedSpan[] {
  const { text } = context;
  const budget = context.maxTokens - context.overlapTokens;
  // `from` is always a grapheme boundary: the anchor for finding the next ones.
  let from = span.start;
  const before = (position: number) => graphemeBoundaryAtOrBefore(text, position, from, span.end);
  const after = (position: number) => graphemeBoundaryAfter(text, position, from, span.end);
  const closeEnough = (run: CountedSpan | undefined) =>
    run !== undefined && run.tokens * 16 >= budget * 15;
  const units: CountedSpan[] = [];
  let unitsPerToken = 1 / Math.max(tokensPerUnit, 1e-6);
  while (from < span.end) {
    const firstEnd = after(from);
    let good: CountedSpan | undefined;
    let goodEnd = from;
    let badEnd: number | undefined;
    let probe = Math.max(firstEnd, before(from + Math.floor(budget * unitsPerToken * 0.95)));
    for (;;) {
      const run = measure(context, { start: from, end: probe });
      if (run.tokens > budget) {
        badEnd = probe;
        break;
      }
      good = run;
      goodEnd = probe;
      if (probe >= span.end || closeEnough(good)) break;
      const length = probe - from;
      const scaled = Math.floor((length * budget) / Math.max(1, run.tokens));
      probe = Math.max(after(probe), before(from + Math.min(scaled, length * 4)));
    }
    while (badEnd !== undefined && !closeEnough(good)) {
      let middle = before(Math.floor((goodEnd + badEnd) / 2));
      if (middle <= goodEnd) middle = after(goodEnd);
      if (middle >= badEnd) break;
      const run = measure(context, { start: from, end: middle });
      if (run.tokens <= budget) {
        good = run;
        goodEnd = middle;
      } else {
        badEnd = middle;
      }
    }
    if (good === undefined) {
      const cluster = measure(context, { start: from, end: firstEnd });
      if (cluster.tokens <= context.maxTokens)
        units.push({ start: from, end: firstEnd, tokens: cluster.tokens });
      else units.push(...fitCodePoints(context, { start: from, end: firstEnd }));
      from = firstEnd;
      continue;
    }
    units.push({ start: from, end: goodEnd, tokens: good.tokens });
    unitsPerToken = (goodEnd - from) / Math.max(1, good.tokens);
    from = goodEnd;
  }
  return units;
}

function fitCodePoints(context: ChunkContext, grapheme: TextSpan): CountedSpan[] {
  return codePointSpans(context.text, grapheme).map((codePoint) => {
    const tokens = measure(context, codePoint).tokens;
    if (tokens > context.maxTokens) {
      throw new RangeError(
        `maxTokens ${context.maxTokens} is below the ${tokens} tokens of one character`,
      );
    }
    return { ...codePoint, tokens };
  });
}

/**
 * A grapheme boundary in `span`, after `notAt`, whose suffix fits `limit` and is within
 * 1/8 of the longest that does: suffix lengths double from `limit` code units until one
 * is over, then bisect.
 */
export function fittingSuffix(
  context: ChunkContext,
  span: TextSpan,
  notAt: number,
  limit: number,
): number | undefined {
  const lower = Math.max(span.start, notAt + 1);
  if (lower >= span.end) return undefined;
  const fits = (start: number) => measure(context, { start, end: span.end }).tokens <= limit;
  const after = (position: number) =>
    graphemeBoundaryAfter(context.text, position, span.start, span.end);
  const at = (position: number) => {
    let boundary = graphemeBoundaryAtOrBefore(
      context.text,
      Math.max(lower, position),
      span.start,
      span.end,
    );
    while (boundary < lower) boundary = after(boundary);
    return boundary;
  };
  let good: number | undefined;
  let bad: number | undefined;
  for (let distance = Math.max(1, limit); ; distance *= 2) {
    const start = at(span.end - distance);
    if (start >= span.end || start === good) break;
    if (!fits(start)) {
      bad = start;
      break;
    }
    good = start;
    if (start <= lower) break;
  }
  if (good === undefined || bad === undefined) return good;
  // Bisect until the suffix is within 1/8 of the longest that fits.
  while (good - bad > (span.end - good) / 8) {
    let middle = at(Math.floor((bad + good) / 2));
    if (middle <= bad) middle = after(bad);
    if (middle >= good) return good;
    if (fits(middle)) good = middle;
    else bad = middle;
  }
  return good;
}
