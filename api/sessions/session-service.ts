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
import { CancelledFailure, ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
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
import {
  InvalidCursorError,
  type ListSessionsOptions,
  type SessionIndexRow,
  type SessionIndexStore,
  type SessionPage,
} from '../../runtime/stores/session-index-store';
import { ProblemError, problems } from '../problem';
import {
  closedStatus,
  deletedClose,
  isOpenExecution,
  isOpenRow,
  readClose,
  reconcileRow,
  type ClosedState,
} from './closed-sessions';
import { readPendingActivities } from './pending-activities';
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
  /**
   * A closed session's final status comes from what Temporal stores (its close event) and the
   * index; the status query is still tried this long (500 ms unless set) for per-step detail,
   * and the read answers without it when no worker replies in time.
   */
  closedQueryBudgetMs?: number;
  /** Deadline of each Temporal call made to reconcile the rows of a listing (2 s unless set). */
  reconcileTimeoutMs?: number;
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
  /**
   * Where the status comes from: `live` — the status query of the running session; `final` —
   * the closed session's own last state (the query, corrected by how Temporal closed it);
   * `stored` — a closed session read from Temporal's close event and the index alone (no worker
   * answered): no per-step detail (`steps` is empty).
   */
  source: 'live' | 'final' | 'stored';
  temporal: {
    workflowId: string;
    /** Empty when Temporal no longer has the session (`status` is then `DELETED`). */
    runId: string;
    /** Temporal's execution status (RUNNING, COMPLETED, TERMINATED, TIMED_OUT, …, or DELETED). */
    status: string;
    historyLength: number;
    webUiUrl: string;
    closeTime?: string;
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

/** How many final views of closed runs are kept, and how long (memory, not correctness). */
const FINAL_VIEW_CACHE = { maxEntries: 1_000, maxAgeMs: 60_000 } as const;

/** After a closed-session query found no worker, its task queue is not queried for this long. */
const NO_WORKER_MEMORY_MS = 10_000;

export class SessionService {
  /** Task queue → until when closed-session reads skip the status query (no worker answered). */
  private readonly noWorkerUntil = new Map<string, number>();
  /** Final views of closed runs (tenant/session/run → view), see `closedView`. */
  private readonly finalViews = new Map<
    string,
    { status: SessionStatus; close: ClosedState; until: number }
  >();

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
          // The Web UI's header for the session (encrypted like every payload; shown through
          // the codec endpoint): the title, then who and where.
          staticSummary: title,
          staticDetails: sessionDetails(input, title),
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
    // Temporal accepted the session: it runs whatever happens to this write, and the workflow
    // writes its own row as it moves on (its final write is retried durably). A DynamoDB
    // outage here must not turn an accepted session into an error for the caller.
    await this.options.sessionIndex.insertIfAbsent(record).catch(() => undefined);
    return { sessionId, created, webUiUrl: this.webUiUrlOf(sessionId) };
  }

  /**
   * The session as it is now. Running: the status query (live) plus Temporal's view of the
   * execution. Closed: the final status from what Temporal and the index store — it answers
   * with every worker stopped — and the index row is corrected when it still says open (a
   * terminated or timed-out session). A session Temporal deleted is read from its index row.
   */
  async get(principal: Principal, sessionId: string): Promise<SessionView> {
    const found = await this.describeOwnedOrIndexed(principal, sessionId);
    if ('deleted' in found) return this.deletedView(principal, found.deleted);
    const { handle, description } = found;
    const temporal = {
      workflowId: description.workflowId,
      runId: description.runId,
      status: description.status.name,
      historyLength: description.historyLength,
      webUiUrl: this.webUiUrlOf(sessionId),
    };
    if (!isOpenExecution(description)) {
      const closed = await this.closedView(principal, description);
      return {
        ...closed.status,
        source: closed.source,
        temporal: { ...temporal, closeTime: closed.close.closedAt },
      };
    }
    const [status, pending] = await Promise.all([
      this.queryStatus(handle),
      readPendingActivities(description, this.options.client.workflow.options.loadedDataConverter),
    ]);
    const steps = status.steps.map((step) => {
      const live = pending.get(`turn-${status.turn}/${step.id}`);
      if (step.state !== 'running' || !live) return step;
      return {
        ...step,
        attempts: live.attempt,
        ...(live.capacityWait ? { capacityWait: live.capacityWait } : {}),
      };
    });
    return { ...status, steps, source: 'live', temporal };
  }

  /** The status alone (live, or the final one of a closed session); used by the SSE stream. */
  async status(
    principal: Principal,
    sessionId: string,
  ): Promise<{ status: SessionStatus; closed: boolean }> {
    const found = await this.describeOwnedOrIndexed(principal, sessionId);
    if ('deleted' in found) {
      const {
        source: _source,
        temporal: _temporal,
        ...status
      } = await this.deletedView(principal, found.deleted);
      return { status, closed: true };
    }
    const { handle, description } = found;
    if (isOpenExecution(description)) {
      return { status: await this.queryStatus(handle), closed: false };
    }
    return { status: (await this.closedView(principal, description)).status, closed: true };
  }

  /**
   * This tenant's sessions from the index. Rows that still say open are checked against
   * Temporal (describe) and corrected when the execution is closed or gone, so a terminated
   * session is never listed as waiting; with a status filter, rows that no longer match are
   * left out. While Temporal is unreachable the rows are listed as the index has them.
   */
  async list(principal: Principal, options: ListSessionsOptions): Promise<SessionPage> {
    const page = await this.options.sessionIndex
      .list(principal.tenantId, options)
      .catch((error: unknown) => {
        if (error instanceof InvalidCursorError) throw error;
        throw problems
          .unavailable(
            `the session index (DynamoDB) cannot be read: ${error instanceof Error ? error.message : String(error)}; sessions are still read by id`,
          )
          .withHeaders({ 'Retry-After': '5' });
      });
    const sessions = await mapLimit(page.sessions, 8, (row) =>
      isOpenRow(row) ? this.reconcileListed(row) : Promise.resolve(row),
    );
    return {
      ...page,
      sessions: options.status ? sessions.filter((row) => row.status === options.status) : sessions,
    };
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

  /**
   * Waits up to `waitMs` for the session to close and returns its outcome. With a wait, the
   * long poll for the result starts together with the ownership check (one round trip less);
   * nothing of it is used, and it is stopped, unless the session is the caller's.
   */
  async outcome(principal: Principal, sessionId: string, waitMs: number): Promise<SessionOutcome> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs);
    const early =
      waitMs > 0 && isSessionId(sessionId)
        ? this.options.client.withAbortSignal(abort.signal, () =>
            this.options.client.workflow.getHandle(sessionId).result(),
          )
        : undefined;
    // Settled below, or abandoned (aborted) when the check fails: never an unhandled rejection.
    early?.catch(() => undefined);
    try {
      const { handle, description } = await this.describeOwned(principal, sessionId);
      if (description.status.name === 'RUNNING' && waitMs === 0) {
        return { done: false, temporalStatus: description.status.name };
      }
      try {
        const result = (await (early ??
          this.options.client.withAbortSignal(abort.signal, () =>
            handle.result(),
          ))) as SessionResult;
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
      }
    } finally {
      clearTimeout(timer);
      // The ownership check failed, or the answer is in: stop a poll still running.
      abort.abort();
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

  /** A closed session's final status, with the index row corrected to it. */
  private async closedView(
    principal: Principal,
    description: WorkflowExecutionDescription,
  ): Promise<{ status: SessionStatus; source: 'final' | 'stored'; close: ClosedState }> {
    const sessionId = description.workflowId;
    const handle = this.options.client.workflow.getHandle(sessionId, description.runId, {
      followRuns: false,
    });
    const key = `${principal.tenantId}/${sessionId}/${description.runId}`;
    const remembered = this.finalViews.get(key);
    if (remembered && remembered.until > Date.now()) {
      return {
        status: remembered.status,
        source: 'final',
        close: remembered.close,
      };
    }
    if (remembered) this.finalViews.delete(key);
    const [close, row] = await Promise.all([
      this.temporal(() => readClose(handle, description)),
      this.options.sessionIndex.get(principal.tenantId, sessionId).catch(() => undefined),
    ]);
    const live = await this.closedQuery(handle, description.taskQueue);
    const reconciled = row
      ? await reconcileRow(this.options.sessionIndex, row, close).then(
          () => true,
          () => false,
        )
      : true;
    const status = closedStatus({
      sessionId,
      close,
      description,
      ...(row ? { row } : {}),
      ...(live ? { live } : {}),
    });
    // A closed run never changes: its final view (with the worker's per-step detail, and the
    // index row agreeing with it) is answered again without Temporal or the index being asked.
    // Kept frozen and shared by every answer (callers copy what they change), not cloned per read.
    if (live && reconciled && FINAL_VIEW_CACHE.maxEntries > 0) {
      if (this.finalViews.size >= FINAL_VIEW_CACHE.maxEntries) {
        this.finalViews.delete(this.finalViews.keys().next().value as string);
      }
      this.finalViews.set(key, {
        status: deepFreeze(status),
        close,
        until: Date.now() + FINAL_VIEW_CACHE.maxAgeMs,
      });
    }
    return { status, source: live ? 'final' : 'stored', close };
  }

  /** A session Temporal no longer has, from its index row (corrected when it said open). */
  private async deletedView(principal: Principal, row: SessionIndexRow): Promise<SessionView> {
    const close = deletedClose(row);
    const current = await reconcileRow(this.options.sessionIndex, row, close).catch(() => row);
    return {
      ...closedStatus({ sessionId: row.sessionId, close, row: current }),
      tenantId: principal.tenantId,
      source: 'stored',
      temporal: {
        workflowId: row.sessionId,
        runId: '',
        status: 'DELETED',
        historyLength: 0,
        webUiUrl: this.webUiUrlOf(row.sessionId),
        closeTime: close.closedAt,
      },
    };
  }

  /** An open index row checked against Temporal; unchanged when Temporal cannot say. */
  private async reconcileListed(row: SessionIndexRow): Promise<SessionIndexRow> {
    const deadline = Date.now() + (this.options.reconcileTimeoutMs ?? 2000);
    try {
      return await this.options.client.withDeadline(deadline, async () => {
        const handle = this.options.client.workflow.getHandle(row.sessionId);
        let description: WorkflowExecutionDescription;
        try {
          description = await handle.describe();
        } catch (error) {
          if (!isNotFound(error)) throw error;
          return reconcileRow(this.options.sessionIndex, row, deletedClose(row));
        }
        if (isOpenExecution(description)) return row;
        const closed = this.options.client.workflow.getHandle(row.sessionId, description.runId, {
          followRuns: false,
        });
        return reconcileRow(this.options.sessionIndex, row, await readClose(closed, description));
      });
    } catch {
      return row;
    }
  }

  /**
   * The status query of a closed session, for its per-step detail, if a worker answers within
   * the budget; once none did, the task queue is left alone for a while.
   */
  private async closedQuery(
    handle: WorkflowHandle,
    taskQueue: string,
  ): Promise<SessionStatus | undefined> {
    if ((this.noWorkerUntil.get(taskQueue) ?? 0) > Date.now()) return undefined;
    const live = await this.queryWithin(handle, this.options.closedQueryBudgetMs ?? 500);
    if (live) this.noWorkerUntil.delete(taskQueue);
    else this.noWorkerUntil.set(taskQueue, Date.now() + NO_WORKER_MEMORY_MS);
    return live;
  }

  /** The status query if a worker answers within `budgetMs`, else undefined. */
  private async queryWithin(
    handle: WorkflowHandle,
    budgetMs: number,
  ): Promise<SessionStatus | undefined> {
    if (budgetMs <= 0) return undefined;
    try {
      return await this.options.client.withDeadline(Date.now() + budgetMs, () =>
        handle.query(statusQuery),
      );
    } catch {
      return undefined;
    }
  }

  /**
   * `describeOwned`, except that a session Temporal no longer has (deleted by retention or by
   * an operator) is found in this tenant's index instead of being a 404.
   */
  private async describeOwnedOrIndexed(
    principal: Principal,
    sessionId: string,
  ): Promise<
    | { handle: WorkflowHandle; description: WorkflowExecutionDescription }
    | { deleted: SessionIndexRow }
  > {
    try {
      return await this.describeOwned(principal, sessionId);
    } catch (error) {
      if (!(error instanceof ProblemError) || error.problem.status !== 404) throw error;
      if (!isSessionId(sessionId)) throw error;
      const row = await this.options.sessionIndex.get(principal.tenantId, sessionId);
      if (!row) throw error;
      // 404 for a foreign session too: only a deleted execution is answered from the index.
      const exists = await this.options.client.workflow
        .getHandle(sessionId)
        .describe()
        .then(
          () => true,
          (cause: unknown) => !isNotFound(cause),
        );
      if (exists) throw error;
      return { deleted: row };
    }
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

function isNotFound(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  const problem = temporalProblem(error, '');
  return problem?.problem.status === 404;
}

/** Maps `items` with at most `limit` calls in flight, keeping the order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await map(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
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

/** The session's static details in the Web UI (markdown): title, tenant, user, project. */
function sessionDetails(input: SessionInput, title: string): string {
  return [
    `**${title.replace(/[*_`]/g, '')}**`,
    '',
    `- tenant: ${input.tenantId}`,
    `- user: ${input.userId}`,
    ...(input.projectId ? [`- project: ${input.projectId}`] : []),
    ...(input.request.attachments?.length
      ? [`- attachments: ${input.request.attachments.length}`]
      : []),
  ].join('\n');
}

/** `value`, with every object and array reachable from it frozen (shared read-only views). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
