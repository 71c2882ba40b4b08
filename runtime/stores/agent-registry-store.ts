/**
 * The agent registry: versioned agent specs in DynamoDB on top of the built-in agents, in two
 * scopes. Platform agents (the built-ins and what a platform admin registers) are seen by
 * every tenant; a tenant's own agents and its overrides of platform agents are seen only by
 * that tenant, and win over the platform's version of the same name. Every registration writes
 * a new immutable version (the built-ins are version 1); the newest version is current, and a
 * disabled one can never be scheduled. Reads go through a short cache so agent steps do not
 * each read DynamoDB.
 *
 * Storage: platform rows are keyed by the agent name (as before); tenant rows by
 * `<tenant>/<agent>` (neither a tenant id nor an agent name contains `/`, so they never meet),
 * with `agentName` and `tenantId` beside the spec.
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

/** A spec as a tenant sees it: from the platform, or the tenant's own (an agent or override). */
export type ScopedAgentSpec = AgentSpec & {
  readonly scope: 'platform' | 'tenant';
  /** The owning tenant, for `scope: 'tenant'`. */
  readonly tenantId?: string;
};

interface Catalog {
  platform: Map<string, ScopedAgentSpec>;
  tenants: Map<string, Map<string, ScopedAgentSpec>>;
}

const tenantKey = (tenantId: string, name: string): string => `${tenantId}/${name}`;

function assertTenant(tenantId: string): void {
  if (!tenantId || tenantId.includes('/')) throw new TypeError(`invalid tenant "${tenantId}"`);
}

/** A stored row back to the spec its scope means. */
function fromItem(item: Record<string, unknown>): ScopedAgentSpec {
  const { agentName, tenantId, ...spec } = item;
  if (typeof tenantId === 'string' && typeof agentName === 'string') {
    return { ...(spec as unknown as AgentSpec), name: agentName, scope: 'tenant', tenantId };
  }
  return { ...(spec as unknown as AgentSpec), scope: 'platform' };
}

const platformSpec = (spec: AgentSpec): ScopedAgentSpec => ({ ...spec, scope: 'platform' });

export class AgentRegistryStore implements AgentCatalog {
  private cache: { at: number; catalog: Catalog } | undefined;
  /** The last registry read that succeeded: served while DynamoDB cannot be read. */
  private lastRead: Catalog | undefined;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { cacheTtlMs?: number; now?: () => number } = {},
  ) {}

  /**
   * Registers a new version of `name`: in the platform scope without `tenantId` (every tenant
   * sees it unless it overrides it), else in that tenant's scope only. The version is one
   * above the newest the scope can see (built-in, platform or the tenant's own). Validates the
   * input; throws AgentVersionConflictError if a concurrent registration took that version.
   */
  async register(
    name: string,
    input: AgentSpecInput,
    by: string,
    tenantId?: string,
  ): Promise<ScopedAgentSpec> {
    if (tenantId !== undefined) assertTenant(tenantId);
    const fields = agentSpecInputSchema.parse(input);
    const platform = await this.readLatest(name);
    const own =
      tenantId !== undefined ? await this.readLatest(tenantKey(tenantId, name)) : undefined;
    const version = Math.max(platform?.version ?? 0, own?.version ?? 0) + 1;
    const spec: AgentSpec = {
      ...fields,
      name,
      version,
      source: 'registry',
      updatedAt: new Date(this.now()).toISOString(),
      updatedBy: by,
    };
    const item =
      tenantId !== undefined
        ? { ...spec, name: tenantKey(tenantId, name), agentName: name, tenantId }
        : spec;
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
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
    return fromItem(item);
  }

  /** The agent `tenantId` sees (its own version first, then the platform's); platform only without it. */
  async get(name: string, tenantId?: string): Promise<ScopedAgentSpec | undefined> {
    const catalog = await this.current();
    const own = tenantId !== undefined ? catalog.tenants.get(tenantId)?.get(name) : undefined;
    return own ?? catalog.platform.get(name);
  }

  /** Every agent `tenantId` sees, by name; the platform's only without a tenant. */
  async list(tenantId?: string): Promise<ScopedAgentSpec[]> {
    const catalog = await this.current();
    const merged = new Map(catalog.platform);
    if (tenantId !== undefined) {
      for (const [name, spec] of catalog.tenants.get(tenantId) ?? []) merged.set(name, spec);
    }
    return [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async enabledNames(tenantId?: string): Promise<ReadonlySet<string>> {
    return new Set(
      (await this.list(tenantId)).filter((spec) => spec.enabled).map((spec) => spec.name),
    );
  }

  /**
   * Newest version of every agent per scope: built-ins overlaid by stored versions. Cached
   * briefly; while DynamoDB cannot be read, the last successful read is served (agent steps
   * and planning go on through an outage instead of using up their retries).
   */
  private async current(): Promise<Catalog> {
    const ttl = this.options.cacheTtlMs ?? 5_000;
    if (this.cache && this.now() - this.cache.at < ttl) return this.cache.catalog;
    const platform = new Map(BUILTIN_AGENTS.map((spec) => [spec.name, platformSpec(spec)]));
    const tenants = new Map<string, Map<string, ScopedAgentSpec>>();
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.documents.send(
          new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
        );
        for (const item of page.Items ?? []) {
          const spec = fromItem(item);
          let scope = platform;
          if (spec.tenantId !== undefined) {
            scope = tenants.get(spec.tenantId) ?? new Map<string, ScopedAgentSpec>();
            tenants.set(spec.tenantId, scope);
          }
          const known = scope.get(spec.name);
          if (!known || spec.version > known.version) scope.set(spec.name, spec);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      if (this.lastRead) return this.lastRead;
      throw error;
    }
    const catalog = { platform, tenants };
    this.cache = { at: this.now(), catalog };
    this.lastRead = catalog;
    return catalog;
  }

  /** The newest stored row under `key` (a platform name or a tenant key); a built-in else. */
  private async readLatest(key: string): Promise<ScopedAgentSpec | undefined> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#name = :name',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': key },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = Items?.[0];
    if (item) return fromItem(item);
    const builtin = key.includes('/') ? undefined : findBuiltinAgent(key);
    return builtin ? platformSpec(builtin) : undefined;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
