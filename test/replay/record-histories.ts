/**
 * Records histories of the session workflow for the replay tests: starts its own Temporal
 * dev server and dynalite, runs one session per scenario against a real worker and a local
 * Bedrock Converse server, and writes each run's history to test/replay/histories/.
 *
 *   npm run record-histories                       (all scenarios)
 *   npm run record-histories -- approval-approved  (only the named ones)
 *
 * Record a new scenario by its name alone: re-recording all of them rewrites every file (new
 * ids and times), and the recorded ones must stay as they were recorded.
 *
 * Re-record when the workflow changes on purpose — and keep the old files replaying, or
 * version the change with `patched()`.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../../activities';
import { ModelRegistry, parseModelCard } from '../../models/registry';
import { createBedrockProvider } from '../../models/bedrock';
import { DEFAULT_NAMESPACE, WORKFLOW_TYPES } from '../../core/names';
import { PLAN_SCHEMA_VERSION } from '../../core/plan';
import {
  addInputSignal,
  amendPlanUpdate,
  approveSignal,
  approveStepSignal,
  cancelSignal,
  replanSignal,
  pauseSignal,
  raiseBudgetSignal,
  resumeSignal,
  statusQuery,
  type AmendPlanInput,
  type SessionInput,
  type SessionStatus,
} from '../../core/session';
import { ensureTables } from '../../infra/dynamodb/tables';
import { startDynamoLocal } from '../../infra/stack/dynamodb-local';
import { freePort, stopPid } from '../../infra/stack/processes';
import { toolPath } from '../../infra/stack/paths';
import { startTemporalDevServer } from '../../infra/stack/temporal-dev-server';
import { createDynamoClients } from '../../runtime/dynamodb';
import { loadMemoryConfig } from '../../runtime/config';
import { createMemoryService } from '../../runtime/memory';
import { newSessionId } from '../../runtime/session-ids';
import { SessionIndexStore } from '../../runtime/stores/session-index-store';
import { WebhookStore } from '../../runtime/stores/webhook-store';
import type { WebhookDeliveryInput } from '../../core/webhooks';
import { allowAnyAddressForTests } from '../../media/fetch';
import { createMediaWorker, mediaTaskQueue } from '../../workers/media-worker';
import { createSessionWorker } from '../../workers/session-worker';
import { LocalBlobStore, type BlobStore } from '../../media/blob';
import { DEFAULT_RECALL_WEIGHTS } from '../../core/memory';
import type { CollectionInput } from '../../core/collection';
import { openLanceMemoryIndex } from '../../runtime/memory/lance-memory-index';
import { MemoryStore } from '../../runtime/stores/memory-store';
import { SessionIndexCollector } from '../../runtime/stores/session-index-store';
import { UsageLedgerCollector, UsageLedgerStore } from '../../runtime/stores/usage-ledger-store';
import sharp from 'sharp';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';

const HISTORIES_DIR = path.join(__dirname, 'histories');
const TASK_QUEUE = 'replay-recording';
const PRIMARY_MODEL = 'us.anthropic.claude-sonnet-4-20250514-v1:0';
const FALLBACK_MODEL = 'us.amazon.nova-pro-v1:0';
const THIRD_MODEL = 'us.meta.llama3-3-70b-instruct-v1:0';

interface Scenario {
  name: string;
  request: Partial<SessionInput['request']>;
  options?: SessionInput['options'];
  /** Drives the running session (signals, cancellation) and waits for its end. */
  drive?: (handle: WorkflowHandle, bedrock: FakeBedrock) => Promise<void>;
  script?: Parameters<FakeBedrock['setScript']>[0];
  /** Run on a worker whose model chain has a fallback (PRIMARY_MODEL, then FALLBACK_MODEL). */
  modelFallback?: boolean;
  /**
   * Run on a worker with the model layer and router: chain PRIMARY, FALLBACK, THIRD; priced
   * cards; PRIMARY's content-policy alternative is THIRD.
   */
  routed?: boolean;
  /** Adds to the request what must be made first (attachments stored in the blob store). */
  prepare?: (blobs: BlobStore) => Promise<Partial<SessionInput['request']>>;
  /** Starts the workflow with this input as it is (e.g. one without the documented shape). */
  rawInput?: (sessionId: string) => unknown;
  /** Run on a worker with the model layer and a memory store (turn memories are extracted). */
  memory?: boolean;
}

