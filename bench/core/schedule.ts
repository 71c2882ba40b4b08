/**
 * How the runs of both sides are ordered and driven: alternation against drift, and a closed
 * loop with a fixed number of requests in flight.
 */

export type Side = 'ours' | 'baseline';

/**
 * The order of the two sides in iteration `iteration`: ours first on even iterations, the
 * baseline first on odd ones (A B, B A, A B, ...), so slow drift of the machine hits both.
 */
export function sidesInOrder(iteration: number): readonly Side[] {
  return iteration % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours'];
}

/**
 * Runs `task` `total` times with exactly `concurrency` calls in flight (fewer only at the
 * end) and resolves with the wall-clock time of the whole batch. Rejects on the first failure.
 */
export async function runClosedLoop(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<{ elapsedMs: number }> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return { elapsedMs: performance.now() - started };
}

/** Milliseconds `action` took. */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}
