/**
 * The agent registry over HTTP, per tenant. A tenant sees the platform's agents (the built-ins
 * and what platform admins registered) with its own agents and overrides on top, and never
 * another tenant's. A `tenant-admin` registers the tenant's own agents, or overrides a
 * platform agent for its tenant only (`PUT /v1/agents/:name`); a `platform-admin` registers
 * platform agents every tenant sees (`PUT /v1/platform/agents/:name`). Registrations are
 * validated; versions are immutable.
 */
import { Hono, type Context } from 'hono';
import { AGENT_NAME_PATTERN, agentSpecInputSchema } from '../../core/agents/agent-spec';
import {
  AgentVersionConflictError,
  type AgentRegistryStore,
} from '../../runtime/stores/agent-registry-store';
import { action } from '../policy/action';
import { problems } from '../problem';
import { validate } from '../validation';

const registration = validate('json', agentSpecInputSchema);

/** Registers `:name` in the platform scope, or in `tenantId`'s. */
async function register(
  context: Context,
  registry: AgentRegistryStore,
  input: ReturnType<typeof agentSpecInputSchema.parse>,
  tenantId: string | undefined,
  location: string,
) {
  const principal = context.get('principal');
  const name = context.req.param('name') ?? '';
  if (!AGENT_NAME_PATTERN.test(name)) {
    throw problems.badRequest(`agent name must match ${AGENT_NAME_PATTERN.source}`);
  }
  const unknown = [];
  for (const alternative of input.alternatives) {
    if (alternative === name) throw problems.badRequest('an agent cannot be its own alternative');
    if (!(await registry.get(alternative, tenantId))) unknown.push(alternative);
  }
  if (unknown.length > 0) {
    throw problems.badRequest(`unknown alternative agent(s): ${unknown.join(', ')}`);
  }
  try {
    const spec = await registry.register(name, input, principal.userId, tenantId);
    context.header('Location', location);
    return context.json(spec, spec.version === 1 ? 201 : 200);
  } catch (error) {
    if (error instanceof AgentVersionConflictError) throw problems.conflict(error.message);
    throw error;
  }
}

/** `/v1/agents`: what the caller's tenant sees, and its own registrations. */
export function agentRoutes(registry: AgentRegistryStore) {
  return new Hono()
    .get('/', action('agent:list'), async (context) =>
      context.json({ agents: await registry.list(context.get('principal').tenantId) }),
    )
    .get('/:name', action('agent:read'), async (context) => {
      const name = context.req.param('name');
      const spec = await registry.get(name, context.get('principal').tenantId);
      if (!spec) throw problems.notFound(`no agent "${name}"`);
      return context.json(spec);
    })
    .put('/:name', action('agent:write'), registration, async (context) =>
      register(
        context,
        registry,
        context.req.valid('json'),
        context.get('principal').tenantId,
        `/v1/agents/${context.req.param('name')}`,
      ),
    );
}

/** `/v1/platform/agents`: platform agents, which every tenant sees unless it overrides them. */
export function platformAgentRoutes(registry: AgentRegistryStore) {
  return new Hono().put(
    '/:name',
    action('platform-agent:write', 'platform'),
    registration,
    async (context) =>
      register(
        context,
        registry,
        context.req.valid('json'),
        undefined,
        `/v1/agents/${context.req.param('name')}`,
      ),
  );
}
