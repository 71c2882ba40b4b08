/**
 * Exact token counts of ranges of one text, reusing what was counted before.
 *
 * With an exact OpenAI counter, some positions split counts exactly (`splitsCountsAt`:
 * count(a, b) = count(a, p) + count(p, b) for every a < p < b). A few such positions near
 * both ends of each sentence are kept as cuts; the text between neighbouring cuts is counted
 * once and summed. A range holding two or more cuts is then counted as its head (start to
 * first cut), the stored counts between its first and last cut, and its tail (last cut to
 * end); heads and tails are a word or so and are memoised by their text. Ranges with fewer
 * cuts are counted directly. Every count is the counter's exact count of the range's text.
 */
import type { TokenCounter } from '../../../models/tokens/token-counter';

/** Texts up to this many code units are memoised (heads, tails, words). */
const MEMO_LENGTH = 32;
/** How far into a sentence (in code units) to look for a cut. */
const CUT_SEARCH = 64;

export class RangeCounts {
  private readonly cuts: number[] = [];
  /** prefix[k] = tokens of text[cuts[0], cuts[k]), filled on demand. */
  private readonly prefix: number[] = [0];
  private readonly memo = new Map<string, number>();

  constructor(
    private readonly text: string,
    private readonly counter: TokenCounter,
    private readonly splits: (text: string, position: number) => boolean,
  ) {}

  /**
   * Adds cuts for the trimmed sentence [start, end): the first split position after its
   * start and the last at or before its end. Sentences must come in text order.
   */
  addSentence(start: number, end: number): void {
    const { text, splits, cuts } = this;
    const last = cuts.length > 0 ? cuts[cuts.length - 1]! : -1;
    let first = -1;
    for (let position = Math.max(start + 1, last + 1); position <= end; position += 1) {
      if (position - start > CUT_SEARCH) break;
      if (splits(text, position)) {
        first = position;
        break;
      }
    }
    if (first >= 0) cuts.push(first);
    const floor = Math.max(first, last, start);
    for (let position = end; position > floor; position -= 1) {
      if (end - position > CUT_SEARCH) break;
      if (splits(text, position)) {
        cuts.push(position);
        break;
      }
    }
  }

  /** Exact tokens of `text[start, end)` (start ≤ end). */
  count(start: number, end: number): number {
    if (end <= start) return 0;
    const { cuts } = this;
    const from = lowerBound(cuts, start);
    const to = lowerBound(cuts, end + 1) - 1;
    if (to - from < 1) return this.direct(start, end);
    this.fill(to);
    const first = cuts[from]!;
    const last = cuts[to]!;
    return (
      this.direct(start, first) + this.prefix[to]! - this.prefix[from]! + this.direct(last, end)
    );
  }

  /** The counter's count of `text[start, end)`, memoised for short texts. */
  direct(start: number, end: number): number {
    if (end <= start) return 0;
    const piece = this.text.slice(start, end);
    if (piece.length > MEMO_LENGTH) return this.counter.count(piece);
    let tokens = this.memo.get(piece);
    if (tokens === undefined) {
      tokens = this.counter.count(piece);
      this.memo.set(piece, tokens);
    }
    return tokens;
  }

  private fill(index: number): void {
    const { cuts, prefix } = this;
    for (let next = prefix.length; next <= index; next += 1) {
      prefix.push(prefix[next - 1]! + this.direct(cuts[next - 1]!, cuts[next]!));
    }
  }
}

/** The first index whose value is ≥ `value` (`list` sorted ascending). */
function lowerBound(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (list[middle]! < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
