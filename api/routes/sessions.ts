import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AgentCatalog } from '../../core/agents/agent-spec';
import { describeZodIssues, validatePlan, type Plan } from '../../core/plan';
import { SESSION_SIGNALS, type SessionSignalName } from '../../core/session';
import { InvalidCursorError } from '../../runtime/stores/session-index-store';
import { problems } from '../problem';
import type { SessionService } from '../sessions/session-service';
import { streamSessionEvents } from '../sessions/session-events';
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
}

/** A supplied plan must reference known, enabled agents and form a DAG: 422 with every problem. */
async function assertPlanValid(plan: Plan | undefined, agents: AgentCatalog): Promise<void> {
  if (!plan) return;
  const validation = validatePlan(plan, await agents.enabledNames());
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

export function sessionRoutes({ sessions, agents, ssePollIntervalMs }: SessionRoutesOptions) {
  return new Hono()
    .post('/', validate('json', startSessionSchema), async (context) => {
      const body = context.req.valid('json');
      await assertPlanValid(body.plan, agents);
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
    .get('/', validate('query', listSessionsQuerySchema), async (context) => {
      const query = context.req.valid('query');
      try {
        return context.json(await sessions.list(context.get('principal'), query));
      } catch (error) {
        if (error instanceof InvalidCursorError) throw problems.badRequest(error.message);
        throw error;
      }
    })
    .get('/:id', async (context) =>
      context.json(await sessions.get(context.get('principal'), context.req.param('id'))),
    )
    .get('/:id/result', validate('query', resultQuerySchema), async (context) => {
      const { wait } = context.req.valid('query');
      const outcome = await sessions.outcome(
        context.get('principal'),
        context.req.param('id'),
        wait * 1000,
      );
      return context.json(outcome, outcome.done ? 200 : 202);
    })
    .post('/:id/signals/:name', async (context) => {
      const name = context.req.param('name');
      if (!Object.hasOwn(SESSION_SIGNALS, name)) {
        throw problems.badRequest(
          `unknown signal "${name}"; known signals: ${Object.keys(SESSION_SIGNALS).join(', ')}`,
        );
      }
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
      if ('plan' in parsed.data) await assertPlanValid(parsed.data.plan, agents);
      const principal = context.get('principal');
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
    .post('/:id/plan/amendments', validate('json', amendPlanSchema), async (context) => {
      const body = context.req.valid('json');
      // Agents are checked here against the registry; the workflow re-validates the structure
      // and refuses changes to steps that already started (409).
      await assertPlanValid(body.plan, agents);
      const principal = context.get('principal');
      const result = await sessions.amendPlan(principal, context.req.param('id'), {
        ...body,
        by: principal.userId,
      });
      return context.json(result, 200);
    })
    .get('/:id/steps/:stepId/output', async (context) =>
      context.json(
        await sessions.stepOutput(
          context.get('principal'),
          context.req.param('id'),
          context.req.param('stepId'),
        ),
      ),
    )
    .post('/:id/cancel', async (context) => {
      await sessions.cancel(context.get('principal'), context.req.param('id'));
      return context.json({ accepted: true }, 202);
    })
    .get('/:id/events', async (context) => {
      const principal = context.get('principal');
      const sessionId = context.req.param('id');
      // Ownership and existence are checked before the stream opens, so errors stay HTTP errors.
      const first = await sessions.status(principal, sessionId);
      const lastEventId = Number(context.req.header('last-event-id') ?? Number.NaN);
      return streamSSE(context, (stream) =>
        streamSessionEvents(stream, {
          first,
          next: () => sessions.status(principal, sessionId),
          pollIntervalMs: ssePollIntervalMs,
          ...(Number.isFinite(lastEventId) ? { lastEventId } : {}),
        }),
      );
    });
}
