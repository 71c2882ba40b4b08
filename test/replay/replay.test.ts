/**
 * Every recorded history (test/replay/histories, recorded by `npm run record-histories` from
 * real runs) replays against today's workflow code, and a changed workflow is caught.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { workerTracing } from '../../runtime/tracing';
import { writeWorkflowBundles } from '../../workers/bundle-workflows';
import { sessionChangeSinks, tracedBundlePath } from '../../workers/session-worker';
import { EncryptionCodec, KeyRingKeySource, generateKeyRing } from '../../runtime/temporal/codec';
import { createDataConverter } from '../../runtime/temporal/data-converter';

const HISTORIES_DIR = path.join(__dirname, 'histories');
const WORKFLOW_TYPES_RECORDED = [
  'collectionWorkflow',
  'sessionWorkflow',
  'webhookDeliveryWorkflow',
];

const histories = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({
    file,
    workflowId: file.replace(/\.json$/, ''),
    history: JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as {
      events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
    },
  }));

/**
 * The production data converter (payload codec + encoded failures): the recorded histories are
 * plain, so this also shows plain payloads pass through the codec on replay.
 */
const dataConverter = createDataConverter(
  new EncryptionCodec({ keys: new KeyRingKeySource(generateKeyRing('replay')) }),
);

async function replayAll(
  workflowsPath: string,
  options: Partial<ReplayWorkerOptions> = {},
): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  const replays = Worker.runReplayHistories(
    {
      workflowsPath,
      bundlerOptions: { ignoreModules: [] },
      dataConverter,
      // As a session worker registers it (else every status change logs "unregistered sink").
      sinks: sessionChangeSinks(undefined),
      ...options,
    },
    histories.map(({ workflowId, history }) => ({ workflowId, history })),
  );
  for await (const result of replays) results.set(result.workflowId, result.error);
  return results;
}

test('histories cover every workflow type and the main session paths', () => {
  const types = new Set(
    histories.map(
      ({ history }) =>
        history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name,
    ),
  );
  expect([...types]).toEqual(WORKFLOW_TYPES_RECORDED);
  expect(histories.map(({ file }) => file)).toEqual(
    expect.arrayContaining([
      'collection-run.json',
      'session-rule-plan-completed.json',
      'session-approval-approved.json',
      'session-cancelled-through-temporal.json',
      'session-keep-open-continue-as-new-run2.json',
      'session-amended-with-step-approval.json',
      'session-replanned.json',
      'session-priorities-and-sla.json',
      'session-turn-memory-summarised-run2.json',
      'session-budget-paused-index-written.json',
      'session-analyze-and-plan-one-activity.json',
      'webhook-delivered-after-refusals.json',
      'webhook-receiver-gone.json',
      'webhook-deleted-before-delivery.json',
    ]),
  );
});

test('every recorded history replays against the current workflow code', async () => {
  const results = await replayAll(require.resolve('../../workflows'));
  expect(results.size).toBe(histories.length);
  for (const [workflowId, error] of results) {
    expect({ workflowId, error: error?.message }).toEqual({ workflowId, error: undefined });
  }
});

