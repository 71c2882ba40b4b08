/**
 * Health of the platform as the API sees it: Temporal reachable, workers polling the session
 * task queue, the DynamoDB session index reachable. `down` when a backing service is
 * unreachable; `degraded` when they are up but no worker polls (sessions would not progress).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export type HealthState = 'ok' | 'degraded' | 'down';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  detail?: string;
}

export interface WorkerHealth {
  taskQueue: string;
  workflowPollers: number;
  activityPollers: number;
}

export interface HealthReport {
  status: HealthState;
  checkedAt: string;
  components: { temporal: ComponentHealth; dynamodb: ComponentHealth };
  workers?: WorkerHealth;
}

export interface HealthCheckOptions {
  connection: Connection;
  namespace: string;
  taskQueue: string;
  dynamo: DynamoDBClient;
  sessionsTable: string;
  timeoutMs?: number;
}

export type HealthCheck = () => Promise<HealthReport>;

export function createHealthCheck(options: HealthCheckOptions): HealthCheck {
  const timeoutMs = options.timeoutMs ?? 2000;
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
  const pollers = async (type: temporal.api.enums.v1.TaskQueueType): Promise<number> => {
    const response = await options.connection.withDeadline(Date.now() + timeoutMs, () =>
      options.connection.workflowService.describeTaskQueue({
        namespace: options.namespace,
        taskQueue: {
          name: options.taskQueue,
          kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
        },
        taskQueueType: type,
      }),
    );
    return response.pollers?.length ?? 0;
  };

  return async function checkHealth(): Promise<HealthReport> {
    const [temporalHealth, dynamodb] = await Promise.all([
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
    ]);
    let workers: WorkerHealth | undefined;
    if (temporalHealth.status === 'up') {
      const [workflowPollers, activityPollers] = await Promise.all([
        pollers(temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW).catch(() => 0),
        pollers(temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY).catch(() => 0),
      ]);
      workers = { taskQueue: options.taskQueue, workflowPollers, activityPollers };
    }
    const down = temporalHealth.status === 'down' || dynamodb.status === 'down';
    const degraded = !workers || workers.workflowPollers === 0 || workers.activityPollers === 0;
    return {
      status: down ? 'down' : degraded ? 'degraded' : 'ok',
      checkedAt: new Date().toISOString(),
      components: { temporal: temporalHealth, dynamodb },
      ...(workers ? { workers } : {}),
    };
  };
}
