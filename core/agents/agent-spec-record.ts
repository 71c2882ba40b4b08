/**
 * The fast path from a stored agent record (a DynamoDB item, validated by the zod schema when
 * it was registered) to an immutable AgentSpec. Validation with zod happens once, at
 * registration; reading checks only the shape the platform relies on and freezes, so
 * rebuilding the catalog of every agent costs microseconds, not a schema parse per agent.
 */
import type { AgentSpec } from './agent-spec';

/** A stored record is not an agent spec (written by something other than the registry). */
export class InvalidAgentRecordError extends Error {
  override readonly name = 'InvalidAgentRecordError';
}

type Row = Readonly<Record<string, unknown>>;

/**
 * Builds a frozen AgentSpec from `record`. The record's arrays and retry object are frozen in
 * place and shared (the record is the caller's fresh copy); attributes that are not part of a
 * spec are dropped. Throws InvalidAgentRecordError when a field has the wrong type.
 */
export function agentSpecFromRecord(record: Row): AgentSpec {
  const retry = record.retry as { maximumAttempts?: unknown; initialIntervalMs?: unknown };
  if (
    typeof record.name !== 'string' ||
    typeof record.version !== 'number' ||
    typeof record.role !== 'string' ||
    typeof record.description !== 'string' ||
    typeof record.systemPrompt !== 'string' ||
    typeof record.maxConcurrency !== 'number' ||
    typeof record.timeoutMs !== 'number' ||
    typeof record.enabled !== 'boolean' ||
    !isStringList(record.capabilities) ||
    !isStringList(record.modelPreferences) ||
    !isStringList(record.alternatives) ||
    (record.taskQueue !== undefined && typeof record.taskQueue !== 'string') ||
    typeof retry !== 'object' ||
    retry === null ||
    typeof retry.maximumAttempts !== 'number' ||
    typeof retry.initialIntervalMs !== 'number'
  ) {
    throw new InvalidAgentRecordError(
      `stored agent ${JSON.stringify(record.name)} v${String(record.version)} is not a valid spec`,
    );
  }
  const spec = {
    name: record.name,
    version: record.version,
    source: record.source === 'builtin' ? ('builtin' as const) : ('registry' as const),
    role: record.role,
    description: record.description,
    capabilities: Object.freeze(record.capabilities) as string[],
    modelPreferences: Object.freeze(record.modelPreferences) as string[],
    taskQueue: record.taskQueue,
    maxConcurrency: record.maxConcurrency,
    timeoutMs: record.timeoutMs,
    retry: Object.freeze(retry) as AgentSpec['retry'],
    systemPrompt: record.systemPrompt,
    alternatives: Object.freeze(record.alternatives) as string[],
    enabled: record.enabled,
    updatedAt: typeof record.updatedAt === 'string' ? record.updatedAt : undefined,
    updatedBy: typeof record.updatedBy === 'string' ? record.updatedBy : undefined,
  };
  return Object.freeze(spec);
}

function isStringList(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}