test('every recorded history replays on both production bundles, with and without tracing interceptors', async () => {
  // `npm run build` writes a bundle without the OpenTelemetry workflow interceptors and one
  // with them (for workers with tracing on); turning tracing on (or off) for running sessions
  // must not change their command sequence.
  const dir = mkdtempSync(path.join(tmpdir(), 'tdev-replay-bundle-'));
  try {
    const plain = await writeWorkflowBundles(path.join(dir, 'workflow-bundle.js'));
    const traced = tracedBundlePath(plain);
    expect(readFileSync(plain, 'utf8')).not.toContain('OpenTelemetryInboundInterceptor');
    expect(readFileSync(traced, 'utf8')).toContain('OpenTelemetryInboundInterceptor');
    for (const codePath of [plain, traced]) {
      const results = await replayAll(require.resolve('../../workflows'), {
        workflowsPath: undefined,
        workflowBundle: { codePath },
        sinks: { ...sessionChangeSinks(undefined), ...workerTracing(undefined).sinks },
      });
      expect(results.size).toBe(histories.length);
      for (const [workflowId, error] of results) {
        expect({ codePath, workflowId, error: error?.message }).toEqual({
          codePath,
          workflowId,
          error: undefined,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

test('a changed workflow is caught as a determinism violation', async () => {
  const results = await replayAll(require.resolve('./changed-workflow'));
  expect(results.size).toBe(histories.length);
  for (const [workflowId, error] of results) {
    expect({
      workflowId,
      isDeterminismViolation: error instanceof DeterminismViolationError,
    }).toEqual({
      workflowId,
      isDeterminismViolation: true,
    });
  }
});

test('histories cover the checks of outside input, each recorded behind its patch', () => {
  interface RecordedEvent {
    eventType?: string;
    markerRecordedEventAttributes?: {
      markerName?: string;
      details?: Record<string, { payloads?: { data?: string }[] }>;
    };
    workflowExecutionFailedEventAttributes?: {
      failure?: { applicationFailureInfo?: { type?: string; nonRetryable?: boolean } };
    };
  }
  const patchesOf = (file: string): string[] => {
    const found = histories.find((history) => history.file === file);
    if (!found) throw new Error(`no recorded history ${file}`);
    return (found.history.events as RecordedEvent[]).flatMap((event) => {
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName !== 'core_patch') return [];
      return Object.values(marker.details ?? {}).flatMap((details) =>
        (details.payloads ?? []).map(
          (payload) =>
            (
              JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8')) as {
                id: string;
              }
            ).id,
        ),
      );
    });
  };
  expect(patchesOf('session-invalid-input-failed.json')).toEqual(['fail-invalid-session-input']);
  expect(patchesOf('session-invalid-signals-dropped.json')).toEqual(['drop-invalid-signals']);
  expect(patchesOf('session-idle-continue-as-new-suggested.json')).toEqual([
    'continue-as-new-when-idle',
  ]);
  // Turn memory: marked once per run, where a turn first had an earlier one to remember.
  expect(patchesOf('session-turn-memory-summarised.json')).toEqual(['turn-memory']);
  expect(patchesOf('session-turn-memory-summarised-run2.json')).toEqual(['turn-memory']);
  const scheduled = (file: string): string[] =>
    (
      histories.find((history) => history.file === file)?.history.events as
        | {
            activityTaskScheduledEventAttributes?: {
              activityType?: { name?: string };
              activityId?: string;
            };
          }[]
        | undefined
    )?.flatMap((event) => {
      const attributes = event.activityTaskScheduledEventAttributes;
      return attributes?.activityType?.name === 'summarizeTurn'
        ? [attributes.activityId ?? '']
        : [];
    }) ?? [];
  expect(scheduled('session-turn-memory-summarised-run2.json')).toEqual([
    'turn-5/memory-turn-1',
    'turn-6/memory-turn-2',
  ]);
  // Memory extraction after each turn that ran, behind its patch (marked after turn 1; turn 2
  // marks turn memory at its start).
  expect(patchesOf('session-turn-memories-extracted.json')).toEqual([
    'extract-turn-memories',
    'turn-memory',
  ]);
  expect(
    (
      histories.find((history) => history.file === 'session-turn-memories-extracted.json')?.history
        .events as { activityTaskScheduledEventAttributes?: { activityId?: string } }[]
    )
      .map((event) => event.activityTaskScheduledEventAttributes?.activityId ?? '')
      .filter((activityId) => activityId.endsWith('/extract-memories')),
  ).toEqual(['turn-1/extract-memories', 'turn-2/extract-memories']);
  // The budget pause's index write (where webhooks hear of it), recorded behind its patch;
  // the older budget history has no marker and replays without the write.
  expect(patchesOf('session-budget-paused-index-written.json')).toEqual(['index-budget-pause']);
  expect(patchesOf('session-routed-content-policy-and-budget.json')).toEqual([]);
  // Analysis and planning in one local activity per turn (patch `analyze-and-plan`); the older
  // histories analysed and planned with two.
  expect(patchesOf('session-analyze-and-plan-one-activity.json')).toEqual([
    'analyze-and-plan',
    'turn-memory',
  ]);
  const localActivities = (file: string): string[] =>
    (histories.find((history) => history.file === file)?.history.events as RecordedEvent[]).flatMap(
      (event) => {
        const marker = event.markerRecordedEventAttributes;
        if (marker?.markerName !== 'core_local_activity') return [];
        const data = marker.details?.data?.payloads?.[0]?.data ?? '';
        return [
          (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { activity_type: string })
            .activity_type,
        ];
      },
    );
  expect(localActivities('session-analyze-and-plan-one-activity.json')).toEqual([
    'analyzeAndPlan',
    'recordSession',
    'analyzeAndPlan',
    'recordSession',
    'recordSession',
  ]);
  expect(localActivities('session-rule-plan-completed.json').slice(0, 2)).toEqual([
    'analyzeRequest',
    'planRequest',
  ]);
  // A rejected update leaves no trace in history; the session it was sent to went on unchanged.
  expect(patchesOf('session-invalid-update-rejected.json')).toEqual([]);
  const failed = histories.find(({ file }) => file === 'session-invalid-input-failed.json');
  const last = (failed?.history.events as RecordedEvent[] | undefined)?.at(-1);
  expect(last?.workflowExecutionFailedEventAttributes?.failure?.applicationFailureInfo).toEqual(
    expect.objectContaining({ type: 'InvalidSessionInput', nonRetryable: true }),
  );
});
