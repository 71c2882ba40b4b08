/**
 * Health of the platform as the API sees it: Temporal reachable, DynamoDB reachable and fast,
 * Redis reachable (when configured), and for the session task queue and every agent pool
 * queue, who polls it and what waits.
 *
 * - `down`: Temporal is unreachable (the API answers 503): nothing can start or be read.
 * - `degraded`: Temporal is up, but a part is missing or work would stall or lag:
 *   - DynamoDB unreachable: starting (the idempotency record) and listing sessions fail;
 *     running sessions go on (their index writes are retried; the final one durably) and
 *     sessions are read by id from Temporal;
 *   - Redis unreachable: live step text (`/stream`) is unavailable; the workers' shared state
 *     (circuit breakers, rate limits, response cache, model history) is not reachable from
 *     this side either — see README "When Redis is away";
 *   - the session queue lacks workflow or activity pollers, an agent pool queue has no
 *     activity pollers, tasks wait on a side nobody polls, a queue's load could not be read,
 *     or DynamoDB answered slower than `slowMs`.
 * - `ok`: none of that.
 *
 * `reasons` names the part in each line (`DynamoDB: …`, `Redis: …`, `task queue …`). Each
 * probe has a deadline, so a check resolves within about twice `timeoutMs`.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Connection } from '@temporalio/client';
import type { Redis } from 'ioredis';
import {
  createTaskQueueLoadReader,
  type TaskQueueLoad,
  type TaskQueueLoadReader,
} from '../../runtime/temporal/task-queue-load';

export type HealthState = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
}

/** Pollers of the session task queue (the report's shape before per-queue health). */
export interface WorkerHealth {
  taskQueue: string;
  workflowPollers: number;
  activityPollers: number;
}

export interface TaskQueueHealth {
  taskQueue: string;
  /** `session`: workflows and orchestration activities; `agent-pool`: agent activities only. */
  kind: 'session' | 'agent-pool';
  status: 'ok' | 'degraded' | 'unknown';
  workflowPollers: number;
  activityPollers: number;
  workflowBacklog: number;
  activityBacklog: number;
  /** Age of the oldest waiting task on either side, seconds. */
  backlogAgeSeconds: number;
  /** Why the queue is not ok. */
  detail?: string;
}

export interface HealthReport {
  status: HealthState;
  checkedAt: string;
  components: { temporal: ComponentHealth; dynamodb: ComponentHealth; redis?: ComponentHealth };
  /** Session queue pollers; absent while Temporal is down. */
  workers?: WorkerHealth;
  /** Every checked queue, session queue first; absent while Temporal is down. */
  taskQueues?: TaskQueueHealth[];
  /** Why the status is not ok, one line each. */
  reasons?: string[];
}

export interface HealthCheckOptions {
  connection: Connection;
  namespace: string;
  /** The session task queue. */
  taskQueue: string;
  /** Agent pool queues (activities only): a list, or read on every check (errors → none). */
  agentTaskQueues?: readonly string[] | (() => Promise<readonly string[]>);
  dynamo: DynamoDBClient;
  sessionsTable: string;
  /** Redis the API reads step streams from; checked (PING) when set. */
  redis?: Pick<Redis, 'ping' | 'status'>;
  /** Deadline of each probe; 2 s unless set. */
  timeoutMs?: number;
  /** DynamoDB answering slower than this is `degraded`; 1 s unless set. */
  slowMs?: number;
  /** Shared queue-load reader (its cache TTL applies); one is created when absent. */
  loads?: TaskQueueLoadReader;
}

export type HealthCheck = () => Promise<HealthReport>;

