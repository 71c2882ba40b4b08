/**
 * Memory recall over a large store: `MemoryService.recall` (what `recallForStep` runs) for one
 * user of a tenant whose long-term store holds `memories` records — every one visible to that
 * user (user, project and tenant scope: the worst case for the filter) — plus 20 short-term
 * notes of the session in Redis. One recall = embed the query (the local lexical embedding,
 * 256 dimensions), the LanceDB search filtered by tenant and scopes (exact, cosine; no ANN
 * index for the first `exactRecalls`, then IVF-HNSW-SQ after `index.optimize()`), BatchGet of
 * the candidates from DynamoDB (dynalite), the session's notes from Redis, scoring and the cut
 * to 5. Text is stored unsealed here (sealing costs one AES-GCM open per hydrated candidate).
 * The records are bulk-loaded (BatchWrite, index batches of 5,000): loading time is reported,
 * not targeted. The baseline column is the target.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from 'ioredis';
import type { MemoryRecord, MemoryScope } from '../../core/memory';
import { freePort, stopPid } from '../../infra/stack/processes';
import { startRedisServer } from '../../infra/stack/redis-server';
import { createLexicalEmbeddings, lexicalVector } from '../../models/embeddings';
import { createDynamoClients } from '../../runtime/dynamodb';
import { openLanceMemoryIndex } from '../../runtime/memory/lance-memory-index';
import type { MemoryIndexHit } from '../../runtime/memory/vector-index';
import { MemoryService } from '../../runtime/memory/memory-service';
import { ShortTermMemoryStore } from '../../runtime/memory/short-term-store';
import { MemoryStore } from '../../runtime/stores/memory-store';
import { tableNames } from '../../infra/dynamodb/tables';
import type { BenchMetric } from '../core/metric';
import { compare } from '../core/records';
import { percentile, summarize } from '../core/stats';

export interface MemoryRecallBenchOptions {
  memories: number;
  /** Recalls timed before the ANN index is built (exact search over every visible row). */
  exactRecalls: number;
  warmupRecalls: number;
  recalls: number;
  targetP99Ms: number;
}

export const MEMORY_RECALL_DEFAULTS: MemoryRecallBenchOptions = {
  memories: 100_000,
  exactRecalls: 100,
  warmupRecalls: 50,
  recalls: 500,
  targetP99Ms: 20,
};

const WORDS = (
  'postgres mysql redis kafka vitest jest pytest docker helm terraform oauth login billing ' +
  'invoice ledger export csv parquet lambda queue retry timeout cache index schema migration ' +
  'deploy friday review tabs spaces typescript python golang rust react vue graphql rest grpc ' +
  'tracing metrics alert pager budget tenant project session approval plan design security ' +
  'audit encryption kms s3 bucket archive report dashboard latency throughput quota limit'
).split(' ');

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value ^= value + Math.imul(value ^ (value >>> 7), 61 | value);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function sentence(next: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
}

/** Candidates the index search of the bench asks for (what a recall of 5 asks for). */
const SEARCH_LIMIT = 20;

/**
 * How much the ANN index finds of what the exact search finds, query by query: the share of
 * the ANN hits at least as similar as the exact search's last hit (ties with it count as
 * found: the lexical vectors tie often), and the share of recalled memories (after scoring and
 * the cut to 5) that are the same.
 */
function recallQuality(
  exact: { hits: MemoryIndexHit[][]; chosen: string[][] },
  ann: { hits: MemoryIndexHit[][]; chosen: string[][] },
): { indexRecall: number; sameChosen: number } {
  let found = 0;
  let wanted = 0;
  let same = 0;
  let chosen = 0;
  exact.hits.forEach((truth, query) => {
    const floor = truth[truth.length - 1]?.similarity ?? -1;
    const answer = ann.hits[query] ?? [];
    wanted += truth.length;
    found += Math.min(truth.length, answer.filter((hit) => hit.similarity >= floor - 1e-6).length);
    const expected = new Set(exact.chosen[query]);
    chosen += expected.size;
    same += (ann.chosen[query] ?? []).filter((id) => expected.has(id)).length;
  });
  return { indexRecall: found / Math.max(1, wanted), sameChosen: same / Math.max(1, chosen) };
}

