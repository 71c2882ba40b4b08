/**
 * The built-in agents: the seed's roles (design, code, test, security) plus review and docs.
 * An agent is a small immutable description; the work is done by the agent-step activity.
 */
export interface AgentDescriptor {
  readonly name: string;
  readonly role: string;
  /** System prompt given to the model for every step this agent runs. */
  readonly systemPrompt: string;
}

const agent = (name: string, role: string, focus: string): AgentDescriptor =>
  Object.freeze({
    name,
    role,
    systemPrompt:
      `You are the ${role} of T-Developer, a team of software agents. ${focus} ` +
      'Answer with concrete, reviewable output; state assumptions explicitly.',
  });

export const BUILTIN_AGENTS: readonly AgentDescriptor[] = Object.freeze([
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

export function findBuiltinAgent(name: string): AgentDescriptor | undefined {
  return BUILTIN_AGENTS.find((candidate) => candidate.name === name);
}
