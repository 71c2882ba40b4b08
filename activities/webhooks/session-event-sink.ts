/**
 * Turns session-index writes into webhook deliveries. A write that reports a session event
 * (core/webhooks `sessionEventOf`) starts one delivery workflow per webhook of the tenant that
 * subscribed to it. The workflow id is derived from (tenant, webhook, session, event, time), so
 * the same write seen twice — a retried local activity, or the durable retry of a final
 * write — starts nothing new. The session's own history gains nothing: deliveries, and their
 * retries, live in their own short workflows.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WorkflowClient } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { WORKFLOW_TYPES } from '../../core/names';
import type { SessionIndexRecord } from '../../core/session';
import {
  sessionEventMessage,
  sessionEventOf,
  type WebhookDeliveryInput,
} from '../../core/webhooks';
import type { WebhookStore } from '../../runtime/stores/webhook-store';

/** Hears a session-index write; a failure fails the write's activity (so it is retried). */
export type SessionEventSink = (record: SessionIndexRecord) => Promise<void>;

export interface SessionEventSinkOptions {
  webhooks: Pick<WebhookStore, 'list'>;
  workflows: Pick<WorkflowClient, 'start'>;
  /** Where delivery workflows run (a queue whose worker registers `deliverWebhook`). */
  taskQueue: string;
}

/** The delivery workflow's id for one message to one webhook. */
export const deliveryWorkflowId = (input: WebhookDeliveryInput): string =>
  `webhook-${input.tenantId}-${input.webhookId}-${input.message.id}`;

export function createSessionEventSink(options: SessionEventSinkOptions): SessionEventSink {
  return async function startWebhookDeliveries(record) {
    const event = sessionEventOf(record);
    if (!event) return;
    const subscribed = (await options.webhooks.list(record.tenantId)).filter((webhook) =>
      webhook.events.includes(event),
    );
    if (subscribed.length === 0) return;
    const digest = createHash('sha256')
      .update(`${record.tenantId}\n${record.sessionId}\n${event}\n${record.updatedAt}`)
      .digest('hex');
    const message = sessionEventMessage(record, event, `msg_${digest.slice(0, 32)}`);
    for (const webhook of subscribed) {
      const input: WebhookDeliveryInput = {
        tenantId: record.tenantId,
        webhookId: webhook.webhookId,
        message,
      };
      try {
        await options.workflows.start(WORKFLOW_TYPES.webhookDelivery, {
          workflowId: deliveryWorkflowId(input),
          taskQueue: options.taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) continue;
        throw error;
      }
    }
  };
}
