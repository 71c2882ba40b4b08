/**
 * What a crash run did to paid model calls, from three records that do not depend on the
 * product's own bookkeeping: the provider fake's call log (every request with a stable identity,
 * when it arrived and when its full answer was sent), the items of the model-result store, and
 * the moments the test killed a process.
 *
 * - A **repeat** is a call whose request identity was seen before.
 * - A **repeat of a stored answer** is a repeat made after an earlier call of the same request
 *   had its answer in the store: the product promises there are none.
 * - The **window** is the calls whose full answer was sent but never stored, each with the next
 *   worker kill after its answer: the remaining at-least-once window, and its gap (answer sent →
 *   kill). A call whose answer was not stored because another call of the same request stored
 *   its answer first (two executions at once, e.g. a task handed out again after a server
 *   restart while the first still ran) is `superseded`, not in the window. An answered call
 *   that was never stored, whose request has no stored answer, and has no worker kill after it
 *   is `lostWithoutKill` (the store lost an answer with no crash to explain it).
 */
import type { LoggedCall } from '../fakes/bedrock-converse-server';

export interface StoredAnswer {
  callKey: string;
  /** The fake's request id named in the stored answer's text, when it names one. */
  requestId?: string;
  /** When the worker began to store it (`storedAt` of the item), ms since the epoch. */
  storedAtMs: number;
}

export interface Kill {
  kind: 'worker' | 'server';
  at: number;
}

export interface WindowCall {
  requestId: string;
  kind: LoggedCall['kind'];
  answeredAt: number;
  killAt: number;
  gapMs: number;
}

export interface CrashAnalysis {
  /** Requests the provider received. */
  providerCalls: number;
  /** Calls whose full answer was sent (what the provider bills). */
  answeredCalls: number;
  storedAnswers: number;
  /** Calls whose request identity was seen before. */
  repeats: number;
  repeatsOfStored: { requestId: string; earlier: string }[];
  window: WindowCall[];
  /**
   * Calls whose answer the fake sent after the worker that asked was killed (its connection
   * not yet seen closed): nobody received these answers.
   */
  answeredAfterKill: string[];
  /**
   * Answer sent → store write begun (`storedAt`), over the stored answers: how long an answer
   * takes to reach the product's first line of code after it (network, SDK, event loop).
   */
  storeLagMs: { p50: number; p95: number; max: number };
  /** Answered calls not stored because another call of the same request stored first. */
  superseded: string[];
  lostWithoutKill: string[];
  maxGapMs: number;
}

/** Matches the request id (`fake-<n>`) the crash test's scripted answers carry. */
export const REQUEST_ID_PATTERN = /\bfake-\d+\b/;

export function analyseCrashRun(
  log: readonly LoggedCall[],
  stored: readonly StoredAnswer[],
  kills: readonly Kill[],
): CrashAnalysis {
  const storedBy = new Map<string, StoredAnswer>();
  for (const answer of stored) if (answer.requestId) storedBy.set(answer.requestId, answer);
  const workerKills = kills
    .filter((kill) => kill.kind === 'worker')
    .map((kill) => kill.at)
    .sort((a, b) => a - b);

  const seen = new Map<string, LoggedCall[]>();
  let repeats = 0;
  const repeatsOfStored: CrashAnalysis['repeatsOfStored'] = [];
  for (const call of [...log].sort((a, b) => a.receivedAt - b.receivedAt)) {
    const earlier = seen.get(call.identity) ?? [];
    if (earlier.length > 0) repeats += 1;
    const storedEarlier = earlier.find((previous) => {
      const answer = storedBy.get(previous.requestId);
      return answer !== undefined && answer.storedAtMs < call.receivedAt;
    });
    if (storedEarlier)
      repeatsOfStored.push({ requestId: call.requestId, earlier: storedEarlier.requestId });
    seen.set(call.identity, [...earlier, call]);
  }

  const storedCalls = log.filter((call) => storedBy.has(call.requestId));
  const window: WindowCall[] = [];
  const superseded: string[] = [];
  const lostWithoutKill: string[] = [];
  const answeredAfterKill: string[] = [];
  for (const call of log) {
    if (call.answeredAt === undefined || storedBy.has(call.requestId)) continue;
    // Another call of the same request, already under way when this answer came, stored first.
    const answeredAt = call.answeredAt;
    if (
      storedCalls.some((other) => other.identity === call.identity && other.receivedAt < answeredAt)
    ) {
      superseded.push(call.requestId);
      continue;
    }
    // The first worker kill after the call was made: the worker that made it died there.
    const killAt = workerKills.find((at) => at >= call.receivedAt);
    if (killAt === undefined) lostWithoutKill.push(call.requestId);
    else if (killAt < answeredAt) answeredAfterKill.push(call.requestId);
    else
      window.push({
        requestId: call.requestId,
        kind: call.kind,
        answeredAt: call.answeredAt,
        killAt,
        gapMs: killAt - call.answeredAt,
      });
  }
  return {
    providerCalls: log.length,
    answeredCalls: log.filter((call) => call.answeredAt !== undefined).length,
    storedAnswers: stored.length,
    repeats,
    repeatsOfStored,
    window,
    superseded,
    answeredAfterKill,
    storeLagMs: percentiles(
      log.flatMap((call) => {
        const answer = storedBy.get(call.requestId);
        return answer && call.answeredAt !== undefined ? [answer.storedAtMs - call.answeredAt] : [];
      }),
    ),
    lostWithoutKill,
    maxGapMs: window.reduce((max, call) => Math.max(max, call.gapMs), 0),
  };
}

function percentiles(values: number[]): CrashAnalysis['storeLagMs'] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number): number =>
    sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1] ?? 0 };
}
