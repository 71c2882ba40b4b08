import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AgentCatalog } from '../../core/agents/agent-spec';
import type { AttachmentRef } from '../../core/media/attachments';
import type { BlobStore } from '../../media/blob';
import type { AttachmentOwnersStore } from '../../runtime/auth/attachment-owners-store';
import type { Action } from '../../runtime/policy/actions';
import { describeZodIssues, validatePlan, type Plan } from '../../core/plan';
import { SESSION_SIGNALS, type SessionSignalName } from '../../core/session';
import { InvalidCursorError } from '../../runtime/stores/session-index-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import type { SessionService } from '../sessions/session-service';
import { streamSessionEvents } from '../sessions/session-events';
import { SessionWatchers, sessionWatchKey } from '../sessions/session-watchers';
import { validate } from '../validation';
import {
  IDEMPOTENCY_KEY_PATTERN,
  amendPlanSchema,
  listSessionsQuerySchema,
  resultQuerySchema,
  signalPayloadSchemas,
  startSessionSchema,
} from './session-schemas';

export interface SessionRoutesOptions {
  sessions: SessionService;
  agents: AgentCatalog;
  ssePollIntervalMs: number;
  /** The shared pollers of followed sessions; one per app unless given. */
  watchers?: SessionWatchers;
  /**
   * Which tenant stored which attachment blob, and the blobs: a session may attach only blobs
   * its tenant stored. Another tenant's hash is refused exactly like a hash nobody stored.
   */
  attachments?: {
    owners: Pick<AttachmentOwnersStore, 'owned'>;
    blobs: Pick<BlobStore, 'has'>;
  };
}

/** What each signal does, as an action to authorise. */
export const SIGNAL_ACTIONS: Readonly<Record<SessionSignalName, Action>> = {
  approve: 'session:approve',
  'approve-step': 'session:approve',
  'add-input': 'session:add-input',
  cancel: 'session:cancel',
  pause: 'session:pause',
  resume: 'session:pause',
  replan: 'session:replan',
  'raise-budget': 'session:raise-budget',
};

function unknownSignal(name: string) {
  return problems.badRequest(
    `unknown signal "${name}"; known signals: ${Object.keys(SESSION_SIGNALS).join(', ')}`,
  );
}

/** The action of `POST /:id/signals/:name`; an unknown signal is a 400 before anything else. */
function signalAction(context: Context): Action {
  const name = context.req.param('name') ?? '';
  if (!Object.hasOwn(SESSION_SIGNALS, name)) throw unknownSignal(name);
  return SIGNAL_ACTIONS[name as SessionSignalName];
}

/**
 * Refuses (422, listing the sha-256s) attachments the tenant did not store itself or whose
 * blob is gone: the same answer whether a hash is unknown or belongs to another tenant.
 */
async function assertAttachmentsOwned(
  tenantId: string,
  attachments: readonly AttachmentRef[] | undefined,
  options: SessionRoutesOptions['attachments'],
): Promise<void> {
  if (!options || !attachments?.length) return;
  const hashes = [...new Set(attachments.map((attachment) => attachment.sha256))];
  const owned = await options.owners.owned(tenantId, hashes);
  const present = await Promise.all(
    hashes.map(async (sha256) => owned.has(sha256) && (await options.blobs.has({ sha256 }))),
  );
  const missing = hashes.filter((_sha256, index) => !present[index]);
  if (missing.length === 0) return;
  throw problems.unprocessable(
    'attachments-not-found',
    'Attachments not found',
    `no stored blob for ${missing.join(', ')}; upload them with POST /v1/attachments first`,
    { code: 'attachments-not-found', missing },
  );
}

/** A supplied plan must reference known, enabled agents and form a DAG: 422 with every problem. */
async function assertPlanValid(
  plan: Plan | undefined,
  agents: AgentCatalog,
  tenantId: string,
): Promise<void> {
  if (!plan) return;
  const validation = validatePlan(plan, await agents.enabledNames(tenantId));
  if (!validation.ok) {
    throw problems.unprocessable(
      'plan-invalid',
      'The plan is not valid',
      validation.errors.join('; '),
      {
        errors: validation.errors,
      },
    );
  }
}

