/**
 * What the session routes do, over the Temporal client and the stores. Every read or write of
 * an existing session first checks that it belongs to the caller's tenant; a session of
 * another tenant is reported exactly like a missing one (404).
 */
import { createHash } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, ApplicationFailure } from '@temporalio/common';
import type { BlobStore } from '../../media/blob';
import type { AttachmentRef } from '../../core/media/attachments';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES } from '../../core/names';
import { PRIORITY_SCORE } from '../../core/plan/priority';
import {
  SESSION_SIGNALS,
  amendPlanUpdate,
  statusQuery,
  stepOutputQuery,
  type AmendPlanInput,
  type AmendPlanResult,
  type StepOutput,
  type SessionIndexRecord,
  type SessionInput,
  type SessionOptions,
  type SessionRequest,
  type SessionResult,
  type SessionSignalName,
  type SessionStatus,
} from '../../core/session';
import type { Principal } from '../../runtime/auth/tokens';
import { isSessionId, newSessionId } from '../../runtime/session-ids';
import type { IdempotencyStore } from '../../runtime/stores/idempotency-store';
import type {
  ListSessionsOptions,
  SessionIndexStore,
  SessionPage,
} from '../../runtime/stores/session-index-store';
import { ProblemError, problems } from '../problem';
import { temporalProblem } from './temporal-errors';

export interface SessionServiceOptions {
  client: Client;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  webUiUrl: string;
  sessionIndex: SessionIndexStore;
  idempotency: IdempotencyStore;
  /** Longest session a caller may ask for. */
  maxSessionDurationMs: number;
  defaultIdleTimeoutMs: number;
  /** How long a status query may take before the API answers 503. */
  queryTimeoutMs?: number;
  /** Where attachments are stored; without it a start with attachments is refused (422). */
  blobs?: Pick<BlobStore, 'has'>;
}

export interface StartSessionBody {
  request: string;
  title?: string;
  projectId?: string;
  requireApproval?: boolean;
  plan?: SessionRequest['plan'];
  priority?: SessionRequest['priority'];
  budget?: SessionRequest['budget'];
  options?: Partial<SessionOptions>;
  attachments?: AttachmentRef[];
}

export interface StartedSession {
  sessionId: string;
  /** False when an earlier request with the same Idempotency-Key started it. */
  created: boolean;
  webUiUrl: string;
}

export interface SessionView extends SessionStatus {
  temporal: {
    workflowId: string;
    runId: string;
    status: string;
    historyLength: number;
    webUiUrl: string;
  };
}

export interface SessionOutcome {
  done: boolean;
  temporalStatus: WorkflowExecutionStatusName;
  result?: SessionResult;
  failure?: string;
}

/** Grace beyond the session's own deadline before Temporal's hard execution timeout hits. */
const EXECUTION_TIMEOUT_GRACE_MS = 10 * 60 * 1000;

export class SessionService {
  constructor(private readonly options: SessionServiceOptions) {}

  webUiUrlOf(sessionId: string): string {
    return `${this.options.webUiUrl}/namespaces/${encodeURIComponent(this.options.namespace)}/workflows/${encodeURIComponent(sessionId)}`;
  }

