/**
 * An agent is a small immutable, versioned spec: what it can do, which models it prefers, where
 * it runs, its limits and its prompt. Built-in specs live in builtin-agents.ts; an admin can
 * register new agents or new versions of existing ones through the API (stored in DynamoDB).
 * Only enabled agents can be scheduled.
 */
import { z } from 'zod';

export const AGENT_NAME_PATTERN = /^[a-z][a-z0-9-]{1,47}$/;

/** What an admin sends to register or update an agent; the registry assigns the version. */
export const agentSpecInputSchema = z
  .object({
    role: z.string().min(1).max(100),
    description: z.string().min(1).max(2_000),
    capabilities: z
      .array(z.string().regex(/^[a-z0-9-]{1,48}$/))
      .min(1)
      .max(32),
    /** Model ids in order of preference; empty means the worker's default model. */
    modelPreferences: z.array(z.string().min(1).max(200)).max(25).default([]),
    /** Task queue of the agent's worker pool; absent means the session's own queue. */
    taskQueue: z.string().min(1).max(200).optional(),
    maxConcurrency: z.number().int().min(1).max(1_000).default(10),
    timeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(60 * 60 * 1000)
      .default(15 * 60 * 1000),
    retry: z
      .object({
        maximumAttempts: z.number().int().min(1).max(20),
        initialIntervalMs: z.number().int().min(100).max(60_000),
      })
      .strict()
      .default({ maximumAttempts: 5, initialIntervalMs: 1_000 }),
    systemPrompt: z.string().min(1).max(20_000),
    /** Agents to try instead when this one fails non-retryably (tried in order). */
    alternatives: z.array(z.string().regex(AGENT_NAME_PATTERN)).max(5).default([]),
    enabled: z.boolean().default(true),
  })
  .strict();

export type AgentSpecInput = z.input<typeof agentSpecInputSchema>;

export type AgentSpec = z.output<typeof agentSpecInputSchema> & {
  readonly name: string;
  /** 1 for built-ins; each registration adds one. */
  readonly version: number;
  readonly source: 'builtin' | 'registry';
  readonly updatedAt?: string;
  readonly updatedBy?: string;
};

/**
 * Where activities and the API look agents up. With a tenant, the catalog is what that tenant
 * sees (its own agents and overrides over the platform's); without one, the platform's only.
 */
export interface AgentCatalog {
  /** The newest version of an agent, enabled or not; undefined when unknown. */
  get(name: string, tenantId?: string): Promise<AgentSpec | undefined>;
  /** The newest version of every agent. */
  list(tenantId?: string): Promise<AgentSpec[]>;
  /** Names of the agents that can be scheduled. */
  enabledNames(tenantId?: string): Promise<ReadonlySet<string>>;
}
