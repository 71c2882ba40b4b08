/**
 * The session events a tenant's webhooks receive, and the shapes the API, the session-event
 * sink and the delivery workflow agree on. Pure: imported by workflow code too.
 */
import type { SessionIndexRecord } from '../session/session-index';

export const WEBHOOK_EVENT_TYPES = [
  'session.completed',
  'session.failed',
  'session.waiting_for_approval',
  'session.budget_paused',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The JSON body of a delivery (Standard Webhooks: `type`, `timestamp`, `data`). */
export interface WebhookMessage {
  /** Stable across retries: the `webhook-id` header, for receivers to deduplicate. */
  id: string;
  type: WebhookEventType;
  /** When the event happened (the session's `updatedAt`). */
  timestamp: string;
  data: {
    tenantId: string;
    sessionId: string;
    userId: string;
    title: string;
    phase: string;
    status: string;
    closeReason?: string;
  };
}

/** Input of one delivery: the webhook (by id; its URL and secret stay in the store) and the message. */
export interface WebhookDeliveryInput {
  tenantId: string;
  webhookId: string;
  message: WebhookMessage;
}

export interface WebhookDeliveryResult {
  /** False when the webhook was deleted before the message went out. */
  delivered: boolean;
  /** The receiver's HTTP status, when delivered. */
  status?: number;
}

/** The event an index write reports, if it is one webhooks receive. */
export function sessionEventOf(record: SessionIndexRecord): WebhookEventType | undefined {
  if (record.phase === 'completed') return 'session.completed';
  if (record.phase === 'failed') return 'session.failed';
  if (record.phase === 'awaiting_approval') return 'session.waiting_for_approval';
  if (record.phase === 'running' && record.pausedBy === 'budget') return 'session.budget_paused';
  return undefined;
}

/** The message of `event` for `record`. `id` is derived from the session, event and time. */
export function sessionEventMessage(
  record: SessionIndexRecord,
  type: WebhookEventType,
  id: string,
): WebhookMessage {
  return {
    id,
    type,
    timestamp: record.updatedAt,
    data: {
      tenantId: record.tenantId,
      sessionId: record.sessionId,
      userId: record.userId,
      title: record.title,
      phase: record.phase,
      status: record.status,
      ...(record.closeReason ? { closeReason: record.closeReason } : {}),
    },
  };
}
