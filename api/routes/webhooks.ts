/**
 * Webhooks for session events (tenant admins): `POST /v1/webhooks` registers a URL for some
 * of the events and returns its signing secret (`whsec_…`) once; `GET /v1/webhooks` lists the
 * tenant's webhooks (never a secret); `DELETE /v1/webhooks/:webhookId` removes one. Another
 * tenant's webhook id is a 404. A URL must be http(s) without credentials and its host must
 * resolve to public addresses only (the attachment fetcher's SSRF guard), checked here and
 * again at every delivery.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../../core/webhooks';
import { resolvePublicTarget, type AddressPolicy, type HostResolver } from '../../media/fetch';
import { MediaInputError } from '../../media/media-input-error';
import { WEBHOOK_ID_PATTERN, type WebhookStore } from '../../runtime/stores/webhook-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

export interface WebhookRoutesOptions {
  store: Pick<WebhookStore, 'create' | 'list' | 'delete'>;
  /** Webhooks a tenant may register. */
  maxPerTenant: number;
  /** Which addresses a webhook may target; public ones only when absent. */
  addressPolicy?: AddressPolicy;
  resolve?: HostResolver;
}

export const createWebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }).max(2048),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length),
    description: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .regex(/^[^\p{Cc}]+$/u, 'no control characters')
      .optional(),
  })
  .strict();

/** Refuses (400) a URL the delivery activity would not connect to. */
async function assertDeliverable(url: string, options: WebhookRoutesOptions): Promise<void> {
  try {
    await resolvePublicTarget(url, {
      ...(options.addressPolicy ? { addressPolicy: options.addressPolicy } : {}),
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  } catch (error) {
    if (error instanceof MediaInputError) throw problems.badRequest(error.message);
    throw problems.unavailable(`could not resolve the webhook host: ${String(error)}`);
  }
}

/** Routes relative to `/v1/webhooks`. */
export function webhookRoutes(options: WebhookRoutesOptions) {
  return new Hono()
    .post('/', action('webhook:manage'), validate('json', createWebhookSchema), async (context) => {
      const principal = context.get('principal');
      const body = context.req.valid('json');
      await assertDeliverable(body.url, options);
      if ((await options.store.list(principal.tenantId)).length >= options.maxPerTenant) {
        throw problems.conflict(`a tenant may register at most ${options.maxPerTenant} webhooks`);
      }
      const { record, secret } = await options.store.create({
        tenantId: principal.tenantId,
        url: body.url,
        events: [...new Set(body.events)],
        ...(body.description ? { description: body.description } : {}),
        createdBy: principal.userId,
      });
      context.header('Location', `/v1/webhooks/${record.webhookId}`);
      context.header('Cache-Control', 'no-store');
      return context.json({ ...record, secret }, 201);
    })
    .get('/', action('webhook:manage'), async (context) =>
      context.json({ webhooks: await options.store.list(context.get('principal').tenantId) }),
    )
    .delete('/:webhookId', action('webhook:manage'), async (context) => {
      const webhookId = context.req.param('webhookId');
      const deleted = WEBHOOK_ID_PATTERN.test(webhookId)
        ? await options.store.delete(context.get('principal').tenantId, webhookId)
        : undefined;
      if (!deleted) throw problems.notFound('no such webhook');
      return context.json(deleted);
    });
}