export function memoryRecall(
  options: MemoryRecallBenchOptions = MEMORY_RECALL_DEFAULTS,
): BenchMetric {
  return {
    name: 'memory-recall',
    description:
      `In process against dynalite, a private Redis and an embedded LanceDB index: ` +
      `MemoryService.recall (limit 5) for one user over ${options.memories} long-term memories ` +
      `all visible to that user, plus 20 session notes; ${options.warmupRecalls} warm-up ` +
      `recalls, then ${options.recalls}, each timed alone. Target: p99 ≤ ${options.targetP99Ms} ms.`,
    async run(context) {
      const tenantId = 'bench-memory';
      const userId = 'ada';
      const sessionId = 'ses_01M86WJPP9RGC4HN5MVG19H74Z';
      const redisPort = await freePort();
      const redisDir = mkdtempSync(path.join(context.dir, 'memory-redis-'));
      const redisServer = await startRedisServer({
        port: redisPort,
        dataDir: redisDir,
        logDir: redisDir,
      });
      const redis = new Redis(`redis://127.0.0.1:${redisPort}`);
      const dynamo = createDynamoClients({
        AWS_REGION: 'us-east-1',
        DYNAMODB_ENDPOINT: context.dynamo.endpoint,
        DYNAMODB_TABLE_PREFIX: context.dynamo.tablePrefix,
      });
      const table = tableNames(context.dynamo.tablePrefix).memories;
      const index = await openLanceMemoryIndex(
        mkdtempSync(path.join(context.dir, 'memory-index-')),
      );
      try {
        const next = random(42);
        const embeddings = createLexicalEmbeddings();
        const at = new Date().toISOString();
        const scopes: { scope: MemoryScope; scopeId: string }[] = [
          { scope: 'user', scopeId: userId },
          { scope: 'project', scopeId: 'billing' },
          { scope: 'tenant', scopeId: tenantId },
        ];
        // Bulk load: DynamoDB in BatchWrites of 25 (8 in flight), the index in batches of 5,000.
        const loadStarted = performance.now();
        let dynamoMs = 0;
        let indexMs = 0;
        const batchSize = 5_000;
        for (let start = 0; start < options.memories; start += batchSize) {
          const records: MemoryRecord[] = [];
          for (
            let offset = 0;
            offset < batchSize && start + offset < options.memories;
            offset += 1
          ) {
            const number = start + offset;
            const place = scopes[number % scopes.length]!;
            records.push({
              tenantId,
              memoryId: `mem_${String(number).padStart(26, '0')}`,
              kind: (['fact', 'preference', 'decision', 'outcome'] as const)[number % 4]!,
              text: sentence(next, 6 + Math.floor(next() * 8)),
              ...place,
              ownerId: userId,
              source: {},
              importance: Math.round(next() * 100) / 100,
              createdAt: at,
              lastUsedAt: new Date(Date.now() - Math.floor(next() * 90) * 86_400_000).toISOString(),
              useCount: 0,
            });
          }
          const dynamoStarted = performance.now();
          const chunks = Array.from({ length: Math.ceil(records.length / 25) }, (_, chunk) =>
            records.slice(chunk * 25, chunk * 25 + 25),
          );
          for (let lane = 0; lane < chunks.length; lane += 8) {
            await Promise.all(
              chunks.slice(lane, lane + 8).map(async (chunk) => {
                let items: Record<string, unknown>[] = chunk.map((record) => ({
                  PutRequest: { Item: record },
                }));
                while (items.length > 0) {
                  const answer = await dynamo.documents.send(
                    new BatchWriteCommand({ RequestItems: { [table]: items } }),
                  );
                  items = answer.UnprocessedItems?.[table] ?? [];
                }
              }),
            );
          }
          dynamoMs += performance.now() - dynamoStarted;
          const indexStarted = performance.now();
          await index.upsert(
            records.map((record) => ({
              memoryId: record.memoryId,
              tenantId,
              scope: record.scope,
              scopeId: record.scopeId,
              ownerId: userId,
              kind: record.kind,
              vector: lexicalVector(record.text),
            })),
          );
          indexMs += performance.now() - indexStarted;
        }
        const loadMs = performance.now() - loadStarted;
        context.log(
          `memory-recall: loaded ${options.memories} memories in ${(loadMs / 1000).toFixed(1)} s ` +
            `(DynamoDB ${(dynamoMs / 1000).toFixed(1)} s, index ${(indexMs / 1000).toFixed(1)} s)`,
        );
        const service = new MemoryService({
          longTerm: new MemoryStore(dynamo.documents, table),
          shortTerm: new ShortTermMemoryStore(redis, { ttlSeconds: 3600, maxNotesPerSession: 200 }),
          index,
          embeddings,
          weights: { similarity: 0.7, recency: 0.15, importance: 0.15, recencyHalfLifeDays: 30 },
          minSimilarity: 0.15,
        });
        for (let note = 0; note < 20; note += 1) {
          await service.remember({
            tenantId,
            ownerId: userId,
            kind: 'fact',
            text: sentence(next, 8),
            scope: 'session',
            scopeId: sessionId,
            source: { sessionId },
            importance: 0.3,
          });
        }
        const queries = Array.from({ length: 200 }, () => sentence(next, 5));
        const request = (number: number) => ({
          context: { tenantId, userId, sessionId, projectId: 'billing' },
          query: queries[number % queries.length]!,
          limit: 5,
        });
        const searchScopes = [...scopes, { scope: 'session' as const, scopeId: sessionId }];
        /** Times `count` recalls, and the index search of each alone; keeps what each found. */
        const measure = async (count: number, offset: number) => {
          const recalls: number[] = [];
          const searches: number[] = [];
          const chosen: string[][] = [];
          const hits: MemoryIndexHit[][] = [];
          let found = 0;
          for (let number = offset; number < offset + count; number += 1) {
            const started = performance.now();
            const result = await service.recall(request(number));
            recalls.push(performance.now() - started);
            found += result.memories.length;
            chosen.push(result.memories.map((memory) => memory.memoryId));
            const vector = lexicalVector(request(number).query);
            const searchStarted = performance.now();
            hits.push(
              await index.search({ tenantId, scopes: searchScopes, vector, limit: SEARCH_LIMIT }),
            );
            searches.push(performance.now() - searchStarted);
          }
          return { recalls, searches, chosen, hits, perRecall: found / count };
        };
        const exact = await measure(options.exactRecalls, 0);
        context.log(
          `memory-recall: exact search (no ANN index): recall p50 ` +
            `${percentile(exact.recalls, 50).toFixed(2)} ms, p99 ${percentile(exact.recalls, 99).toFixed(2)} ms`,
        );
        const optimizeStarted = performance.now();
        const optimized = await index.optimize();
        const optimizeMs = performance.now() - optimizeStarted;
        context.log(
          `memory-recall: index.optimize() (IVF-HNSW-SQ + filter indexes on ${optimized.rows} rows) took ${(optimizeMs / 1000).toFixed(1)} s`,
        );
        await measure(options.warmupRecalls, options.exactRecalls);
        const ann = await measure(options.recalls, options.exactRecalls + options.warmupRecalls);
        // Quality: the exact phase's queries again, now through the ANN index (untimed).
        const again = await measure(options.exactRecalls, 0);
        const quality = recallQuality(exact, again);
        context.log(
          `memory-recall: ANN vs exact search on ${options.exactRecalls} queries: index ` +
            `recall@${SEARCH_LIMIT} ${quality.indexRecall.toFixed(3)} (ties counted as found), ` +
            `the ${5} recalled memories the same ${(quality.sameChosen * 100).toFixed(1)} %`,
        );
        const samples = ann.recalls;
        const searchSamples = ann.searches;
        const recalled = ann.perRecall * options.recalls;
        const p50 = percentile(samples, 50);
        const p99 = percentile(samples, 99);
        context.log(
          `memory-recall: recall p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms; index search ` +
            `alone p50 ${percentile(searchSamples, 50).toFixed(2)} ms, p99 ` +
            `${percentile(searchSamples, 99).toFixed(2)} ms; ${(recalled / options.recalls).toFixed(2)} memories per recall`,
        );
        return {
          records: [
            compare({
              name: `memory recall p50 over ${options.memories} memories vs target (baseline column = target)`,
              ours: p50,
              baseline: options.targetP99Ms,
              unit: 'ms',
              better: 'lower',
              details: {
                recall: summarize(samples),
                indexSearch: summarize(searchSamples),
                loadSeconds: loadMs / 1000,
                dynamoLoadSeconds: dynamoMs / 1000,
                indexLoadSeconds: indexMs / 1000,
                memoriesPerRecall: recalled / options.recalls,
                exactRecall: summarize(exact.recalls),
                exactIndexSearch: summarize(exact.searches),
                optimizeSeconds: optimizeMs / 1000,
                annIndexRecallAt20: quality.indexRecall,
                annSameRecalledShare: quality.sameChosen,
              },
            }),
            compare({
              name: `memory recall p99, exact search (before the ANN index), vs target (baseline column = target)`,
              ours: percentile(exact.recalls, 99),
              baseline: options.targetP99Ms,
              unit: 'ms',
              better: 'lower',
            }),
            compare({
              name: `memory recall p99 over ${options.memories} memories vs target (baseline column = target)`,
              ours: p99,
              baseline: options.targetP99Ms,
              unit: 'ms',
              better: 'lower',
              target: 1,
            }),
          ],
          parameters: {
            ...options,
            dimensions: embeddings.dimensions,
            embedding: 'local lexical (not semantic)',
            visibleToUser: options.memories,
            sessionNotes: 20,
            sealed: false,
            annIndex:
              'IVF-HNSW-SQ cosine, one partition per 500k rows, ef 100, refine ×1 (exact cosine); built by index.optimize() after loading',
          },
        };
      } finally {
        await index.close();
        redis.disconnect();
        dynamo.client.destroy();
        await stopPid(redisServer.pid, 5_000);
      }
    },
  };
}
