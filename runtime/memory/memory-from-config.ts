/**
 * The memory service as the API and the worker build it from configuration: long-term records
 * in the `memories` table, short-term notes in Redis (when there is one), the LanceDB index at
 * MEMORY_INDEX_URI, and an embedding provider — the catalog's when one is configured, else the
 * local lexical embedding (which is not semantic, and says so in every recall).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { createLexicalEmbeddings } from '../../models/embeddings/lexical-hash-embeddings';
import type { EmbeddingProvider } from '../../models/model-provider';
import type { MemoryConfig } from '../config';
import { MemoryStore } from '../stores/memory-store';
import type { TextSealer } from '../temporal/codec/text-sealer';
import { openLanceMemoryIndex } from './lance-memory-index';
import { MemoryService } from './memory-service';
import { ShortTermMemoryStore } from './short-term-store';
import { lazyMemoryIndex, type MemoryVectorIndex } from './vector-index';

export interface MemoryWiring {
  documents: DynamoDBDocumentClient;
  tableName: string;
  redis?: Redis;
  /** Seals memory text at rest (DynamoDB and Redis) with the payload codec. */
  sealer?: TextSealer;
  embeddings?: EmbeddingProvider;
  now?: () => number;
}

export async function createMemoryService(
  config: MemoryConfig,
  wiring: MemoryWiring,
): Promise<{ service: MemoryService; index: MemoryVectorIndex; close(): Promise<void> }> {
  // Opened on first use: an API or worker that never touches memory creates no index files.
  const index = lazyMemoryIndex(() =>
    openLanceMemoryIndex(config.MEMORY_INDEX_URI, {
      readConsistencyIntervalSeconds: config.MEMORY_INDEX_READ_CONSISTENCY_S,
    }),
  );
  const service = new MemoryService({
    longTerm: new MemoryStore(wiring.documents, wiring.tableName, wiring.sealer, wiring.now),
    ...(wiring.redis
      ? {
          shortTerm: new ShortTermMemoryStore(wiring.redis, {
            ttlSeconds: config.MEMORY_SHORT_TERM_TTL_S,
            maxNotesPerSession: config.MEMORY_SHORT_TERM_MAX_NOTES,
            ...(wiring.sealer ? { sealer: wiring.sealer } : {}),
          }),
        }
      : {}),
    index,
    embeddings: wiring.embeddings ?? createLexicalEmbeddings(),
    weights: {
      similarity: config.MEMORY_RECALL_W_SIMILARITY,
      recency: config.MEMORY_RECALL_W_RECENCY,
      importance: config.MEMORY_RECALL_W_IMPORTANCE,
      recencyHalfLifeDays: config.MEMORY_RECENCY_HALF_LIFE_DAYS,
    },
    minSimilarity: config.MEMORY_RECALL_MIN_SIMILARITY,
    ...(config.MEMORY_LONG_TERM_TTL_DAYS > 0
      ? { longTermTtlDays: config.MEMORY_LONG_TERM_TTL_DAYS }
      : {}),
    ...(wiring.now ? { now: wiring.now } : {}),
  });
  return { service, index, close: () => index.close() };
}
