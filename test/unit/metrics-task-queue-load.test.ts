import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createTaskQueueLoadReader } from '../../runtime/temporal/task-queue-load';

type Describe = Connection['workflowService']['describeTaskQueue'];

/** Stands in for the Temporal connection: answers DescribeTaskQueue from `answer`. */
function connection(answer: (request: Parameters<Describe>[0]) => Promise<unknown>) {
  const calls: Parameters<Describe>[0][] = [];
  return {
    calls,
    connection: {
      withDeadline: <T>(_deadline: number, run: () => Promise<T>) => run(),
      workflowService: {
        describeTaskQueue: ((request: Parameters<Describe>[0]) => {
          calls.push(request);
          return answer(request);
        }) as Describe,
      },
    } as unknown as Pick<Connection, 'workflowService' | 'withDeadline'>,
  };
}

const WORKFLOW = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW;

describe('createTaskQueueLoadReader', () => {
  test('reads both sides with reportStats and caches for the TTL', async () => {
    let clock = 1_000;
    const fake = connection(async (request) => ({
      pollers: request.taskQueueType === WORKFLOW ? [{}, {}] : [{}],
      stats: {
        approximateBacklogCount: request.taskQueueType === WORKFLOW ? 4 : 0,
        approximateBacklogAge: { seconds: 2, nanos: 500_000_000 },
        tasksAddRate: 1.5,
        tasksDispatchRate: 0.5,
      },
    }));
    const reader = createTaskQueueLoadReader({
      connection: fake.connection,
      namespace: 'default',
      ttlMs: 2_000,
      now: () => clock,
    });
    const [first, again] = await Promise.all([reader.read('q'), reader.read('q')]);
    expect(first).toEqual({
      status: 'known',
      taskQueue: 'q',
      workflow: { pollers: 2, backlog: 4, backlogAgeSeconds: 2.5, addRate: 1.5, dispatchRate: 0.5 },
      activity: { pollers: 1, backlog: 0, backlogAgeSeconds: 2.5, addRate: 1.5, dispatchRate: 0.5 },
      readAt: 1_000,
    });
    expect(again).toBe(first);
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]).toMatchObject({ namespace: 'default', reportStats: true });
    clock += 1_999;
    await reader.read('q');
    expect(fake.calls).toHaveLength(2);
    clock += 1;
    expect(reader.peek('q')).toBeUndefined();
    await reader.read('q');
    expect(fake.calls).toHaveLength(4);
    expect(await reader.snapshot(['q', 'q'])).toEqual(new Map([['q', { backlog: 0, pollers: 1 }]]));
  });

  test('a failing Temporal yields unknown, never an exception', async () => {
    const fake = connection(() => Promise.reject(new Error('14 UNAVAILABLE: no connection\nmore')));
    const reader = createTaskQueueLoadReader({ connection: fake.connection, namespace: 'default' });
    expect(await reader.read('q')).toMatchObject({
      status: 'unknown',
      taskQueue: 'q',
      error: '14 UNAVAILABLE: no connection',
    });
    expect(await reader.snapshot(['q'])).toEqual(new Map());
  });
});
