/**
 * Fair share under load: tenant A holds `floodSteps` queued steps on a task queue whose workers
 * are all busy; then tenant B schedules one step. Measured: how long B's step waits from being
 * scheduled to starting on a worker (server schedule time → activity start in the worker).
 *
 * Steps are activities scheduled as agent steps are (workflows/session/agent-step-activity.ts):
 * one priority key for both tenants, the tenant id as Temporal fairness key. Each side runs on
 * its own fresh dev server (the platform's dynamic config, SQLite WAL): "ours" with
 * `matching.enableFairness` (PLATFORM_DYNAMIC_CONFIG), the baseline with it off — FIFO within a
 * priority, where B waits behind A's whole backlog. The workers (`slots` activity slots, each
 * step `stepMs` long) start only after the matching service counts all of A's steps in the
 * task queue's backlog (its persistence, as under a real flood; not merely scheduled by
 * history); B is scheduled once `warmSteps` of A's steps have run. Target: B starts within 1 s with fairness. Bounded: each side ends as
 * soon as B has started (A's remaining steps are terminated).
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundle,
} from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { freePort, stopPid } from '../../infra/stack/processes';
import {
  PLATFORM_DYNAMIC_CONFIG,
  startTemporalDevServer,
} from '../../infra/stack/temporal-dev-server';
import { createTaskQueueLoadReader } from '../../runtime/temporal/task-queue-load';
import type { BenchMetric } from '../core/metric';
import { compare, round } from '../core/records';
import type {
  FairShareActivities,
  FairShareStepInput,
  TenantStepsInput,
} from '../workloads/fair-share-workflows';

export interface FairShareOptions {
  /** Steps tenant A has queued before B asks. */
  floodSteps: number;
  /** Activity slots of the (one) worker process. */
  slots: number;
  /** How long each step runs. */
  stepMs: number;
  /** A's steps that run before B's step is scheduled (the queue is draining). */
  warmSteps: number;
  /** B's step must start within this many ms with fairness. */
  targetMs: number;
  /** Give up on a side after this long (the metric stays bounded). */
  sideTimeoutMs: number;
}

export const FAIR_SHARE_DEFAULTS: FairShareOptions = {
  floodSteps: 1_000,
  slots: 10,
  stepMs: 50,
  warmSteps: 50,
  targetMs: 1_000,
  sideTimeoutMs: 15_000,
};

const NAMESPACE = 'default';
const PRIORITY_KEY = 3;
const STEPS_PER_WORKFLOW = 100;

export interface FairShareSide {
  /** B's step: scheduled → started, ms (or until the side's deadline when not `started`). */
  waitMs: number;
  /** False when B's step had not started by the side's deadline. */
  started: boolean;
  /** A's steps already started when B's step started (of `floodSteps`). */
  aStartedBefore: number;
  /** A's steps started in the worker before B was scheduled. */
  aStartedAtSchedule: number;
  /** A's steps in the task queue's backlog (matching's own count) when the worker started. */
  backlogAtWorkerStart: number;
}