export function createHealthCheck(options: HealthCheckOptions): HealthCheck {
  const timeoutMs = options.timeoutMs ?? 2000;
  const slowMs = options.slowMs ?? 1000;
  const loads =
    options.loads ??
    createTaskQueueLoadReader({
      connection: options.connection,
      namespace: options.namespace,
      timeoutMs,
    });
  const timed = async (probe: () => Promise<unknown>): Promise<ComponentHealth> => {
    const started = performance.now();
    try {
      await probe();
      return { status: 'up', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return {
        status: 'down',
        latencyMs: Math.round(performance.now() - started),
        detail: error instanceof Error ? error.message.split('\n')[0] : String(error),
      };
    }
  };
  const agentQueues = async (): Promise<readonly string[]> => {
    const source = options.agentTaskQueues;
    if (!source) return [];
    if (typeof source !== 'function') return source;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        source(),
        new Promise<readonly string[]>((resolve) => {
          timer = setTimeout(() => resolve([]), timeoutMs);
        }),
      ]);
    } catch {
      return [];
    } finally {
      clearTimeout(timer);
    }
  };

  const redis = options.redis;
  const pingRedis = async (): Promise<void> => {
    if (!redis) return;
    // ioredis queues commands while it reconnects: a closed connection is down at once.
    if (redis.status !== 'ready') throw new Error(`connection ${redis.status}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.ping(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  return async function checkHealth(): Promise<HealthReport> {
    const [temporalHealth, dynamodb, redisHealth, pools] = await Promise.all([
      timed(() =>
        options.connection.withDeadline(Date.now() + timeoutMs, () =>
          options.connection.workflowService.getSystemInfo({}),
        ),
      ),
      timed(() =>
        options.dynamo.send(new DescribeTableCommand({ TableName: options.sessionsTable }), {
          abortSignal: AbortSignal.timeout(timeoutMs),
        }),
      ),
      redis ? timed(pingRedis) : Promise.resolve(undefined),
      agentQueues(),
    ]);
    const reasons: string[] = [];
    if (temporalHealth.status === 'down') reasons.push(`Temporal: ${temporalHealth.detail}`);
    if (dynamodb.status === 'down')
      reasons.push(
        `DynamoDB: ${dynamodb.detail} (starting and listing sessions fail; running sessions go on)`,
      );
    else if (dynamodb.latencyMs > slowMs)
      reasons.push(`DynamoDB slow: ${dynamodb.latencyMs} ms > ${slowMs} ms`);
    if (redisHealth?.status === 'down')
      reasons.push(`Redis: ${redisHealth.detail} (live step text unavailable)`);

    let taskQueues: TaskQueueHealth[] | undefined;
    if (temporalHealth.status === 'up') {
      const names = [options.taskQueue, ...pools.filter((name) => name !== options.taskQueue)];
      const results = await loads.readMany(names);
      taskQueues = results.map((load) =>
        queueHealth(load, load.taskQueue === options.taskQueue ? 'session' : 'agent-pool'),
      );
      for (const queue of taskQueues) {
        if (queue.status !== 'ok') reasons.push(`task queue ${queue.taskQueue}: ${queue.detail}`);
      }
    }
    const session = taskQueues?.[0];
    const down = temporalHealth.status === 'down';
    return {
      status: down ? 'down' : reasons.length > 0 ? 'degraded' : 'ok',
      checkedAt: new Date().toISOString(),
      components: {
        temporal: temporalHealth,
        dynamodb,
        ...(redisHealth ? { redis: redisHealth } : {}),
      },
      ...(session
        ? {
            workers: {
              taskQueue: session.taskQueue,
              workflowPollers: session.workflowPollers,
              activityPollers: session.activityPollers,
            },
          }
        : {}),
      ...(taskQueues ? { taskQueues } : {}),
      ...(reasons.length > 0 ? { reasons } : {}),
    };
  };
}

/** A queue's health from its load; the rules are in the module comment. */
export function queueHealth(load: TaskQueueLoad, kind: TaskQueueHealth['kind']): TaskQueueHealth {
  if (load.status === 'unknown') {
    return {
      taskQueue: load.taskQueue,
      kind,
      status: 'unknown',
      workflowPollers: 0,
      activityPollers: 0,
      workflowBacklog: 0,
      activityBacklog: 0,
      backlogAgeSeconds: 0,
      detail: `load unknown: ${load.error}`,
    };
  }
  const { workflow, activity } = load;
  const problems: string[] = [];
  if (kind === 'session' && workflow.pollers === 0) problems.push('no workflow pollers');
  if (activity.pollers === 0) problems.push('no activity pollers');
  if (workflow.backlog > 0 && workflow.pollers === 0)
    problems.push(`${workflow.backlog} workflow tasks wait with nobody polling`);
  if (activity.backlog > 0 && activity.pollers === 0)
    problems.push(`${activity.backlog} activity tasks wait with nobody polling`);
  return {
    taskQueue: load.taskQueue,
    kind,
    status: problems.length > 0 ? 'degraded' : 'ok',
    workflowPollers: workflow.pollers,
    activityPollers: activity.pollers,
    workflowBacklog: workflow.backlog,
    activityBacklog: activity.backlog,
    backlogAgeSeconds: Math.max(workflow.backlogAgeSeconds, activity.backlogAgeSeconds),
    ...(problems.length > 0 ? { detail: problems.join('; ') } : {}),
  };
}