interface HistoryEventJson {
  workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string };
}

function showHistory(address: string, workflowId: string, runId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      toolPath('temporal'),
      [
        'workflow',
        'show',
        '--address',
        address,
        '--workflow-id',
        workflowId,
        '--run-id',
        runId,
        '--output',
        'json',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) =>
        error ? reject(new Error(error.message, { cause: error })) : resolve(stdout),
    );
  });
}

async function waitFor(
  handle: WorkflowHandle,
  predicate: (status: SessionStatus) => boolean,
): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (predicate(await handle.query(statusQuery))) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`scenario never reached the expected state: ${handle.workflowId}`);
}

const running = (status: SessionStatus): boolean =>
  status.steps.some((step) => step.state === 'running');

/**
 * The recording server suggests continue-as-new from this many events (Temporal's default is
 * 4,096), so one scenario can show an idle session following the suggestion; every other
 * scenario stays far below it.
 */
const SUGGEST_CONTINUE_AS_NEW_EVENTS = 300;

const SCENARIOS: Scenario[] = [
  {
    name: 'rule-plan-completed',
    request: { text: 'Design and implement OAuth login with tests, a security review and docs' },
  },
  {
    name: 'approval-approved',
    request: { text: 'Implement CSV export', requireApproval: true },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      await handle.signal(approveSignal, { approved: true, by: 'lead' });
    },
  },
  {
    name: 'approval-rejected',
    request: { text: 'Implement CSV export', requireApproval: true },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      await handle.signal(approveSignal, { approved: false, comment: 'not now' });
    },
  },
  {
    name: 'step-retried-then-failed-non-retryable',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'code', agent: 'code', title: 'code', instruction: 'code', dependsOn: [] },
          { id: 'docs', agent: 'docs', title: 'docs', instruction: 'docs', dependsOn: [] },
          { id: 'test', agent: 'test', title: 'test', instruction: 'test', dependsOn: ['code'] },
        ],
      },
    },
    script: (call) =>
      call.stepId === 'code'
        ? call.callNumber === 1
          ? { kind: 'error', status: 429, name: 'ThrottlingException' }
          : { kind: 'error', status: 403, name: 'AccessDeniedException' }
        : { kind: 'text' },
  },
  {
    name: 'soft-dependency-and-conditions',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'scan', agent: 'security', title: 'scan', instruction: 'scan', dependsOn: [] },
          { id: 'code', agent: 'code', title: 'code', instruction: 'code', dependsOn: [] },
          {
            id: 'docs',
            agent: 'docs',
            title: 'docs',
            instruction: 'docs',
            dependsOn: ['code'],
            softDependsOn: ['scan'],
          },
          {
            id: 'review',
            agent: 'review',
            title: 'review',
            instruction: 'review',
            dependsOn: ['code'],
            condition: 'contains(steps.code.output, "NEEDS-REVIEW")',
          },
          {
            id: 'fix',
            agent: 'code',
            title: 'fix',
            instruction: 'fix',
            dependsOn: ['code'],
            condition: 'contains(steps.code.output, "NEEDS-FIX")',
          },
        ],
      },
    },
    script: (call) =>
      call.stepId === 'scan'
        ? { kind: 'error', status: 400, name: 'ValidationException' }
        : call.stepId === 'code'
          ? { kind: 'text', text: 'Done. NEEDS-REVIEW' }
          : { kind: 'text' },
  },
  {
    name: 'alternative-agent-after-non-retryable-failure',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          {
            id: 'code',
            agent: 'code',
            title: 'code',
            instruction: 'code',
            dependsOn: [],
            alternatives: ['review'],
          },
        ],
      },
    },
    script: (call) =>
      call.body.system?.[0]?.text?.includes('the code agent')
        ? { kind: 'error', status: 403, name: 'AccessDeniedException' }
        : { kind: 'text' },
  },
  {
    name: 'saga-compensation',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        onFailure: 'compensate',
        steps: [
          {
            id: 'schema',
            agent: 'code',
            title: 'schema',
            instruction: 'schema',
            dependsOn: [],
            compensation: { agent: 'code', instruction: 'revert schema' },
          },
          {
            id: 'deploy',
            agent: 'code',
            title: 'deploy',
            instruction: 'deploy',
            dependsOn: ['schema'],
          },
        ],
      },
    },
    script: (call) =>
      call.stepId === 'deploy'
        ? { kind: 'error', status: 400, name: 'ValidationException' }
        : { kind: 'text' },
  },
  {
    name: 'paused-and-resumed',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          { id: 'b', agent: 'test', title: 'b', instruction: 'b', dependsOn: ['a'] },
        ],
      },
    },
    script: () => ({ kind: 'text', delayMs: 500 }),
    drive: async (handle) => {
      await waitFor(handle, running);
      await handle.signal(pauseSignal, { reason: 'review first', by: 'lead' });
      await waitFor(handle, (status) => status.steps[0]?.state === 'succeeded');
      await handle.signal(resumeSignal, { by: 'lead' });
    },
  },
  {
    name: 'model-fallback-primary-down',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [{ id: 'code', agent: 'code', title: 'code', instruction: 'code', dependsOn: [] }],
      },
    },
    modelFallback: true,
    script: (call) =>
      call.modelId === PRIMARY_MODEL
        ? { kind: 'error', status: 503, name: 'ServiceUnavailableException' }
        : { kind: 'text' },
  },
  {
    name: 'routed-content-policy-and-budget',
    request: {
      text: 'explicit plan',
      budget: { maxCostUsd: 0.0001 },
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          { id: 'b', agent: 'test', title: 'b', instruction: 'b', dependsOn: ['a'] },
        ],
      },
    },
    routed: true,
    script: (call) =>
      call.modelId === PRIMARY_MODEL
        ? { kind: 'text', stopReason: 'content_filtered' }
        : { kind: 'text' },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.paused?.by === 'budget');
      await handle.signal(raiseBudgetSignal, { maxCostUsd: 10, by: 'lead' });
    },
  },
  {
    // The budget pause writes the session index (patched 'index-budget-pause'): webhooks hear of it.
    name: 'budget-paused-index-written',
    request: {
      text: 'explicit plan',
      budget: { maxTokens: 1 },
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          { id: 'b', agent: 'test', title: 'b', instruction: 'b', dependsOn: ['a'] },
        ],
      },
    },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.paused?.by === 'budget');
      await handle.signal(raiseBudgetSignal, { maxTokens: 1_000_000, by: 'lead' });
    },
  },
  {
    name: 'attachments-read-before-planning',
    request: { text: 'Fix the login bug in the screenshot' },
    prepare: async (blobs) => {
      const screenshot = await sharp({
        create: { width: 640, height: 120, channels: 3, background: '#ffffff' },
      })
        .composite([
          {
            input: Buffer.from(
              '<svg width="640" height="120"><text x="20" y="75" font-size="40" font-family="DejaVu Sans">Login failed</text></svg>',
            ),
          },
        ])
        .png()
        .toBuffer();
      // An MP4 signature over garbage: read as video, cannot be decoded.
      const broken = Buffer.concat([
        Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]),
        Buffer.alloc(2048, 7),
      ]);
      return {
        attachments: [
          { ...(await blobs.put(screenshot, { contentType: 'image/png' })), name: 'login.png' },
          { ...(await blobs.put(broken, { contentType: 'video/mp4' })), name: 'broken.mp4' },
        ],
      };
    },
  },
  {
    name: 'cancelled-through-temporal',
    request: { text: 'Implement CSV export' },
    script: () => ({ kind: 'hang' }),
    drive: async (handle) => {
      await waitFor(handle, running);
      await handle.cancel();
    },
  },
  {
    name: 'cancelled-by-signal',
    request: { text: 'Implement CSV export' },
    script: () => ({ kind: 'hang' }),
    drive: async (handle) => {
      await waitFor(handle, running);
      await handle.signal(cancelSignal, { reason: 'wrong repository' });
    },
  },
  {
    name: 'invalid-plan',
    request: {
      text: 'explicit plan',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: ['b'] },
          { id: 'b', agent: 'code', title: 'b', instruction: 'b', dependsOn: ['a'] },
        ],
      },
    },
  },
  {
    name: 'keep-open-continue-as-new',
    request: { text: 'Implement CSV export' },
    options: { keepOpen: true, idleTimeoutMs: 2000, continueAsNewAfterTurns: 1 },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.runNumber > 1 || status.phase === 'awaiting_input');
      await handle.signal(addInputSignal, { text: 'Now add tests', by: 'ada' });
    },
  },
  {
    name: 'amended-with-step-approval',
    request: {
      text: 'explicit plan',
      requireApproval: true,
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          {
            id: 'b',
            agent: 'test',
            title: 'b',
            instruction: 'check {{steps.a.output}}',
            dependsOn: ['a'],
            requiresApproval: true,
          },
        ],
      },
    },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      const status = await handle.query(statusQuery);
      const plan = status.plan!;
      // Refused by the validator (not in history), then an accepted amendment.
      await handle
        .executeUpdate(amendPlanUpdate, {
          args: [{ plan: { ...plan, steps: [{ ...plan.steps[0]!, agent: 'wizard' }] } }],
        })
        .catch(() => undefined);
      await handle.executeUpdate(amendPlanUpdate, {
        args: [
          {
            plan: {
              ...plan,
              steps: [
                ...plan.steps,
                { id: 'c', agent: 'docs', title: 'c', instruction: 'c', dependsOn: ['a'] },
              ],
            },
            by: 'ada',
          },
        ],
      });
      await handle.signal(approveSignal, { approved: true, by: 'ada' });
      await waitFor(handle, (current) => current.steps[1]?.waitingFor === 'approval');
      await handle.signal(approveStepSignal, { stepId: 'b', approved: true, by: 'lee' });
    },
  },
  {
    name: 'replanned',
    request: { text: 'Add OAuth login to billing' },
    script: (call) => ({ kind: 'text', delayMs: call.stepId === 'code' ? 1000 : 0 }),
    drive: async (handle) => {
      await waitFor(handle, running);
      await handle.signal(replanSignal, {
        reason: 'docs forgotten',
        instruction: 'Also document it in the README.',
        by: 'ada',
      });
    },
  },
  {
    name: 'priorities-and-sla',
    request: {
      text: 'explicit plan',
      priority: 'low',
      plan: {
        schemaVersion: PLAN_SCHEMA_VERSION,
        steps: [
          { id: 'a', agent: 'code', title: 'a', instruction: 'a', dependsOn: [] },
          { id: 'b', agent: 'docs', title: 'b', instruction: 'b', dependsOn: [], priority: 'high' },
          { id: 'c', agent: 'test', title: 'c', instruction: 'c', dependsOn: [], slaMs: 60_000 },
          {
            id: 'd',
            agent: 'review',
            title: 'd',
            instruction: 'd',
            dependsOn: [],
            priority: 'critical',
            timeoutMs: 60_000,
            retry: { maximumAttempts: 2, initialIntervalMs: 500 },
          },
        ],
      },
    },
    options: { maxParallelSteps: 1 },
  },
  {
    name: 'invalid-input-failed',
    request: {},
    // As `temporal workflow start --input '{"bad":1}'` (or the Web UI) would start it.
    rawInput: (sessionId) => ({ sessionId, request: { text: 7 }, bad: 1 }),
  },
  {
    name: 'invalid-update-rejected',
    request: { text: 'Implement CSV export', requireApproval: true },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      // Rejected by the validator (its payload has not the documented shape): not in history.
      const refused = await handle
        .executeUpdate(amendPlanUpdate, {
          args: [{ plan: { steps: 'all' }, by: 7 } as unknown as AmendPlanInput],
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      if (!refused) throw new Error('the invalid amendPlan update was accepted');
      await handle.signal(approveSignal, { approved: true, by: 'lead' });
    },
  },
  {
    name: 'invalid-signals-dropped',
    request: { text: 'Implement CSV export', requireApproval: true },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      await handle.signal('approve', { approved: 'yes' });
      await handle.signal('addInput', { txt: 'more' });
      await handle.signal('cancel', 'now');
      await handle.signal('approve');
      await waitFor(handle, (status) => status.droppedSignals?.count === 4);
      // Sent without a payload (as the temporal CLI does): the empty one.
      await handle.signal('pause');
      await handle.signal('resume');
      await handle.signal(approveSignal, { approved: true, by: 'lead' });
    },
  },
  {
    name: 'idle-continue-as-new-suggested',
    request: { text: 'Implement CSV export' },
    options: { keepOpen: true, idleTimeoutMs: 60_000 },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_input');
      // Signals while idle until the server suggests continue-as-new and the session follows.
      for (let sent = 0; (await handle.query(statusQuery)).runNumber === 1; sent += 1) {
        if (sent > SUGGEST_CONTINUE_AS_NEW_EVENTS) throw new Error('no continue-as-new');
        await handle.signal(raiseBudgetSignal, { maxCostUsd: 10 + sent, by: 'ops' });
      }
      await handle.signal(cancelSignal, { reason: 'recorded', by: 'ops' });
    },
  },
  {
    // Turn memory (patch `turn-memory`): six turns kept open, four per run. Turns 2–6 hand
    // their agents the earlier turns; turn 2 asks for approval (its decision is remembered);
    // turn 5 summarises turn 1 (the model refuses: the rules' summary) and turn 6 turn 2 (the
    // model's summary), across a continue-as-new.
    name: 'turn-memory-summarised',
    request: { text: 'Design an orders service with a REST API' },
    options: { keepOpen: true, idleTimeoutMs: 3000, continueAsNewAfterTurns: 4 },
    script: (call) =>
      call.stepId === 'memory-turn-1'
        ? { kind: 'error', status: 403, name: 'AccessDeniedException' }
        : { kind: 'text' },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_input');
      await handle.signal(addInputSignal, {
        text: 'now make it use PostgreSQL instead',
        requireApproval: true,
        by: 'ada',
      });
      await waitFor(handle, (status) => status.phase === 'awaiting_approval');
      await handle.signal(approveSignal, { approved: true, by: 'lead', comment: 'go' });
      for (const text of [
        'add an index on customer_id',
        'add tests',
        'document the API',
        'ship it',
      ]) {
        await handle.signal(addInputSignal, { text, by: 'ada' });
      }
      await waitFor(handle, (status) => status.turn === 6 && status.phase === 'awaiting_input');
    },
  },
  {
    // Patch `analyze-and-plan`: each turn without attachments is analysed and planned by one
    // local activity. Two turns (the second by signal), then the idle timeout ends the session.
    name: 'analyze-and-plan-one-activity',
    request: { text: 'Implement CSV export with tests' },
    options: { keepOpen: true, idleTimeoutMs: 2000 },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_input');
      await handle.signal(addInputSignal, { text: 'now document the export', by: 'ada' });
      await handle.result();
    },
  },
  {
    // Memory extraction (patch `extract-turn-memories`): two turns kept open. After turn 1 the
    // model's answer is invalid, then valid after one repair (method `model`); after turn 2 it
    // is invalid twice (the rules extract the stated preference).
    name: 'turn-memories-extracted',
    request: {
      text: 'Add an invoices endpoint. Our services use PostgreSQL; tests are written in Vitest.',
    },
    options: { keepOpen: true, idleTimeoutMs: 3000 },
    memory: true,
    script: (call) => {
      if (call.stepId === 'extract-turn-1') {
        return {
          kind: 'text',
          text:
            call.callNumber === 1
              ? '{"memories": [{"kind": "opinion"}]}'
              : JSON.stringify({
                  memories: [
                    {
                      kind: 'preference',
                      text: 'Our services use PostgreSQL; tests are written in Vitest.',
                      importance: 0.8,
                      scope: 'user',
                    },
                  ],
                }),
        };
      }
      if (call.stepId === 'extract-turn-2') return { kind: 'text', text: 'no JSON here' };
      return { kind: 'text' };
    },
    drive: async (handle) => {
      await waitFor(handle, (status) => status.phase === 'awaiting_input');
      await handle.signal(addInputSignal, {
        text: 'Add a refunds endpoint too. We always deploy with Helm.',
        by: 'ada',
      });
      await waitFor(handle, (status) => status.turn === 2 && status.phase === 'awaiting_input');
    },
  },
  {
    name: 'deadline-expired',
    request: { text: 'Implement CSV export' },
    options: { maxDurationMs: 2000 },
    script: () => ({ kind: 'hang' }),
  },
];

