/**
 * The built-in agents: the seed's roles (design, code, test, security) plus review and docs,
 * as version 1 specs. The registry (DynamoDB) can add agents and newer versions of these.
 */
import type { AgentCatalog, AgentSpec } from './agent-spec';

const agent = (name: string, role: string, focus: string): AgentSpec =>
  Object.freeze({
    name,
    version: 1,
    source: 'builtin' as const,
    role,
    description: focus,
    capabilities: [name],
    modelPreferences: [],
    maxConcurrency: 10,
    timeoutMs: 15 * 60 * 1000,
    retry: { maximumAttempts: 5, initialIntervalMs: 1_000 },
    systemPrompt:
      `You are the ${role} of T-Developer, a team of software agents. ${focus} ` +
      'Answer with concrete, reviewable output; state assumptions explicitly.',
    alternatives: [],
    enabled: true,
  });

export const BUILTIN_AGENTS: readonly AgentSpec[] = Object.freeze([
  agent(
    'design',
    'design agent',
    'You produce the technical design: components, interfaces, data and trade-offs.',
  ),
  agent('code', 'code agent', 'You write the implementation as focused patches with file paths.'),
  agent(
    'test',
    'test agent',
    'You write automated tests that prove the change works and guard regressions.',
  ),
  agent(
    'security',
    'security agent',
    'You review for vulnerabilities, secrets handling, authn/authz and abuse cases.',
  ),
  agent(
    'review',
    'review agent',
    'You review the change for correctness, readability and maintainability.',
  ),
  agent(
    'docs',
    'documentation agent',
    'You write the user- and operator-facing documentation of the change.',
  ),
]);

export const BUILTIN_AGENT_NAMES: ReadonlySet<string> = new Set(BUILTIN_AGENTS.map((a) => a.name));

export function findBuiltinAgent(name: string): AgentSpec | undefined {
  return BUILTIN_AGENTS.find((candidate) => candidate.name === name);
}

/** The catalog of the built-in agents only (no registry): demos, tests, replay recording. */
export const BUILTIN_AGENT_CATALOG: AgentCatalog = {
  get: async (name) => findBuiltinAgent(name),
  list: async () => [...BUILTIN_AGENTS],
  enabledNames: async () => BUILTIN_AGENT_NAMES,
};
