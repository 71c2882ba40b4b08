/**
 * Deliberately changed workflows for the negative replay test: each waits one second before
 * doing what the real workflow does, so its first command differs from every recorded history.
 * Replaying the histories with them must fail with a determinism violation.
 */
import { sleep } from '@temporalio/workflow';
import type { CollectionInput, CollectionReport } from '../../../core/collection';
import type { SessionInput, SessionResult } from '../../../core/session';
import type { WebhookDeliveryInput, WebhookDeliveryResult } from '../../../core/webhooks';
import { sessionWorkflow as realSessionWorkflow } from '../../../workflows/session/session-workflow';
import { collectionWorkflow as realCollectionWorkflow } from '../../../workflows/collection/collection-workflow';
import { webhookDeliveryWorkflow as realWebhookDeliveryWorkflow } from '../../../workflows/webhooks/webhook-delivery-workflow';

export async function sessionWorkflow(input: SessionInput): Promise<SessionResult> {
  await sleep('1s');
  return realSessionWorkflow(input);
}

export async function webhookDeliveryWorkflow(
  input: WebhookDeliveryInput,
): Promise<WebhookDeliveryResult> {
  await sleep('1s');
  return realWebhookDeliveryWorkflow(input);
}

export async function collectionWorkflow(input: CollectionInput): Promise<CollectionReport> {
  await sleep('1s');
  return realCollectionWorkflow(input);
}
