/**
 * Open sessions on one worker: N sessions that finished their first turn and wait for input
 * (`keepOpen`), all on ONE worker process, against N raw workflows that ran one no-op activity
 * and wait for a signal to run another (bench/raw/raw-workflows.ts `rawIdleWorkflow`). Each side
 * gets a worker process of its own (same slots, same sticky cache size), so its RSS is its own.
 *
 * Per side: sessions start at a bounded rate (a closed loop, `startConcurrency` starting at once,
 * each counted open when it has no pending workflow task or activity), while a probe queries
 * a random open one every second (the status query, which used to time out while sessions were
 * starting). Then RSS is read, and `signals` random open ones get a new turn (`add-input` with a
 * 1-step plan; raw: its signal) at a fixed rate: signal→step-start is the time from the client
 * sending the signal to the step activity's ActivityTaskStarted event (server clock, same host).
 * Sticky cache size and forced evictions come from the worker's SDK metrics.
 *
 * Size: `BENCH_OPEN_SESSIONS` (default 1,000 per side: about 155 s for both sides on 2 cores);
 * `BENCH_OPEN_SESSIONS_SIGNALS` (default 100), `BENCH_OPEN_SESSIONS_CACHE` (sticky cache size;
 * default: the session worker's production default), `BENCH_OPEN_SESSIONS_START_CONCURRENCY`
 * (default 10: more starting at once on a loaded 2-core machine pushes first workflow tasks,
 * with their local activities, past their 10 s timeout, and retries pile up).
 */
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { addInputSignal, statusQuery, type SessionInput } from '../../core/session';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../../workers/session-worker';
import { WORKFLOW_TYPES } from '../../core/names';
import type { BenchContext, BenchMetric, IsolatedWorker } from '../core/metric';
import { cpuDelta, readCpu } from '../core/process-cpu';
import { compare, type BenchRecord } from '../core/records';
import { runClosedLoop, type Side } from '../core/schedule';
import { percentile, summarize } from '../core/stats';
import { rawNextSignal } from '../raw/raw-workflows';
import { RAW_IDLE_WORKFLOW_TYPE } from '../raw/workflow-types';
import { sequentialPlan, sessionInputFor } from '../workloads/workloads';

export interface OpenSessionsOptions {
  /** Open sessions (and raw workflows) per side. */
  sessions: number;
  /** Sessions starting at once (the bounded start rate). */
  startConcurrency: number;
  /** New turns timed per side. */
  signals: number;
  /** Signals sent per second (open loop). */
  signalsPerSecond: number;
  /** Sticky cache size of both workers. */
  maxCachedWorkflows: number;
}

function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? '');
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export function openSessionsDefaults(): OpenSessionsOptions {
  return {
    sessions: positiveEnv('BENCH_OPEN_SESSIONS', 1_000),
    startConcurrency: positiveEnv('BENCH_OPEN_SESSIONS_START_CONCURRENCY', 10),
    signals: positiveEnv('BENCH_OPEN_SESSIONS_SIGNALS', 100),
    signalsPerSecond: positiveEnv('BENCH_OPEN_SESSIONS_SIGNALS_PER_SECOND', 10),
    maxCachedWorkflows: positiveEnv('BENCH_OPEN_SESSIONS_CACHE', DEFAULT_MAX_CACHED_WORKFLOWS),
  };
}

/** Long enough that no session or raw workflow closes while the bench runs. */
const IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;
const POLL_MS = 100;
const PROBE_DEADLINE_MS = 5_000;
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident set size of a process, from /proc (bytes). */
function rssBytes(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}

/** Sum of a Prometheus metric's samples over all label sets (0 when absent). */
async function sdkMetric(worker: IsolatedWorker, name: string): Promise<number> {
  const text = await (await fetch(worker.sdkMetricsUrl)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function cacheMetrics(worker: IsolatedWorker) {
  const [size, forcedEvictions, hits, misses] = await Promise.all([
    sdkMetric(worker, 'temporal_sticky_cache_size'),
    sdkMetric(worker, 'temporal_sticky_cache_total_forced_eviction_total'),
    sdkMetric(worker, 'temporal_sticky_cache_hit_total'),
    sdkMetric(worker, 'temporal_sticky_cache_miss_total'),
  ]);
  return { size, forcedEvictions, hits, misses };
}

/** True once the workflow is running with no workflow task and no activity pending. */
async function isWaiting(handle: WorkflowHandle): Promise<boolean> {
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') {
    throw new Error(`${handle.workflowId} is ${description.status.name}`);
  }
  return (
    !description.raw.pendingWorkflowTask &&
    (description.raw.pendingActivities?.length ?? 0) === 0 &&
    description.historyLength > 3
  );
}

async function untilWaiting(handle: WorkflowHandle, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isWaiting(handle))) {
    if (Date.now() > deadline) {
      const { raw, historyLength } = await handle.describe();
      throw new Error(
        `${handle.workflowId} never waited for input: ${historyLength} events, pending ` +
          JSON.stringify({
            workflowTask: raw.pendingWorkflowTask,
            activities: raw.pendingActivities?.map((activity) => activity.activityType?.name),
          }),
      );
    }
    await sleep(POLL_MS);
  }
}

