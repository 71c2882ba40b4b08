/**
 * The agent registry over HTTP: everyone can list and read agents; only an `admin` can
 * register a new agent or a new version of one (validated; versions are immutable).
 */
import { Hono } from 'hono';
import { AGENT_NAME_PATTERN, agentSpecInputSchema } from '../../core/agents/agent-spec';
import {
  AgentVersionConflictError,
  type AgentRegistryStore,
} from '../../runtime/stores/agent-registry-store';
import { problems } from '../problem';
import { validate } from '../validation';

export const ADMIN_ROLE = 'admin';

export function agentRoutes(registry: AgentRegistryStore) {
  return new Hono()
    .get('/', async (context) => context.json({ agents: await registry.list() }))
    .get('/:name', async (context) => {
      const name = context.req.param('name');
      const spec = await registry.get(name);
      if (!spec) throw problems.notFound(`no agent "${name}"`);
      return context.json(spec);
    })
    .put('/:name', validate('json', agentSpecInputSchema), async (context) => {
      const principal = context.get('principal');
      if (!principal.roles.includes(ADMIN_ROLE)) {
        throw problems.forbidden(`registering agents needs the "${ADMIN_ROLE}" role`);
      }
      const name = context.req.param('name');
      if (!AGENT_NAME_PATTERN.test(name)) {
        throw problems.badRequest(`agent name must match ${AGENT_NAME_PATTERN.source}`);
      }
      const input = context.req.valid('json');
      const unknown = [];
      for (const alternative of input.alternatives ?? []) {
        if (alternative === name)
          throw problems.badRequest('an agent cannot be its own alternative');
        if (!(await registry.get(alternative))) unknown.push(alternative);
      }
      if (unknown.length > 0) {
        throw problems.badRequest(`unknown alternative agent(s): ${unknown.join(', ')}`);
      }
      try {
        const spec = await registry.register(name, input, principal.userId);
        context.header('Location', `/v1/agents/${name}`);
        return context.json(spec, spec.version === 1 ? 201 : 200);
      } catch (error) {
        if (error instanceof AgentVersionConflictError) throw problems.conflict(error.message);
        throw error;
      }
    });
}