/**
 * Webhook deliveries (`webhookDeliveryWorkflow`), recorded as `webhook-<name>.json`: the
 * receiver refuses connections for `downMs` (nothing listens), then answers with `statuses` in
 * order; `deleted` removes the webhook before the delivery starts.
 */
interface DeliveryScenario {
  name: string;
  downMs?: number;
  statuses: number[];
  deleted?: boolean;
}

const DELIVERY_SCENARIOS: DeliveryScenario[] = [
  { name: 'delivered-after-refusals', downMs: 2500, statuses: [204] },
  { name: 'receiver-gone', statuses: [503, 410] },
  { name: 'deleted-before-delivery', statuses: [], deleted: true },
];

/** A receiver on a free port that starts listening after `downMs` and answers `statuses`. */
async function scriptedReceiver(scenario: DeliveryScenario) {
  const port = await freePort();
  const statuses = [...scenario.statuses];
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(statuses.shift() ?? 500).end());
  });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    async start() {
      await new Promise((resolve) => setTimeout(resolve, scenario.downMs ?? 0));
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2));
  const names = [
    ...SCENARIOS.map((scenario) => scenario.name),
    ...DELIVERY_SCENARIOS.map((scenario) => `webhook-${scenario.name}`),
    COLLECTION_SCENARIO,
  ];
  const unknown = [...only].filter((name) => !names.includes(name));
  if (unknown.length > 0) throw new Error(`no such scenario: ${unknown.join(', ')}`);
  const scenarios = SCENARIOS.filter((scenario) => only.size === 0 || only.has(scenario.name));
  const deliveries = DELIVERY_SCENARIOS.filter(
    (scenario) => only.size === 0 || only.has(`webhook-${scenario.name}`),
  );
  const collection = only.size === 0 || only.has(COLLECTION_SCENARIO);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-record-'));
  const [temporalPort, dynamoPort] = [await freePort(), await freePort()];
  const temporal = await startTemporalDevServer({
    port: temporalPort,
    headless: true,
    namespace: DEFAULT_NAMESPACE,
    logDir: dir,
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': SUGGEST_CONTINUE_AS_NEW_EVENTS },
  });
  const dynamo = await startDynamoLocal({ port: dynamoPort, logDir: dir });
  const bedrock = await startFakeBedrock();
  const address = `127.0.0.1:${temporalPort}`;
  const dynamoClients = createDynamoClients({
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
    DYNAMODB_TABLE_PREFIX: 'rec-',
  });
  const tables = await ensureTables(dynamoClients.client, 'rec-');
  const nativeConnection = await NativeConnection.connect({ address });
  const sessionIndex = new SessionIndexStore(dynamoClients.documents, tables.sessions);
  const bedrockModel = (modelId: string) =>
    createBedrockProvider({
      region: 'us-east-1',
      modelId,
      endpoint: bedrock.url,
      credentials: { accessKeyId: 'AKIDRECORD', secretAccessKey: 'record' },
    });
  const workerFor = (
    taskQueue: string,
    models: ReturnType<typeof bedrockModel>[],
    extra: Partial<ActivityDependencies> = {},
  ) =>
    createSessionWorker({
      connection: nativeConnection,
      namespace: DEFAULT_NAMESPACE,
      taskQueue,
      activities: createActivities({ model: models[0]!, models, sessionIndex, ...extra }),
    });
  const worker = await workerFor(TASK_QUEUE, [bedrockModel(PRIMARY_MODEL)]);
  // Scenarios with a model fallback chain run on their own worker.
  const fallbackWorker = await workerFor(`${TASK_QUEUE}-fallback`, [
    bedrockModel(PRIMARY_MODEL),
    bedrockModel(FALLBACK_MODEL),
  ]);
  const webhooks = new WebhookStore(dynamoClients.documents, tables.webhooks);
  const deliveryWorker = await createSessionWorker({
    connection: nativeConnection,
    namespace: DEFAULT_NAMESPACE,
    taskQueue: `${TASK_QUEUE}-webhooks`,
    activities: createActivities({ model: bedrockModel(PRIMARY_MODEL), sessionIndex }),
    webhooks: { webhooks, addressPolicy: allowAnyAddressForTests, timeoutMs: 2000 },
  });
  const registry = new ModelRegistry(
    [PRIMARY_MODEL, FALLBACK_MODEL, THIRD_MODEL].map((model) =>
      parseModelCard({
        ref: `bedrock:${model}`,
        contextWindow: 200_000,
        inputCostPer1k: 0.003,
        outputCostPer1k: 0.015,
        ...(model === PRIMARY_MODEL ? { contentPolicyAlternative: `bedrock:${THIRD_MODEL}` } : {}),
      }),
    ),
  );
  const routedWorker = await workerFor(
    `${TASK_QUEUE}-routed`,
    [bedrockModel(PRIMARY_MODEL), bedrockModel(FALLBACK_MODEL), bedrockModel(THIRD_MODEL)],
    { modelLayer: { registry }, modelRouting: { registry } },
  );
  // Memories (no Redis here: session notes go straight to long-term), for `memory` scenarios.
  const memory = await createMemoryService(
    loadMemoryConfig({ MEMORY_INDEX_URI: path.join(dir, 'memory-index') }),
    { documents: dynamoClients.documents, tableName: tables.memories },
  );
  const memoryWorker = await workerFor(`${TASK_QUEUE}-memory`, [bedrockModel(PRIMARY_MODEL)], {
    modelLayer: { registry },
    memory: memory.service,
  });
  const blobs = new LocalBlobStore({ root: path.join(dir, 'blobs') });
  const mediaWorker = await createMediaWorker({
    connection: nativeConnection,
    namespace: DEFAULT_NAMESPACE,
    taskQueue: mediaTaskQueue(TASK_QUEUE),
    blobs,
  });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: DEFAULT_NAMESPACE });
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const memoryIndex = await openLanceMemoryIndex(path.join(dir, 'memory-index'));
  const collectionWorker = async () =>
    createSessionWorker({
      connection: nativeConnection,
      namespace: DEFAULT_NAMESPACE,
      taskQueue: `${TASK_QUEUE}-collection`,
      activities: createActivities({ model: bedrockModel(PRIMARY_MODEL), sessionIndex }),
      collection: {
        memories: new MemoryStore(dynamoClients.documents, tables.memories),
        index: memoryIndex,
        weights: DEFAULT_RECALL_WEIGHTS,
        blobs,
        sessionIndex: new SessionIndexCollector(dynamoClients.documents, tables.sessions),
        usageLedger: new UsageLedgerCollector(dynamoClients.documents, tables.usageLedger),
        temporal: { client, namespace: DEFAULT_NAMESPACE },
      },
    });
  try {
    if (collection) {
      await (
        await collectionWorker()
      ).runUntil(() => recordCollection(client, address, dynamoClients, tables));
    }
    await deliveryWorker.runUntil(async () => {
      for (const scenario of deliveries) {
        const receiver = await scriptedReceiver(scenario);
        const { record } = await webhooks.create({
          tenantId: 'replay',
          url: receiver.url,
          events: ['session.completed'],
          createdBy: 'recorder',
        });
        if (scenario.deleted) await webhooks.delete('replay', record.webhookId);
        const input: WebhookDeliveryInput = {
          tenantId: 'replay',
          webhookId: record.webhookId,
          message: {
            id: `msg_replay_${scenario.name}`,
            type: 'session.completed',
            timestamp: new Date().toISOString(),
            data: {
              tenantId: 'replay',
              sessionId: newSessionId(),
              userId: 'recorder',
              title: 'recorded delivery',
              phase: 'completed',
              status: 'completed',
            },
          },
        };
        const handle = await client.workflow.start(WORKFLOW_TYPES.webhookDelivery, {
          workflowId: `webhook-${scenario.name}-${Date.now()}`,
          taskQueue: `${TASK_QUEUE}-webhooks`,
          args: [input],
        });
        await receiver.start();
        await handle.result().catch(() => undefined);
        await receiver.close();
        const json = await showHistory(address, handle.workflowId, handle.firstExecutionRunId);
        const file = path.join(HISTORIES_DIR, `webhook-${scenario.name}.json`);
        writeFileSync(file, json);
        const events = (JSON.parse(json) as { events: unknown[] }).events;
        console.log(`recorded ${path.relative(process.cwd(), file)} (${events.length} events)`);
      }
    });
    await mediaWorker.runUntil(() =>
      worker.runUntil(() =>
        fallbackWorker.runUntil(() =>
          routedWorker.runUntil(() =>
            memoryWorker.runUntil(async () => {
              for (const scenario of scenarios) {
                bedrock.setScript(scenario.script ?? (() => ({ kind: 'text' })));
                const sessionId = newSessionId();
                const input: SessionInput = {
                  sessionId,
                  tenantId: 'replay',
                  userId: 'recorder',
                  request: {
                    text: 'request',
                    ...scenario.request,
                    ...(await scenario.prepare?.(blobs)),
                  },
                  options: { stepHeartbeatTimeoutMs: 5000, ...scenario.options },
                };
                const handle = await client.workflow.start(WORKFLOW_TYPES.session, {
                  workflowId: sessionId,
                  taskQueue: scenario.memory
                    ? `${TASK_QUEUE}-memory`
                    : scenario.routed
                      ? `${TASK_QUEUE}-routed`
                      : scenario.modelFallback
                        ? `${TASK_QUEUE}-fallback`
                        : TASK_QUEUE,
                  args: [(scenario.rawInput?.(sessionId) as SessionInput | undefined) ?? input],
                });
                await scenario.drive?.(handle, bedrock);
                await handle.result().catch(() => undefined);
                // Every run of the session (continue-as-new makes several) is one history file.
                let runId: string | undefined = handle.firstExecutionRunId;
                for (let index = 1; runId; index += 1) {
                  // The temporal CLI writes the standard history JSON (as the Web UI exports it).
                  const json = await showHistory(address, sessionId, runId);
                  const events = (JSON.parse(json) as { events: HistoryEventJson[] }).events;
                  const file = path.join(
                    HISTORIES_DIR,
                    `session-${scenario.name}${index > 1 ? `-run${index}` : ''}.json`,
                  );
                  writeFileSync(file, json);
                  console.log(
                    `recorded ${path.relative(process.cwd(), file)} (${events.length} events)`,
                  );
                  runId =
                    events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes
                      ?.newExecutionRunId;
                }
              }
            }),
          ),
        ),
      ),
    );
  } finally {
    await memory.close();
    await memoryIndex.close();
    await connection.close();
    await nativeConnection.close();
    await bedrock.close();
    dynamoClients.client.destroy();
    await Promise.all([stopPid(temporal.pid), stopPid(dynamo.pid)]);
  }
}