interface TimestampLike {
  seconds?: { toNumber(): number } | number | null;
  nanos?: number | null;
}

function eventMs(time: TimestampLike | null | undefined): number {
  const seconds = time?.seconds;
  const whole = typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0);
  return whole * 1000 + (time?.nanos ?? 0) / 1e6;
}

/**
 * Time of the ActivityTaskStarted event of the first `activityType` activity scheduled after the
 * last signal of `handle`'s history; undefined while that activity has not completed (Temporal
 * writes the started event when the attempt ends).
 */
async function stepStartAfterSignal(
  handle: WorkflowHandle,
  activityType: string,
): Promise<{ signaledAt: number; stepStartedAt: number } | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  let signaled = -1;
  events.forEach((event, index) => {
    if (event.workflowExecutionSignaledEventAttributes) signaled = index;
  });
  if (signaled < 0) return undefined;
  const scheduled = events
    .slice(signaled)
    .find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === activityType,
    );
  if (!scheduled) return undefined;
  const started = events.find(
    (event) =>
      event.activityTaskStartedEventAttributes &&
      String(event.activityTaskStartedEventAttributes.scheduledEventId) ===
        String(scheduled.eventId),
  );
  if (!started) return undefined;
  return {
    signaledAt: eventMs(events[signaled]?.eventTime),
    stepStartedAt: eventMs(started.eventTime),
  };
}

interface SideResult {
  rssBaselineBytes: number;
  rssOpenBytes: number;
  rssPeakBytes: number;
  rssAfterSignalsBytes: number;
  startSeconds: number;
  startsPerSecond: number;
  probe: {
    queries: number;
    failed: number;
    firstFailures: string[];
    latencyMs: ReturnType<typeof summarize> | null;
  };
  signalToStepMs: number[];
  signaledEventToStepMs: number[];
  cacheOpen: Awaited<ReturnType<typeof cacheMetrics>>;
  cacheAfterSignals: Awaited<ReturnType<typeof cacheMetrics>>;
  historyBytes: ReturnType<typeof summarize>;
  historyEvents: ReturnType<typeof summarize>;
  statusQueryBytes?: ReturnType<typeof summarize>;
  workerCpuMs: { start: number; signals: number };
}

interface SideDriver {
  start(index: number): Promise<WorkflowHandle>;
  probe(handle: WorkflowHandle): Promise<unknown>;
  signal(handle: WorkflowHandle): Promise<void>;
  stepActivity: string;
}

function driverOf(context: BenchContext, side: Side, worker: IsolatedWorker): SideDriver {
  const { client } = context;
  if (side === 'ours') {
    return {
      async start() {
        const base = sessionInputFor(context, 1);
        const input: SessionInput = {
          ...base,
          options: { keepOpen: true, idleTimeoutMs: IDLE_TIMEOUT_MS },
        };
        return client.workflow.start(WORKFLOW_TYPES.session, {
          workflowId: input.sessionId,
          taskQueue: worker.sessionTaskQueue,
          args: [input],
        });
      },
      probe: (handle) => handle.query(statusQuery),
      signal: (handle) =>
        handle.signal(addInputSignal, { text: 'one more turn', plan: sequentialPlan(1) }),
      stepActivity: 'runAgentStep',
    };
  }
  return {
    async start(index) {
      return client.workflow.start(RAW_IDLE_WORKFLOW_TYPE, {
        workflowId: `raw_open_${Date.now().toString(36)}_${index}`,
        taskQueue: worker.rawTaskQueue,
        args: [IDLE_TIMEOUT_MS],
      });
    },
    // Raw has no query of its own; the SDK's built-in one goes the same way through the worker.
    probe: (handle) => handle.query('__temporal_workflow_metadata'),
    signal: (handle) => handle.signal(rawNextSignal),
    stepActivity: 'noop',
  };
}

