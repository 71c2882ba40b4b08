/**
 * One status poller per followed session, shared by every follower of it in this API process:
 * `GET /v1/sessions/:id/events` clients subscribe here instead of each polling Temporal. The
 * poller reads the status periodically while the session has followers, tells them only
 * when it changed (a newer version, or the session closed), and stops with its last follower.
 * N followers of one session therefore cost what one does.
 *
 * A change notice (`notify`, from the workers through Redis: core/session/session-changes.ts)
 * wakes the poller, so a change reaches the followers about one status read after the workflow
 * made it; a lost notice within one poll interval (longer while notices arrive, see the
 * constructor). Reads caused by notices are
 * at least `NOTICE_READ_GAP_MS` apart. When a read is still older than the notice (the change
 * is not yet visible to queries), the status is read again, at most `NOTICE_READS` times; then
 * polling takes over.
 */
import type { SessionStatus } from '../../core/session';

export interface SessionSnapshot {
  status: SessionStatus;
  closed: boolean;
}

export type SnapshotListener = (next: SessionSnapshot | { error: unknown }) => void;

interface Watcher {
  listeners: Set<SnapshotListener>;
  last: SessionSnapshot;
  stopped: boolean;
  /** The newest version a notice announced that no read has shown yet (0: none). */
  noticed: number;
  /** Reads made since that notice. */
  noticeReads: number;
  /** When the last read started (performance.now()). */
  lastReadAt: number;
  /** Ends the poller's current wait (set only while it waits). */
  wake?: () => void;
}

/**
 * Reads a notice causes start at least this long after the previous read: a session changing
 * many times a second costs its followers at most 1000 / NOTICE_READ_GAP_MS reads a second.
 */
export const NOTICE_READ_GAP_MS = 50;
/** Reads after a notice that may not yet show it before polling takes over. */
export const NOTICE_READS = 8;

/** The watcher key of a session: per tenant, so another tenant's same session id is another key. */
export function sessionWatchKey(tenantId: string, sessionId: string): string {
  return `${tenantId}/${sessionId}`;
}

export class SessionWatchers {
  private readonly watchers = new Map<string, Watcher>();
  private readonly firstReads = new Map<string, Promise<SessionSnapshot>>();
  /** Status reads made by all pollers (for tests and metrics). */
  reads = 0;
  /** Change notices that woke a poller. */
  wakeups = 0;

  /**
   * `intervalMs`: how often a followed session is read. With `notices`, while `active()` says
   * notices arrive, every `notices.intervalMs` instead (they bring the changes; the poll only
   * catches a lost one).
   */
  constructor(
    private readonly intervalMs: number,
    private readonly notices?: { intervalMs: number; active(): boolean },
  ) {}

  /** The poll interval now. */
  private pollIntervalMs(): number {
    return this.notices?.active() ? this.notices.intervalMs : this.intervalMs;
  }

  /**
   * A new follower's first snapshot of `key` (tenant and session id). Followers that connect
   * while a first read of the same key is in flight share it, so 500 clients opening the stream
   * at once cost one status read, not 500 (a burst that once kept the workers from answering
   * within the API's query timeout). The answer may be up to one read old; the watcher sends
   * anything newer. Errors are shared too, and only within one tenant: another tenant's key is
   * another key.
   */
  first(key: string, read: () => Promise<SessionSnapshot>): Promise<SessionSnapshot> {
    let pending = this.firstReads.get(key);
    if (!pending) {
      pending = read().finally(() => this.firstReads.delete(key));
      this.firstReads.set(key, pending);
    }
    return pending;
  }

  /** Sessions with a running poller. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Follows `key` (tenant and session id): `listener` hears every change after `first`.
   * `read` is how the poller reads the status (used by the first follower's poller only).
   * Returns the unsubscribe function.
   */
  subscribe(
    key: string,
    first: SessionSnapshot,
    read: () => Promise<SessionSnapshot>,
    listener: SnapshotListener,
  ): () => void {
    let watcher = this.watchers.get(key);
    if (!watcher) {
      watcher = {
        listeners: new Set(),
        last: first,
        stopped: false,
        noticed: 0,
        noticeReads: 0,
        lastReadAt: -Infinity,
      };
      this.watchers.set(key, watcher);
      void this.poll(key, watcher, read);
    } else if (watcher.last.status.version > first.status.version) {
      // This follower's first read is older than what the others already have.
      const { last } = watcher;
      queueMicrotask(() => listener(last));
    }
    watcher.listeners.add(listener);
    const current = watcher;
    return () => {
      current.listeners.delete(listener);
      if (current.listeners.size === 0) this.stop(key, current);
    };
  }

  /**
   * A change notice: `key`'s status reached `version`. Wakes its poller when this process has
   * followers of it and they have not seen that version yet; otherwise nothing.
   */
  notify(key: string, version: number): void {
    const watcher = this.watchers.get(key);
    if (!watcher || watcher.stopped) return;
    if (version <= watcher.last.status.version || version <= watcher.noticed) return;
    watcher.noticed = version;
    watcher.noticeReads = 0;
    this.wakeups += 1;
    watcher.wake?.();
  }

  private stop(key: string, watcher: Watcher): void {
    watcher.stopped = true;
    watcher.wake?.();
    if (this.watchers.get(key) === watcher) this.watchers.delete(key);
  }

  /** Waits `ms`, or less when a notice or `stop` wakes the watcher (then true). */
  private wait(watcher: Watcher, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        watcher.wake = undefined;
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      watcher.wake = () => done(true);
    });
  }

  /** How long the poller waits before its next read. */
  private delay(watcher: Watcher): number {
    if (watcher.noticed <= watcher.last.status.version) return this.pollIntervalMs();
    if (watcher.noticeReads >= NOTICE_READS) {
      // The noticed version never showed (e.g. its worker died before the change was kept).
      watcher.noticed = 0;
      return this.pollIntervalMs();
    }
    return Math.max(0, watcher.lastReadAt + NOTICE_READ_GAP_MS - performance.now());
  }

  private async poll(
    key: string,
    watcher: Watcher,
    read: () => Promise<SessionSnapshot>,
  ): Promise<void> {
    while (!watcher.stopped) {
      // A notice ends a wait early; the delay is then worked out again (the gap since the
      // last read still holds).
      for (let ms = this.delay(watcher); ms > 0; ms = this.delay(watcher)) {
        if (!(await this.wait(watcher, ms)) || watcher.stopped) break;
      }
      if (watcher.stopped) return;
      if (watcher.noticed > watcher.last.status.version) watcher.noticeReads += 1;
      watcher.lastReadAt = performance.now();
      let next: SessionSnapshot;
      try {
        this.reads += 1;
        next = await read();
      } catch (error) {
        for (const listener of [...watcher.listeners]) listener({ error });
        this.stop(key, watcher);
        return;
      }
      if (
        next.status.version === watcher.last.status.version &&
        next.closed === watcher.last.closed
      ) {
        continue;
      }
      watcher.last = next;
      for (const listener of [...watcher.listeners]) listener(next);
      if (next.closed) {
        this.stop(key, watcher);
        return;
      }
    }
  }
}
