/**
 * Units: the pieces chunks are packed from. Sentences, and for a sentence over the budget
 * its clauses, words or grapheme runs; every unit fits the budget alone.
 */
import { countSplitTest } from '../../../models/tokens/openai-token-counter';
import { measure, trimSpan, type ChunkContext, type CountedSpan } from './chunk-context';
import { clauseSpans, wordSpans } from './finer-spans';
import { packGraphemes } from './grapheme-runs';
import { RangeCounts } from './range-counts';
import { splitSentences, type TextSpan } from './split-sentences';

/**
 * Spans longer than this many code units per budget token are taken to be over the budget
 * without counting them (cutting them finer is harmless: units are packed back together).
 */
const SURELY_OVER_RATIO = 32;
/** Code units counted to estimate the token density of a span that was not counted. */
const DENSITY_SAMPLE = 4096;

/** Units tiling `span`, each within the budget; `level` 0 = clauses, 1 = words, 2 = graphemes. */
function fitSpan(context: ChunkContext, span: TextSpan, level: number): CountedSpan[] {
  const length = span.end - span.start;
  let density: number | undefined;
  if (length <= context.maxTokens * SURELY_OVER_RATIO) {
    const tokens = measure(context, span).tokens;
    if (tokens <= context.maxTokens) return [{ ...span, tokens }];
    density = tokens / length;
  }
  if (level <= 0) {
    const clauses = clauseSpans(context.text, span);
    if (clauses.length > 1) return clauses.flatMap((clause) => fitSpan(context, clause, 1));
  }
  if (level <= 1) {
    const words = wordSpans(context.text, span, context.locale);
    if (words.length > 1) return words.flatMap((word) => fitSpan(context, word, 2));
  }
  if (density === undefined) {
    const sample = { start: span.start, end: Math.min(span.end, span.start + DENSITY_SAMPLE) };
    density = measure(context, sample).tokens / (sample.end - sample.start);
  }
  return packGraphemes(context, span, density);
}

/**
 * The units of `text`: sentences, cut finer where one is over the budget. Sets
 * `context.ranges` when the counter's counts split exactly, so that units and chunks are
 * counted from pieces counted once (see range-counts).
 */
export function buildUnits(context: ChunkContext): CountedSpan[] {
  const sentences = splitSentences(context.text, context.locale);
  const splits = countSplitTest(context.counter);
  context.ranges = undefined;
  if (splits !== undefined) {
    const ranges = new RangeCounts(context.text, context.counter, splits);
    const longest = context.maxTokens * SURELY_OVER_RATIO;
    for (const sentence of sentences) {
      const { start, end } = trimSpan(context.text, sentence);
      if (end > start && end - start <= longest) ranges.addSentence(start, end);
    }
    context.ranges = ranges;
  }
  const units: CountedSpan[] = [];
  for (const sentence of sentences) {
    const fitted = fitSpan(context, sentence, 0);
    if (fitted.length === 1) units.push(fitted[0]!);
    else for (const unit of fitted) units.push(unit);
  }
  return units;
}
