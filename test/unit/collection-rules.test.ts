/**
 * Collection's selection rules (core/collection): what is expired, over its scope's cap, an
 * orphan blob, a session-index row past retention or a usage entry past its retention — and
 * that every rule keeps a row it cannot judge.
 */
import {
  blobReferencesIn,
  blobVerdict,
  describeCollection,
  isMemoryExpired,
  isNoteExpired,
  isSessionRowPastRetention,
  isUsageEntryPastRetention,
  keepScore,
  memoriesOverCap,
  sessionRowExpiresAt,
  usageCutoff,
  type CappedMemory,
  type CollectionReport,
} from '../../core/collection';
import { DEFAULT_RECALL_WEIGHTS } from '../../core/memory';

const NOW = Date.parse('2026-12-07T06:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const sha = (character: string) => character.repeat(64);

describe('memories', () => {
  test('expired at or after expiresAt (epoch seconds); no expiry means kept', () => {
    expect(isMemoryExpired({ expiresAt: NOW / 1000 - 1 }, NOW)).toBe(true);
    expect(isMemoryExpired({ expiresAt: NOW / 1000 }, NOW)).toBe(true);
    expect(isMemoryExpired({ expiresAt: NOW / 1000 + 1 }, NOW)).toBe(false);
    expect(isMemoryExpired({}, NOW)).toBe(false);
  });

  test('a short-term note expires when unused longer than the TTL, or at its own expiry', () => {
    expect(isNoteExpired({ lastUsedAt: iso(NOW - 3601_000) }, 3600, NOW)).toBe(true);
    expect(isNoteExpired({ lastUsedAt: iso(NOW - 3599_000) }, 3600, NOW)).toBe(false);
    expect(isNoteExpired({ lastUsedAt: iso(NOW), expiresAt: NOW / 1000 - 10 }, 3600, NOW)).toBe(
      true,
    );
    expect(isNoteExpired({ lastUsedAt: 'not a time' }, 3600, NOW)).toBe(false);
  });

  const memory = (memoryId: string, overrides: Partial<CappedMemory> = {}): CappedMemory => ({
    tenantId: 'acme',
    memoryId,
    scope: 'user',
    scopeId: 'ada',
    importance: 0.5,
    lastUsedAt: iso(NOW),
    ...overrides,
  });

  test('the keep score is the recall score without similarity: recency and importance', () => {
    const weights = DEFAULT_RECALL_WEIGHTS;
    expect(keepScore(memory('m'), NOW, weights)).toBeCloseTo(0.15 * 1 + 0.15 * 0.5);
    // One half-life later the recency part halves.
    expect(keepScore(memory('m', { lastUsedAt: iso(NOW - 30 * DAY) }), NOW, weights)).toBeCloseTo(
      0.15 * 0.5 + 0.15 * 0.5,
    );
  });

  test('over the cap, the least relevant of each scope go; other scopes and tenants untouched', () => {
    const memories = [
      memory('mem_a', { importance: 0.9 }),
      memory('mem_b', { importance: 0.1, lastUsedAt: iso(NOW - 90 * DAY) }),
      memory('mem_c', { importance: 0.5 }),
      memory('mem_d', { importance: 0.2, lastUsedAt: iso(NOW - 10 * DAY) }),
      // Same scope id in another tenant, and another scope of the same tenant: their own caps.
      memory('mem_e', { tenantId: 'other', importance: 0 }),
      memory('mem_f', { scope: 'project', scopeId: 'billing', importance: 0 }),
    ];
    const over = memoriesOverCap(memories, 2, NOW, DEFAULT_RECALL_WEIGHTS);
    expect(over.map((entry) => entry.memoryId).sort()).toEqual(['mem_b', 'mem_d']);
    expect(memoriesOverCap(memories, 4, NOW, DEFAULT_RECALL_WEIGHTS)).toEqual([]);
    expect(memoriesOverCap(memories, 0, NOW, DEFAULT_RECALL_WEIGHTS)).toEqual([]);
  });

  test('ties go oldest id first', () => {
    const over = memoriesOverCap(
      [memory('mem_01'), memory('mem_03'), memory('mem_02')],
      1,
      NOW,
      DEFAULT_RECALL_WEIGHTS,
    );
    expect(over.map((entry) => entry.memoryId)).toEqual(['mem_02', 'mem_01']);
  });
});

describe('blobs', () => {
  const referenced = new Set([sha('a')]);
  test('referenced blobs stay whatever their age', () => {
    expect(
      blobVerdict({ sha256: sha('a'), storedAtMs: NOW - 365 * DAY }, referenced, 3600, NOW),
    ).toBe('referenced');
  });
  test('an unreferenced blob is an orphan only after the grace period; an unknown age is new', () => {
    expect(
      blobVerdict({ sha256: sha('b'), storedAtMs: NOW - 3601_000 }, referenced, 3600, NOW),
    ).toBe('orphan');
    expect(blobVerdict({ sha256: sha('b'), storedAtMs: NOW - 60_000 }, referenced, 3600, NOW)).toBe(
      'in-grace',
    );
    expect(blobVerdict({ sha256: sha('b') }, referenced, 0, NOW)).toBe('in-grace');
    expect(blobVerdict({ sha256: sha('b'), storedAtMs: NaN }, referenced, 0, NOW)).toBe('in-grace');
  });
  test('references are found in any JSON shape, but not inside longer hex runs', () => {
    const text = JSON.stringify({
      attachments: [{ sha256: sha('1'), uri: `file:///blobs/sha256/11/${sha('1')}` }],
      responseBlob: sha('2'),
      notADigest: sha('3') + 'f',
    });
    expect(new Set(blobReferencesIn(text))).toEqual(new Set([sha('1'), sha('2')]));
  });
});

describe('session-index rows', () => {
  const retention = 3 * 86_400;
  test('open rows are never past retention', () => {
    expect(
      isSessionRowPastRetention(
        { status: 'active', updatedAt: iso(NOW - 400 * DAY) },
        retention,
        NOW,
      ),
    ).toBe(false);
    expect(
      isSessionRowPastRetention(
        { status: 'waiting', updatedAt: iso(NOW - 400 * DAY) },
        retention,
        NOW,
      ),
    ).toBe(false);
  });
  test('a closed row goes at its TTL attribute, else at close (or last update) + retention', () => {
    expect(
      isSessionRowPastRetention({ status: 'completed', expiresAt: NOW / 1000 - 1 }, retention, NOW),
    ).toBe(true);
    expect(
      isSessionRowPastRetention(
        { status: 'completed', expiresAt: NOW / 1000 + 1, closedAt: iso(NOW - 400 * DAY) },
        retention,
        NOW,
      ),
    ).toBe(false);
    expect(
      isSessionRowPastRetention({ status: 'failed', closedAt: iso(NOW - 4 * DAY) }, retention, NOW),
    ).toBe(true);
    expect(
      isSessionRowPastRetention(
        { status: 'failed', updatedAt: iso(NOW - 4 * DAY) },
        retention,
        NOW,
      ),
    ).toBe(true);
    expect(
      isSessionRowPastRetention(
        { status: 'cancelled', closedAt: iso(NOW - 2 * DAY) },
        retention,
        NOW,
      ),
    ).toBe(false);
    expect(isSessionRowPastRetention({ status: 'expired' }, retention, NOW)).toBe(false);
  });
  test('the TTL attribute of a closed row is its close time + the retention, in epoch seconds', () => {
    expect(sessionRowExpiresAt(iso(NOW), retention)).toBe(NOW / 1000 + retention);
    expect(sessionRowExpiresAt('never', retention)).toBeUndefined();
  });
});

describe('usage ledger', () => {
  test('entries recorded before now − retention go; the cutoff is the same instant as text', () => {
    expect(isUsageEntryPastRetention({ recordedAt: iso(NOW - 31 * DAY) }, 30, NOW)).toBe(true);
    expect(isUsageEntryPastRetention({ recordedAt: iso(NOW - 29 * DAY) }, 30, NOW)).toBe(false);
    expect(isUsageEntryPastRetention({}, 30, NOW)).toBe(false);
    expect(usageCutoff(30, NOW)).toBe(iso(NOW - 30 * DAY));
  });
});

test('the report line names every kind with its count', () => {
  const report: CollectionReport = {
    memories: { scanned: 9, expired: 2, overCap: 1, indexOrphans: 3, shortTermNotes: 4 },
    blobs: { scanned: 10, referenced: 2, inGrace: 1, removed: 5, sessionsMarked: 3 },
    sessionIndex: { scanned: 4, removed: 6, retentionSeconds: 86_400 },
    usageLedger: { scanned: 8, removed: 7 },
  };
  expect(describeCollection(report)).toBe(
    'collection removed: memories 2 expired, 1 over cap, 3 index orphans, 4 short-term notes; ' +
      'blobs 5 (of 10); session-index rows 6; usage entries 7',
  );
});
