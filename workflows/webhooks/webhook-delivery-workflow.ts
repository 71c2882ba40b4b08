/**
 * One session event to one webhook: a single activity that Temporal retries durably under the
 * `webhookDelivery` profile, whatever happens to workers meanwhile. Started by the session-event
 * sink (activities/webhooks) from the session's index writes, so the session's own history
 * stays as it was. Ends with the delivery's result; fails when the receiver refused for good
 * (410, or a URL that is no longer public) or the retry window closed.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { WebhookActivities } from '../../activities/webhooks';
import type { WebhookDeliveryInput, WebhookDeliveryResult } from '../../core/webhooks';
import { webhookDelivery } from '../activity-profiles';

const { deliverWebhook } = proxyActivities<WebhookActivities>(webhookDelivery);

export async function webhookDeliveryWorkflow(
  input: WebhookDeliveryInput,
): Promise<WebhookDeliveryResult> {
  return deliverWebhook(input);
}
