/**
 * The delivery activity: one signed POST of a session event to one webhook, per the Standard
 * Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature` over
 * `id.timestamp.body` with the webhook's `whsec_` secret). The id is the message's (stable
 * across retries, for receivers to deduplicate); the timestamp is the attempt's, since
 * receivers refuse old ones.
 *
 * Outcomes: a 2xx answer delivers. A deleted webhook is not an error (`delivered: false`).
 * A receiver that answers 410 Gone, or a URL that now resolves to a non-public address, is a
 * non-retryable `WebhookRefused`. Everything else (refused connections, timeouts, other
 * statuses) is a plain error that Temporal retries under the delivery profile.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import type { WebhookDeliveryInput, WebhookDeliveryResult } from '../../core/webhooks';
import { postToPublicUrl, type AddressPolicy, type HostResolver } from '../../media/fetch';
import { MediaInputError } from '../../media/media-input-error';
import type { WebhookStore } from '../../runtime/stores/webhook-store';

export interface WebhookActivityDependencies {
  webhooks: Pick<WebhookStore, 'signingSecret'>;
  /** Which addresses deliveries may go to. Default: public addresses only. */
  addressPolicy?: AddressPolicy;
  resolve?: HostResolver;
  /** Per attempt. Default 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

export const WEBHOOK_REFUSED = 'WebhookRefused';

export function createWebhookActivities(dependencies: WebhookActivityDependencies) {
  const now = dependencies.now ?? Date.now;
  return {
    /** Delivers `input.message` to the webhook once (see the file comment for outcomes). */
    async deliverWebhook(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
      const found = await dependencies.webhooks.signingSecret(input.tenantId, input.webhookId);
      if (!found) return { delivered: false };
      const body = JSON.stringify({
        type: input.message.type,
        timestamp: input.message.timestamp,
        data: input.message.data,
      });
      const sentAt = new Date(now());
      const signature = new Webhook(found.secret).sign(input.message.id, sentAt, body);
      let status: number;
      try {
        status = await postToPublicUrl(found.record.url, {
          body,
          timeoutMs: dependencies.timeoutMs ?? 10_000,
          headers: {
            'content-type': 'application/json',
            'user-agent': 't-developer-webhooks',
            'webhook-id': input.message.id,
            'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
            'webhook-signature': signature,
          },
          ...(dependencies.addressPolicy ? { addressPolicy: dependencies.addressPolicy } : {}),
          ...(dependencies.resolve ? { resolve: dependencies.resolve } : {}),
        });
      } catch (error) {
        if (error instanceof MediaInputError && error.code === 'url-not-allowed') {
          throw ApplicationFailure.create({
            type: WEBHOOK_REFUSED,
            message: error.message,
            nonRetryable: true,
          });
        }
        throw error;
      }
      if (status >= 200 && status < 300) return { delivered: true, status };
      if (status === 410) {
        throw ApplicationFailure.create({
          type: WEBHOOK_REFUSED,
          message: `${found.record.url} answered 410 Gone`,
          nonRetryable: true,
        });
      }
      throw new Error(`${found.record.url} answered HTTP ${status}`);
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