/** One collection run (`collection-run.json`) over a little of each kind, some of it expired. */
const COLLECTION_SCENARIO = 'collection-run';

async function recordCollection(
  client: Client,
  address: string,
  dynamoClients: ReturnType<typeof createDynamoClients>,
  tables: Awaited<ReturnType<typeof ensureTables>>,
): Promise<void> {
  const now = Date.now();
  const at = new Date(now).toISOString();
  await new MemoryStore(dynamoClients.documents, tables.memories).put({
    tenantId: 'replay',
    memoryId: 'mem_01JREPLAY00000000000000000',
    kind: 'fact',
    text: 'expired fact',
    scope: 'user',
    scopeId: 'recorder',
    ownerId: 'recorder',
    source: {},
    importance: 0.5,
    createdAt: at,
    lastUsedAt: at,
    useCount: 0,
    expiresAt: Math.floor(now / 1000) - 60,
  });
  await new UsageLedgerStore(dynamoClients.documents, tables.usageLedger).record({
    tenantId: 'replay',
    sessionId: 'sess-replay',
    activityId: 'old',
    attempt: 1,
    stepId: 'design',
    agent: 'architect',
    provider: 'bedrock',
    model: PRIMARY_MODEL,
    inputTokens: 1,
    outputTokens: 1,
    costUsd: 0,
    outcome: 'succeeded',
    recordedAt: new Date(now - 500 * 86_400_000).toISOString(),
  });
  const input: CollectionInput = {
    memoryCapPerScope: 1000,
    shortTermTtlSeconds: 86_400,
    blobGraceSeconds: 3600,
    usageRetentionDays: 400,
  };
  const handle = await client.workflow.start(WORKFLOW_TYPES.collection, {
    workflowId: `${COLLECTION_SCENARIO}-${now}`,
    taskQueue: `${TASK_QUEUE}-collection`,
    args: [input],
  });
  await handle.result();
  const json = await showHistory(address, handle.workflowId, handle.firstExecutionRunId);
  const file = path.join(HISTORIES_DIR, `${COLLECTION_SCENARIO}.json`);
  writeFileSync(file, json);
  const events = (JSON.parse(json) as { events: unknown[] }).events;
  console.log(`recorded ${path.relative(process.cwd(), file)} (${events.length} events)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
