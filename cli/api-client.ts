/** A small client of the T-Developer HTTP API for the CLI (and the benchmark). */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { SessionStatus } from '../core/session';

export interface StartSessionResponse {
  sessionId: string;
  links: { self: string; events: string; result: string; webUi: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; type?: string },
  ) {
    super(`${status} ${problem.title ?? 'error'}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed: unknown = text ? JSON.parse(text) : {};
    if (!response.ok) throw new ApiError(response.status, parsed as ApiError['problem']);
    return parsed as T;
  }

  /** Uploads a file's bytes as an attachment (`POST /v1/attachments`); returns its ref. */
  async upload(bytes: Uint8Array, name: string): Promise<Record<string, unknown>> {
    const response = await fetch(
      `${this.baseUrl}/v1/attachments?name=${encodeURIComponent(name)}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/octet-stream',
        },
        body: bytes,
      },
    );
    const parsed = (await response.json()) as { attachment: Record<string, unknown> };
    if (!response.ok) throw new ApiError(response.status, parsed as ApiError['problem']);
    return parsed.attachment;
  }

  /**
   * Streams session snapshots from `GET /v1/sessions/:id/events`, reconnecting with
   * Last-Event-ID if the connection drops, until the `end` event.
   */
  async *events(sessionId: string, signal?: AbortSignal): AsyncGenerator<SessionStatus> {
    let lastEventId: string | undefined;
    for (let reconnects = 0; reconnects < 20; reconnects += 1) {
      const response = await fetch(`${this.baseUrl}/v1/sessions/${sessionId}/events`, {
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        ...(signal ? { signal } : {}),
      });
      if (!response.ok || !response.body) {
        throw new ApiError(
          response.status,
          (await response.json().catch(() => ({}))) as ApiError['problem'],
        );
      }
      const queue: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (event) => queue.push(event) });
      const decoder = new TextDecoder();
      let ended = false;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          while (queue.length > 0) {
            const event = queue.shift() as EventSourceMessage;
            if (event.id) lastEventId = event.id;
            if (event.event === 'status') yield JSON.parse(event.data) as SessionStatus;
            else if (event.event === 'end') ended = true;
            else if (event.event === 'error')
              throw new ApiError(503, JSON.parse(event.data) as ApiError['problem']);
          }
          if (ended) return;
        }
      } catch (error) {
        if (error instanceof ApiError || signal?.aborted) throw error;
      }
      if (ended) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error('event stream dropped too many times');
  }
}
