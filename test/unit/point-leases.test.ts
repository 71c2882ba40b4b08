/**
 * Points reserved ahead (api/quotas/point-leases.ts): the batch follows what is left, points
 * of a window that ended are never spent, and parallel reservations of one window add up.
 */
import { PointLeases } from '../../api/quotas/point-leases';

function leases() {
  let now = 1_000_000;
  const pool = new PointLeases({ maxBatch: 10, share: 20, now: () => now });
  return { pool, advance: (ms: number) => (now += ms) };
}

test('the first request of a window reserves one point; then batches shrink with what is left', () => {
  const { pool } = leases();
  expect(pool.batchSize('t')).toBe(1);
  pool.granted('t', 1, 5_000, 60_000);
  expect(pool.batchSize('t')).toBe(10);
  pool.granted('t', 1, 100, 60_000);
  expect(pool.batchSize('t')).toBe(5);
  pool.granted('t', 1, 39, 60_000);
  expect(pool.batchSize('t')).toBe(1);
});

test('reserved points are spent one by one, and report what the window has left', () => {
  const { pool } = leases();
  pool.granted('t', 10, 990, 60_000);
  const taken = Array.from({ length: 10 }, () => pool.take('t')?.remaining);
  expect(taken).toEqual([998, 997, 996, 995, 994, 993, 992, 991, 990, undefined]);
});

test('points of a window that ended are void', () => {
  const { pool, advance } = leases();
  pool.granted('t', 10, 990, 1_000);
  expect(pool.take('t')).toBeDefined();
  advance(1_001);
  expect(pool.take('t')).toBeUndefined();
  expect(pool.batchSize('t')).toBe(1);
  // A reservation in the next window does not inherit them.
  pool.granted('t', 2, 500, 60_000);
  expect(pool.take('t')?.remaining).toBe(500);
  expect(pool.take('t')).toBeUndefined();
});

test('parallel reservations of one window add up', () => {
  const { pool } = leases();
  pool.granted('t', 10, 900, 60_000);
  pool.granted('t', 10, 890, 59_990);
  let count = 0;
  while (pool.take('t')) count += 1;
  expect(count).toBe(18);
  expect(pool.take('other')).toBeUndefined();
});

test('after a refusal, points held are still spent, and reservations are one point', () => {
  const { pool } = leases();
  pool.granted('t', 10, 800, 59_000);
  pool.refused('t');
  expect(pool.batchSize('t')).toBe(1);
  let count = 0;
  while (pool.take('t')) count += 1;
  expect(count).toBe(9);
});
