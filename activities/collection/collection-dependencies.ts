import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { RecallWeights } from '../../core/memory';
import type { CollectionRecorder } from '../../runtime/metrics';
import type { BlobStore } from '../../media/blob';
import type { ShortTermMemoryStore } from '../../runtime/memory/short-term-store';
import type { MemoryVectorIndex } from '../../runtime/memory/vector-index';
import type { MemoryStore } from '../../runtime/stores/memory-store';
import type { SessionIndexCollector } from '../../runtime/stores/session-index-store';
import type { UsageLedgerCollector } from '../../runtime/stores/usage-ledger-store';

/** What the collection activities read and delete; the worker wires the real stores. */
export interface CollectionActivityDependencies {
  /** Long-term memories (DynamoDB `memories`). */
  memories: MemoryStore;
  /** Short-term notes (Redis); absent when the worker has no Redis. */
  shortTerm?: ShortTermMemoryStore;
  /** The memories' vector index (LanceDB). */
  index: MemoryVectorIndex;
  /** The recall weights: the cap keeps the memories with the best recency + importance. */
  weights: RecallWeights;
  blobs: BlobStore;
  sessionIndex: SessionIndexCollector;
  usageLedger: UsageLedgerCollector;
  /** Blobs stored model results point at (DynamoModelResultStore#blobReferences). */
  modelResultBlobs?: () => AsyncIterable<string[]>;
  /** Temporal: visibility (which sessions it still holds), their histories, the retention. */
  temporal: {
    client: Pick<Client, 'workflow' | 'workflowService'>;
    namespace: string;
    /**
     * The visibility query of the sessions whose histories mark blobs; every session workflow
     * by default (open ones and closed ones Temporal still retains).
     */
    sessionQuery?: string;
  };
  /** The payload codec: history payloads are encrypted; without it they are read as they are. */
  codec?: PayloadCodec;
  /** Counts each activity attempt and what it removed (Prometheus, runtime/metrics). */
  metrics?: CollectionRecorder;
  /** Rows per DynamoDB page (500 by default). */
  pageSize?: number;
  now?: () => number;
}