/** Runs one side on a fresh dev server with `dynamicConfig` on top of the platform's. */
export async function measureFairShare(
  options: FairShareOptions,
  dynamicConfig: Record<string, unknown>,
  bundle: WorkflowBundle,
  dir: string,
): Promise<FairShareSide> {
  const port = await freePort();
  const server = await startTemporalDevServer({
    port,
    namespace: NAMESPACE,
    headless: true,
    dbFile: path.join(dir, 'temporal.db'),
    logDir: dir,
    sqlitePragmas: ['journal_mode=WAL', 'synchronous=OFF'],
    dynamicConfig,
  });
  const address = `127.0.0.1:${port}`;
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: NAMESPACE });
  const suffix = Date.now().toString(36);
  const workflowQueue = `fair-share-workflows-${suffix}`;
  const stepQueue = `fair-share-steps-${suffix}`;
  const started = new Map<string, number>();
  let aStarted = 0;
  let bWaitMs: number | undefined;
  let aStartedBefore = 0;
  const activities: FairShareActivities = {
    async fairShareStep(input: FairShareStepInput) {
      const info = Context.current().info;
      if (input.tenantId === 'tenant-b') {
        bWaitMs = Date.now() - info.currentAttemptScheduledTimestampMs;
        aStartedBefore = aStarted;
      } else aStarted += 1;
      started.set(`${input.tenantId}/${input.index}`, Date.now());
      await new Promise((resolve) => setTimeout(resolve, input.sleepMs));
    },
  };
  const workflowWorker = await Worker.create({
    connection: native,
    namespace: NAMESPACE,
    taskQueue: workflowQueue,
    workflowBundle: bundle,
  });
  const stepsOf = (tenantId: string, count: number): TenantStepsInput => ({
    tenantId,
    count,
    taskQueue: stepQueue,
    priorityKey: PRIORITY_KEY,
    sleepMs: options.stepMs,
  });
  const workflowRun = workflowWorker.run();
  let stepWorker: Worker | undefined;
  let stepRun: Promise<void> | undefined;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // A's steps in workflows of STEPS_PER_WORKFLOW (one workflow task schedules them all).
  const floods = await Promise.all(
    Array.from({ length: Math.ceil(options.floodSteps / STEPS_PER_WORKFLOW) }, (_, index) =>
      client.workflow.start('tenantSteps', {
        taskQueue: workflowQueue,
        workflowId: `fair-share-a-${index}-${suffix}`,
        args: [
          stepsOf(
            'tenant-a',
            Math.min(STEPS_PER_WORKFLOW, options.floodSteps - index * STEPS_PER_WORKFLOW),
          ),
        ],
      }),
    ),
  );
  const handles = [...floods];
  // Matching's own count of the step queue's backlog (read fresh each time).
  const loads = createTaskQueueLoadReader({ connection, namespace: NAMESPACE, ttlMs: 0 });
  const queuedSteps = async () => {
    const load = await loads.read(stepQueue);
    return load.status === 'known' ? load.activity.backlog : 0;
  };
  let backlogAtWorkerStart: number;
  try {
    let deadline = Date.now() + options.sideTimeoutMs;
    // All of A's steps are scheduled (pending on the server) before any worker takes one.
    for (;;) {
      const descriptions = await Promise.all(floods.map((flood) => flood.describe()));
      const pending = descriptions.reduce(
        (sum, description) => sum + (description.raw.pendingActivities?.length ?? 0),
        0,
      );
      // Scheduled in the workflows is not yet queued: the history service hands each task to
      // matching through its transfer queue, one by one (seconds for 1,000 on one SQLite
      // shard). A worker started before that ends takes A's late tasks as they arrive, in
      // arrival order, and B's task arrives behind them: that measures the transfer queue,
      // not the task queue's fairness. So wait for matching to hold the whole backlog.
      const backlog = pending >= options.floodSteps ? await queuedSteps() : 0;
      if (backlog >= options.floodSteps) {
        backlogAtWorkerStart = backlog;
        break;
      }
      if (Date.now() > deadline + 45_000) {
        throw new Error(
          `fair-share: only ${pending} steps scheduled and ${backlog} queued in matching`,
        );
      }
      await sleep(100);
    }
    deadline = Date.now() + options.sideTimeoutMs;
    // Created only now: a Worker that never ran would hold the connection open.
    stepWorker = await Worker.create({
      connection: native,
      namespace: NAMESPACE,
      taskQueue: stepQueue,
      activities,
      maxConcurrentActivityTaskExecutions: options.slots,
    });
    stepRun = stepWorker.run();
    while (aStarted < options.warmSteps) {
      if (Date.now() > deadline) throw new Error(`fair-share: A started only ${aStarted} steps`);
      await sleep(10);
    }
    const aStartedAtSchedule = aStarted;
    const scheduledAt = Date.now();
    handles.push(
      await client.workflow.start('tenantSteps', {
        taskQueue: workflowQueue,
        workflowId: `fair-share-b-${suffix}`,
        args: [stepsOf('tenant-b', 1)],
      }),
    );
    // Bounded: a B step that has not started by the deadline counts as waiting that long.
    while (bWaitMs === undefined && Date.now() < deadline) await sleep(10);
    return {
      waitMs: bWaitMs ?? Date.now() - scheduledAt,
      started: bWaitMs !== undefined,
      aStartedBefore: bWaitMs !== undefined ? aStartedBefore : aStarted,
      aStartedAtSchedule,
      backlogAtWorkerStart,
    };
  } finally {
    // Stop taking steps, then end every workflow of the side (A's remaining steps).
    if (stepWorker?.getState() === 'RUNNING') stepWorker.shutdown();
    await stepRun?.catch(() => undefined);
    await Promise.allSettled(handles.map((handle) => handle.terminate('fair-share: measured')));
    workflowWorker.shutdown();
    await workflowRun.catch(() => undefined);
    await native.close();
    await connection.close();
    await stopPid(server.pid, 10_000);
  }
}

export function fairShare(options: FairShareOptions = FAIR_SHARE_DEFAULTS): BenchMetric {
  return {
    name: 'fair-share',
    description: `tenant A queues ${options.floodSteps} steps on ${options.slots} busy slots (${options.stepMs} ms each); how long until tenant B's first step starts: Temporal fairness keys (tenant) on vs off, each on a fresh dev server; target ≤ ${options.targetMs} ms with fairness`,
    async run(context) {
      const bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../workloads/fair-share-workflows'),
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
      });
      const sideDir = (name: string) => mkdtempSync(path.join(context.dir, `fair-share-${name}-`));
      const withFairness = await measureFairShare(
        options,
        { 'matching.enableFairness': true },
        bundle,
        sideDir('on'),
      );
      context.log(`  fairness on: B waited ${round(withFairness.waitMs)} ms`);
      const withoutFairness = await measureFairShare(
        options,
        { 'matching.enableFairness': false },
        bundle,
        sideDir('off'),
      );
      context.log(`  fairness off: B waited ${round(withoutFairness.waitMs)} ms`);
      const details = {
        withFairness,
        withoutFairness,
        dynamicConfig: { ...PLATFORM_DYNAMIC_CONFIG },
      };
      return {
        records: [
          compare({
            name: `fair share: tenant B's first step wait behind ${options.floodSteps} of A (fairness on / off)`,
            ours: withFairness.waitMs,
            baseline: withoutFairness.waitMs,
            unit: 'ms',
            better: 'lower',
            details,
          }),
          compare({
            name: `fair share: tenant B's first step wait with fairness, against a ${options.targetMs} ms budget`,
            ours: withFairness.waitMs,
            baseline: options.targetMs,
            unit: 'ms',
            better: 'lower',
            target: 1,
          }),
        ],
        parameters: { ...options },
      };
    },
  };
}