async function runSide(
  context: BenchContext,
  side: Side,
  options: OpenSessionsOptions,
): Promise<SideResult> {
  const worker = await context.startWorker({
    sides: [side === 'ours' ? 'session' : 'raw'],
    maxCachedWorkflows: options.maxCachedWorkflows,
  });
  try {
    const driver = driverOf(context, side, worker);
    const tracked = [{ name: 'worker', pid: worker.pid }];
    await sleep(2_000);
    const rssBaselineBytes = rssBytes(worker.pid);
    let rssPeakBytes = rssBaselineBytes;
    const rssSampler = setInterval(() => {
      rssPeakBytes = Math.max(rssPeakBytes, rssBytes(worker.pid));
    }, 500);
    try {
      const open: WorkflowHandle[] = [];
      const probeLatencies: number[] = [];
      const probeFailures: string[] = [];
      let probing = true;
      const prober = (async () => {
        while (probing) {
          await sleep(1_000);
          const handle = open[Math.floor(Math.random() * open.length)];
          if (!handle || !probing) continue;
          const started = performance.now();
          try {
            // The API's status query deadline (api/sessions/session-service.ts).
            await context.client.withDeadline(Date.now() + PROBE_DEADLINE_MS, () =>
              driver.probe(handle),
            );
            probeLatencies.push(performance.now() - started);
          } catch (error) {
            probeFailures.push(error instanceof Error ? error.message : String(error));
          }
        }
      })();
      const cpuBeforeStart = readCpu(tracked);
      const { elapsedMs } = await runClosedLoop(
        options.sessions,
        options.startConcurrency,
        async (index) => {
          const handle = await driver.start(index);
          await untilWaiting(handle);
          open.push(handle);
          if (open.length % 1_000 === 0) {
            context.log(
              `open-sessions ${side}: ${open.length} open, RSS ` +
                `${(rssBytes(worker.pid) / MiB).toFixed(0)} MiB`,
            );
          }
        },
      );
      probing = false;
      await prober;
      const startCpu = cpuDelta(cpuBeforeStart, readCpu(tracked)).worker ?? 0;
      await sleep(3_000);
      const rssOpenBytes = rssBytes(worker.pid);
      const cacheOpen = await cacheMetrics(worker);
      context.log(
        `open-sessions ${side}: ${open.length} open in ${(elapsedMs / 1000).toFixed(0)} s, ` +
          `RSS ${(rssOpenBytes / MiB).toFixed(0)} MiB (baseline ` +
          `${(rssBaselineBytes / MiB).toFixed(0)}), cache ${cacheOpen.size}, ` +
          `probe failures ${probeFailures.length}`,
      );

      // New turns for random open sessions, at a fixed rate.
      const chosen = [...open].sort(() => Math.random() - 0.5).slice(0, options.signals);
      const cpuBeforeSignals = readCpu(tracked);
      const sent: { handle: WorkflowHandle; sentAt: number }[] = [];
      const interval = 1000 / options.signalsPerSecond;
      const signalStart = Date.now();
      await Promise.all(
        chosen.map(async (handle, index) => {
          await sleep(signalStart + index * interval - Date.now());
          const sentAt = Date.now();
          await driver.signal(handle);
          sent.push({ handle, sentAt });
        }),
      );
      const signalToStepMs: number[] = [];
      const signaledEventToStepMs: number[] = [];
      for (const { handle, sentAt } of sent) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const times = await stepStartAfterSignal(handle, driver.stepActivity);
          if (times) {
            signalToStepMs.push(times.stepStartedAt - sentAt);
            signaledEventToStepMs.push(times.stepStartedAt - times.signaledAt);
            break;
          }
          if (Date.now() > deadline) throw new Error(`${handle.workflowId}: no step after signal`);
          await sleep(POLL_MS);
        }
      }
      for (const { handle } of sent) await untilWaiting(handle);
      const signalsCpu = cpuDelta(cpuBeforeSignals, readCpu(tracked)).worker ?? 0;
      const rssAfterSignalsBytes = rssBytes(worker.pid);
      const cacheAfterSignals = await cacheMetrics(worker);

      // What one open workflow weighs on the server side: its history (a sample).
      const sample = chosen.slice(0, 20);
      const descriptions = await Promise.all(sample.map((handle) => handle.describe()));
      const historyBytes = descriptions.map((description) => description.historySize ?? 0);
      const historyEvents = descriptions.map((description) => description.historyLength);
      let statusQueryBytes: number[] | undefined;
      if (side === 'ours') {
        statusQueryBytes = [];
        for (const handle of sample.slice(0, 5)) {
          statusQueryBytes.push(JSON.stringify(await driver.probe(handle)).length);
        }
      }
      context.log(
        `open-sessions ${side}: signal→step-start p50 ${percentile(signalToStepMs, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(signalToStepMs, 99).toFixed(1)} ms; RSS after ` +
          `${(rssAfterSignalsBytes / MiB).toFixed(0)} MiB, peak ${(rssPeakBytes / MiB).toFixed(0)} MiB; ` +
          `forced evictions ${cacheAfterSignals.forcedEvictions}`,
      );
      return {
        rssBaselineBytes,
        rssOpenBytes,
        rssPeakBytes,
        rssAfterSignalsBytes,
        startSeconds: elapsedMs / 1000,
        startsPerSecond: options.sessions / (elapsedMs / 1000),
        probe: {
          queries: probeLatencies.length + probeFailures.length,
          failed: probeFailures.length,
          firstFailures: probeFailures.slice(0, 5),
          latencyMs: probeLatencies.length > 0 ? summarize(probeLatencies) : null,
        },
        signalToStepMs,
        signaledEventToStepMs,
        cacheOpen,
        cacheAfterSignals,
        historyBytes: summarize(historyBytes),
        historyEvents: summarize(historyEvents),
        ...(statusQueryBytes ? { statusQueryBytes: summarize(statusQueryBytes) } : {}),
        workerCpuMs: { start: startCpu, signals: signalsCpu },
      };
    } finally {
      clearInterval(rssSampler);
    }
  } finally {
    await worker.close();
  }
}

