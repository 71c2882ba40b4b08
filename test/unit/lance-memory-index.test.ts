/**
 * The embedded LanceDB memory index (a temporary directory, no server): every search is held
 * to one tenant and the visible scopes — the same vector under another tenant or another user
 * never matches, and a filter value cannot break out of its SQL string — and a delete never
 * reaches another tenant's row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lexicalVector } from '../../models/embeddings';
import { openLanceMemoryIndex } from '../../runtime/memory/lance-memory-index';
import { searchFilter, type MemoryVectorIndex } from '../../runtime/memory/vector-index';

let dir: string;
let index: MemoryVectorIndex;

const row = (memoryId: string, tenantId: string, scopeId: string, text: string) => ({
  memoryId,
  tenantId,
  scope: 'user' as const,
  scopeId,
  ownerId: scopeId,
  kind: 'preference' as const,
  vector: lexicalVector(text),
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-lance-test-'));
  index = await openLanceMemoryIndex(dir);
  await index.upsert([
    row('mem_acme_ada', 'acme', 'ada', 'Our services use PostgreSQL'),
    row('mem_globex_ada', 'globex', 'ada', 'Our services use PostgreSQL'),
    row('mem_acme_bob', 'acme', 'bob', 'Our services use PostgreSQL'),
    row('mem_quote', "acme' OR '1'='1", 'ada', 'Our services use PostgreSQL'),
  ]);
});

afterAll(async () => {
  await index.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = (tenantId: string, scopeId: string) =>
  index.search({
    tenantId,
    scopes: [{ scope: 'user', scopeId }],
    vector: lexicalVector('Our services use PostgreSQL'),
    limit: 10,
  });

test('a search sees its tenant and scope only, even for the very same text', async () => {
  expect((await search('acme', 'ada')).map((hit) => hit.memoryId)).toEqual(['mem_acme_ada']);
  expect((await search('globex', 'ada')).map((hit) => hit.memoryId)).toEqual(['mem_globex_ada']);
  expect((await search('initech', 'ada')).map((hit) => hit.memoryId)).toEqual([]);
  const [hit] = await search('acme', 'ada');
  expect(hit!.similarity).toBeCloseTo(1, 5);
});

test('no visible scope matches nothing; quotes stay inside the literal', async () => {
  expect(
    await index.search({ tenantId: 'acme', scopes: [], vector: lexicalVector('x y'), limit: 5 }),
  ).toEqual([]);
  expect(searchFilter({ tenantId: "a'b", scopes: [] })).toBe("tenant_id = 'a''b' AND (false)");
  // The tenant named with a quote finds its own row, and the plain tenant does not see it.
  expect((await search("acme' OR '1'='1", 'ada')).map((hit) => hit.memoryId)).toEqual([
    'mem_quote',
  ]);
});

test('delete is held to its tenant; an upsert replaces the row of the same id', async () => {
  await index.upsert([row('mem_acme_tabs', 'acme', 'ada', 'tabs')]);
  // Another tenant naming acme's id deletes nothing.
  expect(await index.delete('globex', 'mem_acme_tabs')).toBe(0);
  expect(await index.count('acme', 'mem_acme_tabs')).toBe(1);
  await index.upsert([row('mem_acme_tabs', 'acme', 'ada', 'spaces')]);
  expect(await index.count('acme', 'mem_acme_tabs')).toBe(1);
  const [replaced] = await index.search({
    tenantId: 'acme',
    scopes: [{ scope: 'user', scopeId: 'ada' }],
    vector: lexicalVector('spaces'),
    limit: 1,
  });
  expect(replaced).toMatchObject({ memoryId: 'mem_acme_tabs' });
  expect(replaced!.similarity).toBeCloseTo(1, 5);
  expect(await index.delete('acme', 'mem_acme_tabs')).toBe(1);
  expect(await index.count('acme', 'mem_acme_tabs')).toBe(0);
  expect(await index.delete('acme', 'mem_acme_tabs')).toBe(0);
});
