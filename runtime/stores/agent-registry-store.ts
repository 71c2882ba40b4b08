/**
 * The agent registry: versioned agent specs in DynamoDB on top of the built-in agents. Every
 * registration writes a new immutable version (the built-ins are version 1); the newest
 * version is current, and a disabled one can never be scheduled. Reads go through a short
 * cache so agent steps do not each read DynamoDB.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { BUILTIN_AGENTS, findBuiltinAgent } from '../../core/agents/builtin-agents';
import type { AgentCatalog, AgentSpec, AgentSpecInput } from '../../core/agents/agent-spec';
import { agentSpecInputSchema } from '../../core/agents/agent-spec';

/** Another registration of the same agent landed first; the caller may retry. */
export class AgentVersionConflictError extends Error {
  override readonly name = 'AgentVersionConflictError';
}

export class AgentRegistryStore implements AgentCatalog {
  private cache: { at: number; agents: Map<string, AgentSpec> } | undefined;
  /** The last registry read that succeeded: served while DynamoDB cannot be read. */
  private lastRead: Map<string, AgentSpec> | undefined;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { cacheTtlMs?: number; now?: () => number } = {},
  ) {}

  /**
   * Registers a new version of `name` (version 1 for a new agent, or one above the current
   * version, built-in or stored). Validates the input; throws AgentVersionConflictError if a
   * concurrent registration took that version.
   */
  async register(name: string, input: AgentSpecInput, by: string): Promise<AgentSpec> {
    const fields = agentSpecInputSchema.parse(input);
    const current = await this.readLatest(name);
    const spec: AgentSpec = {
      ...fields,
      name,
      version: (current?.version ?? 0) + 1,
      source: 'registry',
      updatedAt: new Date(this.now()).toISOString(),
      updatedBy: by,
    };
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: spec,
          ConditionExpression: 'attribute_not_exists(#version)',
          ExpressionAttributeNames: { '#version': 'version' },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new AgentVersionConflictError(
          `agent "${name}" version ${spec.version} was registered concurrently`,
        );
      }
      throw error;
    }
    this.cache = undefined;
    return spec;
  }

  async get(name: string): Promise<AgentSpec | undefined> {
    return (await this.current()).get(name);
  }

  async list(): Promise<AgentSpec[]> {
    return [...(await this.current()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async enabledNames(): Promise<ReadonlySet<string>> {
    return new Set((await this.list()).filter((spec) => spec.enabled).map((spec) => spec.name));
  }

  /**
   * Newest version of every agent: built-ins overlaid by stored versions. Cached briefly; while
   * DynamoDB cannot be read, the last successful read is served (agent steps and planning go on
   * through an outage instead of using up their retries).
   */
  private async current(): Promise<Map<string, AgentSpec>> {
    const ttl = this.options.cacheTtlMs ?? 5_000;
    if (this.cache && this.now() - this.cache.at < ttl) return this.cache.agents;
    const agents = new Map(BUILTIN_AGENTS.map((spec) => [spec.name, spec]));
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.documents.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
        );
        for (const item of (page.Items ?? []) as AgentSpec[]) {
          const known = agents.get(item.name);
          if (!known || item.version > known.version) agents.set(item.name, item);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      if (this.lastRead) return this.lastRead;
      throw error;
    }
    this.cache = { at: this.now(), agents };
    this.lastRead = agents;
    return agents;
  }

  private async readLatest(name: string): Promise<AgentSpec | undefined> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': name },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return (Items?.[0] as AgentSpec | undefined) ?? findBuiltinAgent(name);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