export function sessionRoutes(options: SessionRoutesOptions) {
  const { sessions, agents, ssePollIntervalMs } = options;
  // One shared status poller per followed session (all followers of it in this process).
  const watchers = options.watchers ?? new SessionWatchers(ssePollIntervalMs);
  return new Hono()
    .post('/', action('session:start'), validate('json', startSessionSchema), async (context) => {
      const body = context.req.valid('json');
      const { tenantId } = context.get('principal');
      await assertPlanValid(body.plan, agents, tenantId);
      await assertAttachmentsOwned(tenantId, body.attachments, options.attachments);
      const idempotencyKey = context.req.header('idempotency-key');
      if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
        throw problems.badRequest('Idempotency-Key must be 1–255 visible ASCII characters');
      }
      const started = await sessions.start(context.get('principal'), body, idempotencyKey);
      const location = `/v1/sessions/${started.sessionId}`;
      context.header('Location', location);
      if (!started.created) context.header('Idempotent-Replayed', 'true');
      return context.json(
        {
          sessionId: started.sessionId,
          links: {
            self: location,
            events: `${location}/events`,
            result: `${location}/result`,
            webUi: started.webUiUrl,
          },
        },
        started.created ? 201 : 200,
      );
    })
    .get(
      '/',
      action('session:list'),
      validate('query', listSessionsQuerySchema),
      async (context) => {
        const query = context.req.valid('query');
        try {
          return context.json(await sessions.list(context.get('principal'), query));
        } catch (error) {
          if (error instanceof InvalidCursorError) throw problems.badRequest(error.message);
          throw error;
        }
      },
    )
    .get('/:id', action('session:read', 'session'), async (context) =>
      context.json(await sessions.get(context.get('principal'), context.req.param('id'))),
    )
    .get(
      '/:id/result',
      action('session:read', 'session'),
      validate('query', resultQuerySchema),
      async (context) => {
        const { wait } = context.req.valid('query');
        const outcome = await sessions.outcome(
          context.get('principal'),
          context.req.param('id'),
          wait * 1000,
        );
        return context.json(outcome, outcome.done ? 200 : 202);
      },
    )
    .post('/:id/signals/:name', action(signalAction, 'session'), async (context) => {
      const name = context.req.param('name');
      if (!Object.hasOwn(SESSION_SIGNALS, name)) throw unknownSignal(name);
      const signalName = name as SessionSignalName;
      const raw: unknown = await context.req.json().catch(() => {
        throw problems.badRequest('request body must be a JSON object');
      });
      const parsed = signalPayloadSchemas[signalName].safeParse(raw);
      if (!parsed.success) {
        const errors = describeZodIssues(parsed.error);
        throw problems.badRequest(`invalid payload for signal "${name}": ${errors.join('; ')}`, {
          errors,
        });
      }
      const principal = context.get('principal');
      if ('plan' in parsed.data) {
        await assertPlanValid(parsed.data.plan, agents, principal.tenantId);
      }
      if (signalName === 'replan') {
        // The workflow ignores a replan outside a running plan: say so instead of accepting it.
        const { phase } = (await sessions.status(principal, context.req.param('id'))).status;
        if (phase !== 'running') {
          throw problems.conflict(
            `replan applies to a running plan; the session is ${phase} (amend or reject the plan instead)`,
          );
        }
      }
      await sessions.signal(principal, context.req.param('id'), signalName, {
        ...parsed.data,
        by: principal.userId,
      });
      return context.json({ accepted: true, signal: name }, 202);
    })
    .post(
      '/:id/plan/amendments',
      action('session:amend', 'session'),
      validate('json', amendPlanSchema),
      async (context) => {
        const body = context.req.valid('json');
        const principal = context.get('principal');
        // Agents are checked here against the registry; the workflow re-validates the structure
        // and refuses changes to steps that already started (409).
        await assertPlanValid(body.plan, agents, principal.tenantId);
        const result = await sessions.amendPlan(principal, context.req.param('id'), {
          ...body,
          by: principal.userId,
        });
        return context.json(result, 200);
      },
    )
    .get('/:id/steps/:stepId/output', action('session:read', 'session'), async (context) =>
      context.json(
        await sessions.stepOutput(
          context.get('principal'),
          context.req.param('id'),
          context.req.param('stepId'),
        ),
      ),
    )
    .post('/:id/cancel', action('session:cancel', 'session'), async (context) => {
      await sessions.cancel(context.get('principal'), context.req.param('id'));
      return context.json({ accepted: true }, 202);
    })
    .get('/:id/events', action('session:read', 'session'), async (context) => {
      const principal = context.get('principal');
      const sessionId = context.req.param('id');
      // Ownership and existence are checked before the stream opens, so errors stay HTTP errors.
      // Concurrent first reads of one session (same tenant) share one status query.
      const key = sessionWatchKey(principal.tenantId, sessionId);
      const first = await watchers.first(key, () => sessions.status(principal, sessionId));
      const lastEventId = Number(context.req.header('last-event-id') ?? Number.NaN);
      return streamSSE(context, (stream) =>
        streamSessionEvents(stream, {
          first,
          watch: (listener) =>
            watchers.subscribe(key, first, () => sessions.status(principal, sessionId), listener),
          ...(Number.isFinite(lastEventId) ? { lastEventId } : {}),
        }),
      );
    });
}
