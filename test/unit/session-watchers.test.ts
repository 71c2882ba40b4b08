/**
 * Followers of a session share one status poller: 50 followers cost the reads of one, a change
 * reaches every follower, the poller stops with its last follower or once the session closed,
 * and a failed read ends every follower's stream with the error. Change notices wake the poller
 * (bounded reads, retries while the change is not visible, polling again when it never shows).
 */
import type { SessionStatus } from '../../core/session';
import {
  NOTICE_READS,
  NOTICE_READ_GAP_MS,
  SessionWatchers,
  type SessionSnapshot,
  type SnapshotListener,
} from '../../api/sessions/session-watchers';

const snapshot = (version: number, closed = false): SessionSnapshot => ({
  status: { version, phase: 'awaiting_approval' } as SessionStatus,
  closed,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('50 followers share one poller; a change reaches all of them; it stops with the last', async () => {
  const watchers = new SessionWatchers(20);
  let version = 1;
  const read = jest.fn(async () => snapshot(version));
  const heard: SessionSnapshot[][] = [];
  const unsubscribes = Array.from({ length: 50 }, (_, index) => {
    heard[index] = [];
    const listener: SnapshotListener = (next) => {
      if (!('error' in next)) heard[index]!.push(next);
    };
    return watchers.subscribe('acme/s1', snapshot(1), read, listener);
  });
  await sleep(110);
  // About one read per interval for all 50 together, and nothing heard while nothing changed.
  expect(read.mock.calls.length).toBeGreaterThanOrEqual(2);
  expect(read.mock.calls.length).toBeLessThanOrEqual(7);
  expect(heard.every((list) => list.length === 0)).toBe(true);

  version = 2;
  await sleep(60);
  expect(heard.map((list) => list.map((entry) => entry.status.version))).toEqual(
    heard.map(() => [2]),
  );
  expect(watchers.size).toBe(1);
  for (const unsubscribe of unsubscribes) unsubscribe();
  expect(watchers.size).toBe(0);
  const reads = read.mock.calls.length;
  await sleep(60);
  expect(read.mock.calls.length).toBe(reads);
});

test('a follower that joins late with an older snapshot gets the newest at once', async () => {
  const watchers = new SessionWatchers(10);
  let version = 1;
  const read = async () => snapshot(version);
  const first: number[] = [];
  const unsubscribe = watchers.subscribe('acme/s2', snapshot(1), read, (next) => {
    if (!('error' in next)) first.push(next.status.version);
  });
  version = 3;
  await sleep(40);
  const late: number[] = [];
  const unsubscribeLate = watchers.subscribe('acme/s2', snapshot(2), read, (next) => {
    if (!('error' in next)) late.push(next.status.version);
  });
  await sleep(5);
  expect(first).toEqual([3]);
  expect(late).toEqual([3]);
  unsubscribe();
  unsubscribeLate();
});

test('closing ends the poller; a failed read reaches every follower and ends it too', async () => {
  const watchers = new SessionWatchers(10);
  let closed = false;
  const heard: boolean[] = [];
  watchers.subscribe(
    'acme/s3',
    snapshot(1),
    async () => snapshot(closed ? 2 : 1, closed),
    (next) => heard.push(!('error' in next) && next.closed),
  );
  closed = true;
  await sleep(40);
  expect(heard).toEqual([true]);
  expect(watchers.size).toBe(0);

  const errors: unknown[] = [];
  const failing = async (): Promise<SessionSnapshot> => {
    throw new Error('Temporal unreachable');
  };
  for (let index = 0; index < 3; index += 1) {
    watchers.subscribe('acme/s4', snapshot(1), failing, (next) => {
      if ('error' in next) errors.push(next.error);
    });
  }
  await sleep(40);
  expect(errors).toHaveLength(3);
  expect(watchers.size).toBe(0);
});

test('followers connecting at once share one first read, per tenant; an error is shared the same way', async () => {
  const watchers = new SessionWatchers(1_000);
  let release: (value: SessionSnapshot) => void = () => undefined;
  const read = jest.fn(() => new Promise<SessionSnapshot>((resolve) => (release = resolve)));
  const firsts = Array.from({ length: 500 }, () => watchers.first('acme/s1', read));
  // Another tenant's follower of the same session id reads for itself.
  const otherTenant = jest.fn(async () => snapshot(9));
  const other = watchers.first('globex/s1', otherTenant);
  release(snapshot(3));
  const answers = await Promise.all(firsts);
  expect(read).toHaveBeenCalledTimes(1);
  expect(new Set(answers.map((answer) => answer.status.version))).toEqual(new Set([3]));
  expect((await other).status.version).toBe(9);
  expect(otherTenant).toHaveBeenCalledTimes(1);

  // Once answered, the next follower reads again (no stale cache), and a failure reaches every
  // follower waiting on that read.
  const failing = jest.fn(async () => {
    await sleep(5);
    throw new Error('no worker answered');
  });
  const waiting = [watchers.first('acme/s1', failing), watchers.first('acme/s1', failing)];
  for (const attempt of waiting) await expect(attempt).rejects.toThrow('no worker answered');
  expect(failing).toHaveBeenCalledTimes(1);
  const again = jest.fn(async () => snapshot(4));
  expect((await watchers.first('acme/s1', again)).status.version).toBe(4);
  expect(again).toHaveBeenCalledTimes(1);
});

/** A follower of `key` on `watchers` whose reads answer `version()`; what it heard and when. */
function follower(watchers: SessionWatchers, key: string, version: () => number) {
  const reads: number[] = [];
  const heard: number[] = [];
  const read = async () => {
    reads.push(performance.now());
    return snapshot(version());
  };
  const unsubscribe = watchers.subscribe(key, snapshot(1), read, (next) => {
    if (!('error' in next)) heard.push(next.status.version);
  });
  return { reads, heard, unsubscribe };
}

test('a change notice makes the poller read at once, long before its next poll', async () => {
  const watchers = new SessionWatchers(60_000);
  let version = 1;
  const one = follower(watchers, 'acme/s1', () => version);
  const other = follower(watchers, 'globex/s1', () => 7);
  await sleep(20);
  expect(one.reads).toHaveLength(0);
  // Nothing to do: a version the followers already have, a session nobody here follows.
  watchers.notify('acme/s1', 1);
  watchers.notify('acme/elsewhere', 5);
  await sleep(20);
  expect(one.reads).toHaveLength(0);
  expect(watchers.wakeups).toBe(0);

  version = 2;
  const noticedAt = performance.now();
  watchers.notify('acme/s1', 2);
  await sleep(20);
  expect(one.heard).toEqual([2]);
  expect(one.reads).toHaveLength(1);
  expect(one.reads[0]! - noticedAt).toBeLessThan(15);
  // Another tenant's session with the same id is another key: not read.
  expect(other.reads).toHaveLength(0);
  expect(other.heard).toEqual([]);
  one.unsubscribe();
  other.unsubscribe();
});

test('a noticed version not yet visible is read again, reads at least the gap apart', async () => {
  const watchers = new SessionWatchers(60_000);
  let version = 1;
  const one = follower(watchers, 'acme/s2', () => version);
  watchers.notify('acme/s2', 2);
  await sleep(NOTICE_READ_GAP_MS * 2 + 20);
  expect(one.heard).toEqual([]);
  expect(one.reads.length).toBeGreaterThanOrEqual(2);
  version = 2;
  await sleep(NOTICE_READ_GAP_MS + 30);
  expect(one.heard).toEqual([2]);
  const gaps = one.reads.slice(1).map((at, index) => at - one.reads[index]!);
  for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(NOTICE_READ_GAP_MS - 2);
  // Confirmed: back to the interval, no more reads.
  const reads = one.reads.length;
  await sleep(NOTICE_READ_GAP_MS * 3);
  expect(one.reads).toHaveLength(reads);
  one.unsubscribe();
});

test('a notice that never shows costs a bounded number of reads, then polling resumes', async () => {
  const watchers = new SessionWatchers(60_000);
  const one = follower(watchers, 'acme/s3', () => 1);
  watchers.notify('acme/s3', 9);
  await sleep(NOTICE_READ_GAP_MS * (NOTICE_READS + 3));
  expect(one.reads).toHaveLength(NOTICE_READS);
  expect(one.heard).toEqual([]);
  one.unsubscribe();
});

test('a storm of notices is read at most once per gap', async () => {
  const watchers = new SessionWatchers(60_000);
  let version = 1;
  const one = follower(watchers, 'acme/s4', () => version);
  const started = performance.now();
  while (performance.now() - started < NOTICE_READ_GAP_MS * 4) {
    version += 1;
    watchers.notify('acme/s4', version);
    await sleep(2);
  }
  await sleep(NOTICE_READ_GAP_MS + 20);
  expect(one.reads.length).toBeLessThanOrEqual(6);
  expect(one.heard.at(-1)).toBe(version);
  one.unsubscribe();
});

test('while notices arrive the poll slows down to their interval; without them it is fast again', async () => {
  let active = true;
  const watchers = new SessionWatchers(10, { intervalMs: 200, active: () => active });
  const one = follower(watchers, 'acme/s5', () => 1);
  await sleep(150);
  expect(one.reads).toHaveLength(0);
  await sleep(150);
  expect(one.reads).toHaveLength(1);
  active = false;
  await sleep(400);
  // At most one more long wait, then every 10 ms.
  expect(one.reads.length).toBeGreaterThanOrEqual(5);
  one.unsubscribe();
});
