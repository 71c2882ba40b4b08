/**
 * Pooled ULIDs (runtime/ulids.ts): valid, unique across many refills of the pool, ordered by
 * their time part, and with random characters spread evenly over the 32 of the alphabet.
 */
import { decodeTime } from 'ulid';
import { isSessionId, newSessionId } from '../../runtime/session-ids';
import { newUlid } from '../../runtime/ulids';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

test('ids are valid, unique across pool refills, and carry the time they were made', () => {
  const before = Date.now();
  const ids = Array.from({ length: 20_000 }, () => newUlid());
  const after = Date.now();
  expect(new Set(ids).size).toBe(ids.length);
  const wrong = ids.filter((id) => {
    const time = decodeTime(id);
    return !/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id) || time < before || time > after;
  });
  expect(wrong).toEqual([]);
  expect(isSessionId(newSessionId())).toBe(true);
});

test('random characters cover the alphabet evenly', () => {
  const counts = new Map<string, number>();
  const ids = 20_000;
  for (let index = 0; index < ids; index += 1) {
    for (const char of newUlid().slice(10)) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  expect([...counts.keys()].sort().join('')).toBe(ALPHABET);
  const expected = (ids * 16) / 32;
  for (const count of counts.values()) {
    // 10,000 draws per character: ±5% is over 5 standard deviations.
    expect(Math.abs(count - expected) / expected).toBeLessThan(0.05);
  }
});
