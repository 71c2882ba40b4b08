/**
 * One status poller per followed session, shared by every follower of it in this API process:
 * `GET /v1/sessions/:id/events` clients subscribe here instead of each polling Temporal. The
 * poller reads the status every `intervalMs` while the session has followers, tells them only
 * when it changed (a newer version, or the session closed), and stops with its last follower.
 * N followers of one session therefore cost what one does; a change reaches all of them within
 * one interval.
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
}

export class SessionWatchers {
  private readonly watchers = new Map<string, Watcher>();
  private readonly firstReads = new Map<string, Promise<SessionSnapshot>>();
  /** Status reads made by all pollers (for tests and metrics). */
  reads = 0;

  constructor(private readonly intervalMs: number) {}

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
      watcher = { listeners: new Set(), last: first, stopped: false };
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

  private stop(key: string, watcher: Watcher): void {
    watcher.stopped = true;
    if (this.watchers.get(key) === watcher) this.watchers.delete(key);
  }

  private async poll(
    key: string,
    watcher: Watcher,
    read: () => Promise<SessionSnapshot>,
  ): Promise<void> {
    while (!watcher.stopped) {
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
      if (watcher.stopped) return;
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