  /**
   * Starts a session. With an idempotency key, a repeated request returns the first session
   * (and starts it if the first attempt failed before Temporal accepted it); the same key
   * with a different body is refused with 422.
   */
  async start(
    principal: Principal,
    body: StartSessionBody,
    idempotencyKey?: string,
  ): Promise<StartedSession> {
    const requestedDuration = body.options?.maxDurationMs ?? this.options.maxSessionDurationMs;
    if (requestedDuration > this.options.maxSessionDurationMs) {
      throw problems.badRequest(
        `options.maxDurationMs may be at most ${this.options.maxSessionDurationMs} (the configured session limit)`,
      );
    }
    await this.assertAttachmentsStored(body.attachments ?? []);
    let sessionId = newSessionId();
    let created = true;
    if (idempotencyKey !== undefined) {
      const requestHash = hashRequest(principal, body);
      const claim = await this.options.idempotency.claim(
        principal.tenantId,
        idempotencyKey,
        requestHash,
        sessionId,
      );
      if (!claim.created && claim.requestHash !== requestHash) {
        throw problems.unprocessable(
          'idempotency-key-reused',
          'Idempotency-Key was used for a different request',
          `the key "${idempotencyKey}" already started session ${claim.sessionId} with another body`,
          { sessionId: claim.sessionId },
        );
      }
      sessionId = claim.sessionId;
      created = claim.created;
    }
    const options: Partial<SessionOptions> = {
      idleTimeoutMs: this.options.defaultIdleTimeoutMs,
      ...body.options,
      maxDurationMs: requestedDuration,
    };
    const request: SessionRequest = {
      text: body.request,
      ...(body.title ? { title: body.title } : {}),
      ...(body.requireApproval !== undefined ? { requireApproval: body.requireApproval } : {}),
      ...(body.plan ? { plan: body.plan } : {}),
      ...(body.priority ? { priority: body.priority } : {}),
      ...(body.budget ? { budget: body.budget } : {}),
      ...(body.attachments?.length ? { attachments: body.attachments } : {}),
    };
    const input: SessionInput = {
      sessionId,
      tenantId: principal.tenantId,
      userId: principal.userId,
      ...(body.projectId ? { projectId: body.projectId } : {}),
      request,
      options,
    };
    const title = body.title ?? body.request.slice(0, 80);
    await this.temporal(async () => {
      try {
        await this.options.client.workflow.start(WORKFLOW_TYPES.session, {
          workflowId: sessionId,
          taskQueue: this.options.taskQueue,
          args: [input],
          workflowExecutionTimeout: requestedDuration + EXECUTION_TIMEOUT_GRACE_MS,
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          // The session's activities inherit it; steps may override (see core/plan/priority.ts).
          ...(body.priority ? { priority: { priorityKey: PRIORITY_SCORE[body.priority] } } : {}),
          memo: { title },
          typedSearchAttributes: [
            { key: SEARCH_ATTRIBUTES.tenant, value: principal.tenantId },
            { key: SEARCH_ATTRIBUTES.user, value: principal.userId },
            { key: SEARCH_ATTRIBUTES.phase, value: 'starting' },
            { key: SEARCH_ATTRIBUTES.status, value: 'active' },
            ...(body.projectId ? [{ key: SEARCH_ATTRIBUTES.project, value: body.projectId }] : []),
          ],
        });
      } catch (error) {
        // A replayed idempotent request whose session already finished: nothing to start.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError && !created)) throw error;
      }
    });
    const now = new Date().toISOString();
    const record: SessionIndexRecord = {
      tenantId: principal.tenantId,
      sessionId,
      userId: principal.userId,
      ...(body.projectId ? { projectId: body.projectId } : {}),
      title,
      phase: 'starting',
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
    await this.options.sessionIndex.insertIfAbsent(record);
    return { sessionId, created, webUiUrl: this.webUiUrlOf(sessionId) };
  }

  /** The live status (status query) plus Temporal's own view of the execution. */
  async get(principal: Principal, sessionId: string): Promise<SessionView> {
    const { handle, description } = await this.describeOwned(principal, sessionId);
    const status = await this.queryStatus(handle);
    const liveAttempts = new Map<string, number>(
      (description.raw.pendingActivities ?? []).map((activity) => [
        activity.activityId ?? '',
        activity.attempt ?? 1,
      ]),
    );
    const steps = status.steps.map((step) => {
      const attempt = liveAttempts.get(`turn-${status.turn}/${step.id}`);
      return step.state === 'running' && attempt !== undefined
        ? { ...step, attempts: attempt }
        : step;
    });
    return {
      ...status,
      steps,
      temporal: {
        workflowId: description.workflowId,
        runId: description.runId,
        status: description.status.name,
        historyLength: description.historyLength,
        webUiUrl: this.webUiUrlOf(sessionId),
      },
    };
  }

  /** The status query alone, after the ownership check; used by the SSE stream. */
  async status(
    principal: Principal,
    sessionId: string,
  ): Promise<{ status: SessionStatus; closed: boolean }> {
    const { handle, description } = await this.describeOwned(principal, sessionId);
    return {
      status: await this.queryStatus(handle),
      closed: description.status.name !== 'RUNNING',
    };
  }

  async list(principal: Principal, options: ListSessionsOptions): Promise<SessionPage> {
    return this.options.sessionIndex.list(principal.tenantId, options);
  }

  async signal(
    principal: Principal,
    sessionId: string,
    name: SessionSignalName,
    payload: unknown,
  ): Promise<void> {
    const { handle } = await this.describeOpen(principal, sessionId);
    await this.temporal(() => handle.signal(SESSION_SIGNALS[name] as never, payload as never));
  }

  /**
   * Amends the running turn's plan (the `amendPlan` update). The workflow's validator refuses
   * changes to started steps and invalid plans: that comes back as 409 with the reasons.
   */
  async amendPlan(
    principal: Principal,
    sessionId: string,
    input: AmendPlanInput,
  ): Promise<AmendPlanResult> {
    const { handle } = await this.describeOpen(principal, sessionId);
    try {
      return await handle.executeUpdate(amendPlanUpdate, { args: [input] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause;
        const errors =
          cause instanceof ApplicationFailure ? (cause.details?.[0] as string[] | undefined) : [];
        throw new ProblemError(
          409,
          'plan-amendment-refused',
          'The plan amendment was refused',
          cause?.message ?? error.message,
          { errors: errors ?? [] },
        );
      }
      throw this.mapTemporalError(error);
    }
  }

  /** The full output of one step of the current turn (404 when the step has none). */
  async stepOutput(principal: Principal, sessionId: string, stepId: string): Promise<StepOutput> {
    const { handle } = await this.describeOwned(principal, sessionId);
    const output = await this.temporal(() => handle.query(stepOutputQuery, stepId));
    if (!output) throw problems.notFound(`step "${stepId}" has no output in the current turn`);
    return output;
  }

  /** Requests Temporal cancellation: the session stops its steps and ends as Canceled. */
  async cancel(principal: Principal, sessionId: string): Promise<void> {
    const { handle } = await this.describeOpen(principal, sessionId);
    await this.temporal(() => handle.cancel());
  }

  /** Waits up to `waitMs` for the session to close and returns its outcome. */
  async outcome(principal: Principal, sessionId: string, waitMs: number): Promise<SessionOutcome> {
    const { handle, description } = await this.describeOwned(principal, sessionId);
    if (description.status.name === 'RUNNING' && waitMs === 0) {
      return { done: false, temporalStatus: description.status.name };
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs);
    try {
      const result = (await this.options.client.withAbortSignal(abort.signal, () =>
        handle.result(),
      )) as SessionResult;
      return { done: true, temporalStatus: 'COMPLETED', result };
    } catch (error) {
      if (abort.signal.aborted) return { done: false, temporalStatus: 'RUNNING' };
      if (error instanceof WorkflowFailedError) {
        const cause = error.cause;
        const details =
          cause instanceof ApplicationFailure
            ? (cause.details?.[0] as SessionResult | undefined)
            : undefined;
        const temporalStatus =
          cause instanceof CancelledFailure ? 'CANCELLED' : (await handle.describe()).status.name;
        return {
          done: true,
          temporalStatus,
          ...(details ? { result: details } : {}),
          failure: cause?.message ?? error.message,
        };
      }
      throw this.mapTemporalError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Refuses (422, listing the missing sha-256s) attachments whose blob is not stored. */
  private async assertAttachmentsStored(attachments: readonly AttachmentRef[]): Promise<void> {
    if (attachments.length === 0) return;
    const hashes = [...new Set(attachments.map((attachment) => attachment.sha256))];
    const { blobs } = this.options;
    const present = blobs
      ? await Promise.all(hashes.map((sha256) => blobs.has({ sha256 })))
      : hashes.map(() => false);
    const missing = hashes.filter((_sha256, index) => !present[index]);
    if (missing.length === 0) return;
    throw problems.unprocessable(
      'attachments-not-found',
      'Attachments not found',
      `no stored blob for ${missing.join(', ')}; upload them with POST /v1/attachments first`,
      { code: 'attachments-not-found', missing },
    );
  }

  private async queryStatus(handle: WorkflowHandle): Promise<SessionStatus> {
    const timeoutMs = this.options.queryTimeoutMs ?? 5000;
    try {
      return await this.options.client.withDeadline(Date.now() + timeoutMs, () =>
        handle.query(statusQuery),
      );
    } catch (error) {
      const mapped = temporalProblem(error, this.options.temporalAddress);
      if (mapped && mapped.status !== 503) throw mapped;
      throw problems
        .unavailable(
          `no worker answered the status query within ${timeoutMs} ms; is a worker polling task queue "${this.options.taskQueue}"?`,
        )
        .withHeaders({ 'Retry-After': '5' });
    }
  }

  private async describeOwned(
    principal: Principal,
    sessionId: string,
  ): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
    if (!isSessionId(sessionId)) throw problems.notFound('no such session');
    const handle = this.options.client.workflow.getHandle(sessionId);
    const description = await this.temporal(() => handle.describe());
    const tenant = description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant);
    if (tenant !== principal.tenantId) throw problems.notFound('no such session');
    return { handle, description };
  }

  private async describeOpen(principal: Principal, sessionId: string) {
    const owned = await this.describeOwned(principal, sessionId);
    if (owned.description.status.name !== 'RUNNING') {
      throw problems.conflict(`session is closed (${owned.description.status.name.toLowerCase()})`);
    }
    return owned;
  }

  /** Runs a Temporal call, mapping unreachable-server and not-found errors to problems. */
  private async temporal<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.mapTemporalError(error);
    }
  }

  private mapTemporalError(error: unknown): unknown {
    return temporalProblem(error, this.options.temporalAddress) ?? error;
  }
}

/** Stable hash of who asked for what, for Idempotency-Key reuse detection. */
function hashRequest(principal: Principal, body: StartSessionBody): string {
  return createHash('sha256')
    .update(JSON.stringify([principal.tenantId, principal.userId, canonical(body)]))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, entry]) => entry !== undefined)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([key, entry]) => [key, canonical(entry)]),
    );
  }
  return value;
}
