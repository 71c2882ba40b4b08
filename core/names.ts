/**
 * Names that two processes must agree on: task queues, workflow types and search-attribute
 * keys. The worker, the API, the CLI and the infra scripts all import them from here.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Default Temporal namespace of the platform. */
export const DEFAULT_NAMESPACE = 'default';

/** Task queues. Session workflows and their orchestration activities share `session`. */
export const TASK_QUEUES = {
  session: 'tdev-session',
} as const;

/** Workflow type names (the exported function names in workflows/index.ts). */
export const WORKFLOW_TYPES = {
  session: 'sessionWorkflow',
  /** One signed delivery of a session event to one webhook (retried durably by Temporal). */
  webhookDelivery: 'webhookDeliveryWorkflow',
  /** One run of the collection schedule (expired memories, orphan blobs, stale rows). */
  collection: 'collectionWorkflow',
} as const;

/** The Temporal Schedule that runs collection (`temporal schedule describe --schedule-id …`). */
export const COLLECTION_SCHEDULE_ID = 'tdev-collection';

/** Custom search attributes registered on the namespace (infra/temporal) and set per session. */
export const SEARCH_ATTRIBUTES = {
  tenant: defineSearchAttributeKey('TDevTenant', SearchAttributeType.KEYWORD),
  user: defineSearchAttributeKey('TDevUser', SearchAttributeType.KEYWORD),
  project: defineSearchAttributeKey('TDevProject', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('TDevPhase', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('TDevStatus', SearchAttributeType.KEYWORD),
} as const;

const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

/** `Name=Type` pairs for `temporal server start-dev --search-attribute` and operator commands. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS: readonly string[] = Object.values(
  SEARCH_ATTRIBUTES,
).map((key) => `${key.name}=${CLI_TYPE_NAMES[key.type]}`);

/** The media task queue that belongs to a session task queue (attachments are read there). */
export function mediaTaskQueue(sessionTaskQueue: string): string {
  return `${sessionTaskQueue}-media`;
}
