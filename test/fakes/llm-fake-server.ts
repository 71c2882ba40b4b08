/**
 * The shared core of the local LLM API fakes (OpenAI chat completions, Anthropic messages):
 * an HTTP/1.1 server that records every call and answers from a script of protocol-neutral
 * replies, which each protocol file renders in its own wire format. Faults: throttling with
 * Retry-After, outages, slow answers, hangs, malformed JSON, streams cut mid-answer, in-stream
 * error events and the error bodies each API really sends.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeReply =
  | { kind: 'text'; text?: string; delayMs?: number }
  /** 200 whose answer the provider's safety system stopped. */
  | { kind: 'content-filtered' }
  | { kind: 'throttled'; retryAfterSeconds?: number; retryAfterMs?: number }
  /** OpenAI's 429 `insufficient_quota`: billing, not a rate limit. */
  | { kind: 'quota-exhausted' }
  | { kind: 'unavailable' }
  | { kind: 'server-error' }
  | { kind: 'gateway-timeout' }
  | { kind: 'context-overflow' }
  | { kind: 'content-policy' }
  | { kind: 'unauthorized' }
  | { kind: 'forbidden' }
  | { kind: 'model-not-found' }
  | { kind: 'invalid-request' }
  /** HTTP 200 with a body that is not JSON. */
  | { kind: 'malformed' }
  /** Streaming only: some text, then the body ends (`end`) or the socket dies (`destroy`). */
  | { kind: 'stream-cut'; afterChunks?: number; mode?: 'end' | 'destroy' }
  /** Streaming only: some text, then an error event inside the 200 stream. */
  | { kind: 'stream-error' }
  | { kind: 'hang' };

export interface FakeCall {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
  /** Concatenated text of the request's messages (and system prompt). */
  prompt: string;
}

export type FakeScript = (call: FakeCall) => FakeReply;

/** What a protocol renders: the route it serves, its auth check and its answers. */
export interface WireProtocol {
  /** True when the path is this protocol's endpoint (any base-URL prefix allowed). */
  matches(path: string): boolean;
  /** The credential in the request, for the optional key check. */
  credential(headers: IncomingMessage['headers']): string | undefined;
  prompt(body: Record<string, unknown>): string;
  /** Renders a reply; may write slowly, stream or cut the connection. */
  render(reply: FakeReply, call: FakeCall, response: ServerResponse): Promise<void>;
  notFound(response: ServerResponse, path: string): void;
}

export interface FakeLlmServer {
  url: string;
  calls: FakeCall[];
  setScript(script: FakeScript): void;
  close(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export const tokenCount = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * The vector the embedding fakes answer for `text`: derived from sha-256 digests of the text,
 * unit length, every component a float32 value (so it survives a float32 round trip exactly).
 * The same text and size always give the same vector.
 */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const raw: number[] = [];
  for (let block = 0; raw.length < dimensions; block += 1) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let offset = 0; offset < digest.length && raw.length < dimensions; offset += 4) {
      raw.push(digest.readUInt32LE(offset) / 2 ** 31 - 1);
    }
  }
  const norm = Math.hypot(...raw) || 1;
  return raw.map((value) => Math.fround(value / norm));
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Starts a fake on 127.0.0.1 with a random port. With `apiKey` set, calls carrying another
 * credential get the protocol's real 401 before the script runs.
 */
export async function startLlmServer(
  protocol: WireProtocol,
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  let script: FakeScript = options.script ?? (() => ({ kind: 'text' }));
  const calls: FakeCall[] = [];
  const sockets = new Set<Socket>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (request.method !== 'POST' || !protocol.matches(path)) {
      protocol.notFound(response, `${request.method} ${request.url}`);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      await protocol.render({ kind: 'invalid-request' }, emptyCall(request, path), response);
      return;
    }
    const call: FakeCall = {
      method: request.method,
      path: request.url ?? '',
      headers: request.headers,
      body,
      model: typeof body.model === 'string' ? body.model : '',
      stream: body.stream === true,
      prompt: protocol.prompt(body),
    };
    calls.push(call);
    if (options.apiKey !== undefined && protocol.credential(request.headers) !== options.apiKey) {
      await protocol.render({ kind: 'unauthorized' }, call, response);
      return;
    }
    const reply = script(call);
    if (reply.kind === 'hang') return;
    await protocol.render(reply, call, response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setScript(next) {
      script = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function emptyCall(request: IncomingMessage, path: string): FakeCall {
  return {
    method: request.method ?? '',
    path,
    headers: request.headers,
    body: {},
    model: '',
    stream: false,
    prompt: '',
  };
}

/** Replies every protocol renders alike; the rest are the protocol's own errors. */
const ANSWER_KINDS: ReadonlySet<FakeReply['kind']> = new Set([
  'text',
  'content-filtered',
  'stream-cut',
  'stream-error',
]);

/** True when `reply` is an answer (200) rather than an error reply. */
export const isAnswer = (reply: FakeReply): boolean => ANSWER_KINDS.has(reply.kind);

/**
 * Handles what is the same in every protocol: the delay of a non-streaming answer, a 200 whose
 * body breaks off (`malformedStart` is the protocol's first bytes) and a proxy's HTML 504.
 * Returns true when the reply was fully rendered.
 */
export async function renderCommonReply(
  reply: FakeReply,
  call: FakeCall,
  response: ServerResponse,
  malformedStart: string,
): Promise<boolean> {
  if (reply.kind === 'text' && reply.delayMs && !call.stream) await sleep(reply.delayMs);
  if (reply.kind === 'malformed') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(malformedStart);
    return true;
  }
  if (reply.kind === 'gateway-timeout') {
    response.writeHead(504, { 'content-type': 'text/html' });
    response.end('<html><body><h1>504 Gateway Time-out</h1></body></html>');
    return true;
  }
  return false;
}
