/**
 * Live load of task queues, read from Temporal: pollers and the approximate backlog of the
 * workflow and the activity side, through `DescribeTaskQueue` with `reportStats` (default API
 * mode, one call per task type). Results are cached for a short TTL and concurrent reads of a
 * queue share one call, so routing, `/health` and metric scrapes ask Temporal at most once per
 * queue per TTL.
 *
 * Never throws: a failed or timed-out read yields `{ status: 'unknown' }` for that queue.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { QueueLoad } from '../routing/routing-types';

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/** One side (workflow or activity tasks) of a task queue. */
export interface TaskQueueSideLoad {
  pollers: number;
  /** Approximate count of tasks waiting for a poller. */
  backlog: number;
  /** Age of the oldest waiting task, seconds (0 when none wait). */
  backlogAgeSeconds: number;
  /** Tasks added / dispatched per second, as the server estimates them. */
  addRate: number;
  dispatchRate: number;
}

export type TaskQueueLoad =
  | {
      status: 'known';
      taskQueue: string;
      workflow: TaskQueueSideLoad;
      activity: TaskQueueSideLoad;
      /** Epoch milliseconds of the read. */
      readAt: number;
    }
  | { status: 'unknown'; taskQueue: string; error: string; readAt: number };

export interface TaskQueueLoadReaderOptions {
  connection: Pick<Connection, 'workflowService' | 'withDeadline'>;
  namespace: string;
  /** How long a read is reused; 2 s unless set. */
  ttlMs?: number;
  /** Deadline of one DescribeTaskQueue call; 1 s unless set. */
  timeoutMs?: number;
  now?: () => number;
}

export interface TaskQueueLoadReader {
  /** The load of `taskQueue`, from the cache when younger than the TTL. */
  read(taskQueue: string): Promise<TaskQueueLoad>;
  /** The loads of several queues, read in parallel. */
  readMany(taskQueues: readonly string[]): Promise<TaskQueueLoad[]>;
  /** The cached load without reading (undefined when never read or expired). */
  peek(taskQueue: string): TaskQueueLoad | undefined;
  /**
   * Activity-side loads for the router (agent steps are activities): only queues whose load
   * is known appear, so the router scores the others as unknown.
   */
  snapshot(taskQueues: readonly string[]): Promise<Map<string, QueueLoad>>;
}

export function createTaskQueueLoadReader(
  options: TaskQueueLoadReaderOptions,
): TaskQueueLoadReader {
  const ttlMs = options.ttlMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 1_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, TaskQueueLoad>();
  const pending = new Map<string, Promise<TaskQueueLoad>>();

  const describe = async (taskQueue: string, type: temporal.api.enums.v1.TaskQueueType) => {
    const response = await options.connection.withDeadline(Date.now() + timeoutMs, () =>
      options.connection.workflowService.describeTaskQueue({
        namespace: options.namespace,
        taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: type,
        reportStats: true,
      }),
    );
    const stats = response.stats;
    const age = stats?.approximateBacklogAge;
    return {
      pollers: response.pollers?.length ?? 0,
      backlog: Number(stats?.approximateBacklogCount ?? 0),
      backlogAgeSeconds: age ? Number(age.seconds ?? 0) + (age.nanos ?? 0) / 1e9 : 0,
      addRate: stats?.tasksAddRate ?? 0,
      dispatchRate: stats?.tasksDispatchRate ?? 0,
    } satisfies TaskQueueSideLoad;
  };

  const load = async (taskQueue: string): Promise<TaskQueueLoad> => {
    try {
      const [workflow, activity] = await Promise.all([
        describe(taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        describe(taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
      ]);
      return { status: 'known', taskQueue, workflow, activity, readAt: now() };
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      return { status: 'unknown', taskQueue, error: message, readAt: now() };
    }
  };

  const peek = (taskQueue: string): TaskQueueLoad | undefined => {
    const cached = cache.get(taskQueue);
    return cached && now() - cached.readAt < ttlMs ? cached : undefined;
  };

  const read = (taskQueue: string): Promise<TaskQueueLoad> => {
    const cached = peek(taskQueue);
    if (cached) return Promise.resolve(cached);
    const inFlight = pending.get(taskQueue);
    if (inFlight) return inFlight;
    const promise = load(taskQueue).then((result) => {
      cache.set(taskQueue, result);
      pending.delete(taskQueue);
      return result;
    });
    pending.set(taskQueue, promise);
    return promise;
  };

  const readMany = (taskQueues: readonly string[]) =>
    Promise.all([...new Set(taskQueues)].map((taskQueue) => read(taskQueue)));

  return {
    read,
    readMany,
    peek,
    async snapshot(taskQueues) {
      const loads = new Map<string, QueueLoad>();
      for (const result of await readMany(taskQueues)) {
        if (result.status === 'known') {
          loads.set(result.taskQueue, {
            backlog: result.activity.backlog,
            pollers: result.activity.pollers,
          });
        }
      }
      return loads;
    },
  };
}