export function openSessions(options: OpenSessionsOptions = openSessionsDefaults()): BenchMetric {
  return {
    name: 'open-sessions',
    description:
      `${options.sessions} open sessions (keepOpen, 1 turn done) on one worker process vs ` +
      `${options.sessions} raw workflows waiting on a signal, each side on its own worker ` +
      `(sticky cache ${options.maxCachedWorkflows}); started ${options.startConcurrency} at a ` +
      `time. Worker RSS, then ${options.signals} new turns at ${options.signalsPerSecond}/s: ` +
      `signal → step activity started (p50/p99), sticky cache evictions. Size: BENCH_OPEN_SESSIONS.`,
    async run(context) {
      const ours = await runSide(context, 'ours', options);
      const raw = await runSide(context, 'baseline', options);
      const n = options.sessions;
      const perSession = (result: SideResult) =>
        (result.rssOpenBytes - result.rssBaselineBytes) / n / 1024;
      const records: BenchRecord[] = [
        compare({
          name: `worker RSS, ${n} open sessions, vs 1 GiB`,
          ours: Math.max(ours.rssPeakBytes, ours.rssAfterSignalsBytes) / MiB,
          baseline: 1024,
          unit: 'MiB',
          better: 'lower',
          target: 1,
          details: { ours, raw, options },
        }),
        compare({
          name: `worker RSS, ${n} open: ours vs raw`,
          ours: ours.rssOpenBytes / MiB,
          baseline: raw.rssOpenBytes / MiB,
          unit: 'MiB',
          better: 'lower',
        }),
        compare({
          name: `memory per open session (RSS delta / ${n})`,
          ours: perSession(ours),
          baseline: perSession(raw),
          unit: 'KiB',
          better: 'lower',
          details: {
            historyBytes: { ours: ours.historyBytes, raw: raw.historyBytes },
            statusQueryBytes: ours.statusQueryBytes,
          },
        }),
        compare({
          name: `signal → step start p99, ${n} open, vs 100 ms`,
          ours: percentile(ours.signalToStepMs, 99),
          baseline: 100,
          unit: 'ms',
          better: 'lower',
          target: 1,
          details: { ours: summarize(ours.signalToStepMs), raw: summarize(raw.signalToStepMs) },
        }),
        compare({
          name: `signal → step start p50, ${n} open: ours vs raw`,
          ours: percentile(ours.signalToStepMs, 50),
          baseline: percentile(raw.signalToStepMs, 50),
          unit: 'ms',
          better: 'lower',
          details: {
            fromSignaledEvent: {
              ours: summarize(ours.signaledEventToStepMs),
              raw: summarize(raw.signaledEventToStepMs),
            },
          },
        }),
        compare({
          name: `signal → step start p99, ${n} open: ours vs raw`,
          ours: percentile(ours.signalToStepMs, 99),
          baseline: percentile(raw.signalToStepMs, 99),
          unit: 'ms',
          better: 'lower',
        }),
        compare({
          name: `sticky cache forced evictions, ${n} open + ${options.signals} turns`,
          ours: ours.cacheAfterSignals.forcedEvictions,
          baseline: raw.cacheAfterSignals.forcedEvictions,
          unit: 'evictions',
          better: 'lower',
          details: { ours: ours.cacheAfterSignals, raw: raw.cacheAfterSignals },
        }),
        compare({
          name: `queries failed while ${n} sessions started`,
          ours: ours.probe.failed,
          baseline: raw.probe.failed,
          unit: 'failures',
          better: 'lower',
          details: { ours: ours.probe, raw: raw.probe },
        }),
      ];
      return { records, parameters: { ...options } };
    },
  };
}
