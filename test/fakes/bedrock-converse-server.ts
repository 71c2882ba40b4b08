/**
 * A local stand-in for Amazon Bedrock's runtime that speaks the real wire protocols of
 * Converse (REST-JSON) and ConverseStream (AWS event-stream binary framing,
 * `application/vnd.amazon.eventstream`) over HTTP/2 as the SDK's default handler uses them,
 * with SigV4-signed requests and `x-amzn-errortype` errors, so the real
 * @aws-sdk/client-bedrock-runtime code path runs in tests. It records every call and answers
 * from a script: text (with tool use, cache tokens, a stop reason), a typed error before the
 * answer, a delay, a hang (a call that never answers), and for streams an exception event
 * after some text (`stream-error`) or a body that ends early (`stream-cut`).
 *
 * Usage counts only for answers delivered to a client that was still there: a call whose
 * client went away first has no `usage`, and a stream counts when its `metadata` event is sent.
 * Every Converse call (planner and agent steps alike) is also logged in `log` with a stable
 * identity of its request (sha-256 of the body, equal for a repeat of the same request), its
 * request id, when it arrived and when its full answer was sent, so crash tests can tell a
 * repeated call from a new one and see which answers had reached the client.
 *
 * Calls of the Supervisor's planner (system prompt carrying PLANNER_PROMPT_ID) are kept apart:
 * they answer from the planner script, are recorded in `plannerCalls` only, and count in no
 * other statistic. Without a planner script they fail with a ValidationException, so a
 * hybrid-mode worker plans by rules after one quick call, as tests written before the
 * planner expect.
 *
 * InvokeModel (`POST /model/{modelId}/invoke`) is served for embedding models only: Titan Text
 * Embeddings (`amazon.titan-embed-text-*`: one `inputText` per call) and Cohere Embed
 * (`cohere.embed-*`: up to 96 `texts` per call). Vectors are `fakeEmbedding(text, size)`, so
 * tests can compute them; input tokens are in the body (Titan) and in the
 * `x-amzn-bedrock-input-token-count` header (both). These calls are recorded in
 * `embeddingCalls` only, answer from the embedding script and count in no other statistic.
 */
import {
  createServer,
  type Http2ServerRequest as IncomingMessage,
  type Http2ServerResponse as ServerResponse,
  type Http2Session,
} from 'node:http2';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { PLANNER_PROMPT_ID } from '../../activities/planning/planner-prompt';
import { fakeEmbedding } from './llm-fake-server';

export interface FakeUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseCall {
  modelId: string;
  /** This server's `x-amzn-requestid` for the call (`fake-<n>`, unique per server). */
  requestId: string;
  /** True for ConverseStream, false for Converse. */
  stream: boolean;
  /** Session and step ids parsed from the agent prompt ("Session: <id> · turn n · step <id>"). */
  sessionId?: string;
  stepId?: string;
  /** 1-based count of calls for this session's step so far, this one included. */
  callNumber: number;
  body: ConverseBody;
  authorization: string;
  /** Usage this server reported for the call (answers delivered to an open client only). */
  usage?: FakeUsage;
}

/** A content block as it arrives on the wire (image bytes are base64). */
export interface ConverseContentBlock {
  text?: string;
  image?: { format?: string; source?: { bytes?: string } };
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  toolResult?: unknown;
}

export interface ConverseBody {
  messages?: { role: string; content: ConverseContentBlock[] }[];
  system?: { text?: string }[];
  inferenceConfig?: { maxTokens?: number; temperature?: number };
  toolConfig?: {
    tools?: {
      toolSpec?: { name?: string; description?: string; inputSchema?: { json?: unknown } };
    }[];
  };
}

/** A tool call the scripted model makes; `id` defaults to `tooluse_<n>`. */
export interface ScriptedToolUse {
  id?: string;
  name: string;
  input: unknown;
}

export interface ScriptedAnswer {
  /** The answer text; defaults to a line naming step, call and model ('' with `toolUse`). */
  text?: string;
  /** Waited before the answer starts. */
  delayMs?: number;
  /** Waited between two stream events (ConverseStream only). */
  chunkDelayMs?: number;
  /** Defaults to `tool_use` with `toolUse`, else `end_turn` (e.g. `content_filtered`). */
  stopReason?: string;
  toolUse?: ScriptedToolUse[];
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export type ScriptedReply =
  | ({ kind: 'text' } & ScriptedAnswer)
  | {
      kind: 'error';
      status: number;
      name: string;
      message?: string;
      /** Sent as a `retry-after` header. */
      retryAfterSeconds?: number;
    }
  | { kind: 'hang' }
  /**
   * A stream: 200, some text deltas, then an exception event named `name` (e.g.
   * ModelStreamErrorException). On Converse: the same exception as an HTTP error.
   */
  | {
      kind: 'stream-error';
      name: string;
      message?: string;
      text?: string;
      delayMs?: number;
      chunkDelayMs?: number;
    }
  /**
   * A stream: 200, some text deltas, then the body ends without messageStop and metadata. On
   * Converse: a 200 whose JSON body is cut in half.
   */
  | { kind: 'stream-cut'; text?: string; delayMs?: number; chunkDelayMs?: number };

export type ConverseScript = (call: ConverseCall) => ScriptedReply;

export interface PlannerCall {
  body: ConverseBody;
  /** The request text the planner was asked about ("Request:\n..." in the first message). */
  request: string;
  /** True for the repair turn (the model's previous answer and its errors follow). */
  repair: boolean;
  /** 1-based count of planner calls so far, this one included. */
  callNumber: number;
  /** This server's `x-amzn-requestid` for the call. */
  requestId: string;
}

/** One Converse or ConverseStream call as the crash tests read it (planner calls included). */
export interface LoggedCall {
  requestId: string;
  kind: 'planner' | 'step';
  /** sha-256 of the request body: a repeat of the same request has the same identity. */
  identity: string;
  sessionId?: string;
  stepId?: string;
  /** `Date.now()` when the request body had arrived. */
  receivedAt: number;
  /** `Date.now()` when the full answer (body end, or the stream's metadata event) was sent. */
  answeredAt?: number;
}

export type PlannerScript = (call: PlannerCall) => ScriptedReply;

/** One InvokeModel call of an embedding model, as it arrived. */
export interface EmbeddingCall {
  modelId: string;
  /** The parsed JSON body (Titan: `inputText`, `dimensions`, `normalize`; Cohere: `texts`, ...). */
  body: Record<string, unknown>;
  contentType: string;
  accept: string;
  authorization: string;
  /** 1-based count of embedding calls so far, this one included. */
  callNumber: number;
}

export type EmbeddingReply =
  /** The model's vectors, after `delayMs`. */
  | { kind: 'vectors'; delayMs?: number }
  | {
      kind: 'error';
      status: number;
      name: string;
      message?: string;
      /** Sent as a `retry-after` header. */
      retryAfterSeconds?: number;
    };

export type EmbeddingScript = (call: EmbeddingCall) => EmbeddingReply;

/** Vector sizes of Titan Text Embeddings v2, and its default. */
export const TITAN_DIMENSIONS = [256, 512, 1024] as const;
/** Vector size of the fake Cohere Embed answers when no `output_dimension` is asked for. */
export const COHERE_DEFAULT_DIMENSIONS = 1024;

export interface FakeBedrockOptions {
  /** Answers the planner's calls; see the module comment for the default. */
  planner?: PlannerScript;
  /** Answers InvokeModel embedding calls; vectors for every call by default. */
  embeddings?: EmbeddingScript;
}

export interface FakeBedrock {
  url: string;
  calls: ConverseCall[];
  /** Calls made for one step of one session. */
  callsForStep(sessionId: string, stepId: string): number;
  /** Calls made for one session. */
  callsForSession(sessionId: string): number;
  /**
   * Usage of the answers delivered to a client for one session (a call whose client went away
   * has none), in call order; only those of `stepIds` when given.
   */
  deliveredUsage(sessionId: string, stepIds?: readonly string[]): FakeUsage[];
  /** Replaces the script for calls from now on. */
  setScript(script: ConverseScript): void;
  /** The planner's calls (not in `calls`). */
  plannerCalls: PlannerCall[];
  /** Replaces the planner script for planner calls from now on. */
  setPlannerScript(script: PlannerScript): void;
  /** Total usage reported to clients (answers delivered to an open client only). */
  reportedUsage: Required<FakeUsage>;
  /** Most calls that were in progress at the same moment. */
  maxInFlight(): number;
  /** Every Converse call in arrival order, planner calls included (see the module comment). */
  log: LoggedCall[];
  /** InvokeModel calls of embedding models (not in `calls`). */
  embeddingCalls: EmbeddingCall[];
  /** Replaces the embedding script for embedding calls from now on. */
  setEmbeddingScript(script: EmbeddingScript): void;
  /** Most embedding calls that were in progress at the same moment. */
  maxEmbeddingInFlight(): number;
  close(): Promise<void>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Za-z0-9]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, ?SignedHeaders=[a-z0-9;:-]+, ?Signature=[0-9a-f]{64}$/;

/** HTTP statuses Bedrock uses for its exceptions (FACTS.md). */
const EXCEPTION_STATUS: Record<string, number> = {
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelStreamErrorException: 424,
  ModelErrorException: 424,
  ModelTimeoutException: 408,
  ServiceQuotaExceededException: 400,
  ValidationException: 400,
  ConflictException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
};

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

const sleep = (milliseconds: number | undefined): Promise<void> =>
  milliseconds ? new Promise((resolve) => setTimeout(resolve, milliseconds)) : Promise.resolve();

/** Splits `text` into up to `parts` non-empty pieces that join back into it. */
function splitText(text: string, parts = 3): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += size)
    pieces.push(text.slice(start, start + size));
  return pieces;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event-stream message: an event (`messageStart`, ...) or a modelled exception. */
function frame(kind: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  const typeHeader = kind === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      [typeHeader]: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: kind },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

/** What a scripted answer says, worked out once for Converse and ConverseStream alike. */
interface Answer {
  text: string;
  toolUse: Required<ScriptedToolUse>[];
  stopReason: string;
  usage: FakeUsage;
  latencyMs: number;
}

function answerOf(reply: ScriptedAnswer, defaultText: string, inputTokens: number): Answer {
  const toolUse = (reply.toolUse ?? []).map((tool, index) => ({
    id: tool.id ?? `tooluse_${index + 1}`,
    name: tool.name,
    input: tool.input,
  }));
  const text = reply.text ?? (toolUse.length > 0 ? '' : defaultText);
  const spoken = text + toolUse.map((tool) => JSON.stringify(tool.input)).join('');
  return {
    text,
    toolUse,
    stopReason: reply.stopReason ?? (toolUse.length > 0 ? 'tool_use' : 'end_turn'),
    usage: {
      inputTokens,
      outputTokens: tokens(spoken),
      ...(reply.cacheReadInputTokens !== undefined
        ? { cacheReadInputTokens: reply.cacheReadInputTokens }
        : {}),
      ...(reply.cacheWriteInputTokens !== undefined
        ? { cacheWriteInputTokens: reply.cacheWriteInputTokens }
        : {}),
    },
    latencyMs: reply.delayMs ?? 1,
  };
}

const wireUsage = (usage: FakeUsage) => ({
  ...usage,
  totalTokens: usage.inputTokens + usage.outputTokens,
});

/** The events of a whole answer, in Bedrock's order; the last one (metadata) carries usage. */
function answerFrames(answer: Answer): Uint8Array[] {
  const textIndex = answer.text === '' ? [] : [0];
  const firstTool = textIndex.length;
  return [
    frame('event', 'messageStart', { role: 'assistant' }),
    ...textIndex.flatMap((index) => [
      ...splitText(answer.text).map((piece) =>
        frame('event', 'contentBlockDelta', { contentBlockIndex: index, delta: { text: piece } }),
      ),
      frame('event', 'contentBlockStop', { contentBlockIndex: index }),
    ]),
    ...answer.toolUse.flatMap((tool, offset) => {
      const contentBlockIndex = firstTool + offset;
      return [
        frame('event', 'contentBlockStart', {
          contentBlockIndex,
          start: { toolUse: { toolUseId: tool.id, name: tool.name } },
        }),
        ...splitText(JSON.stringify(tool.input), 2).map((input) =>
          frame('event', 'contentBlockDelta', { contentBlockIndex, delta: { toolUse: { input } } }),
        ),
        frame('event', 'contentBlockStop', { contentBlockIndex }),
      ];
    }),
    frame('event', 'messageStop', { stopReason: answer.stopReason }),
    frame('event', 'metadata', {
      usage: wireUsage(answer.usage),
      metrics: { latencyMs: answer.latencyMs },
    }),
  ];
}

/** The first events of an answer: its start and its text deltas, nothing that ends it. */
function partialFrames(text: string): Uint8Array[] {
  return [
    frame('event', 'messageStart', { role: 'assistant' }),
    ...splitText(text).map((piece) =>
      frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: piece } }),
    ),
  ];
}

function converseBody(answer: Answer): string {
  const content = [
    ...(answer.text === '' ? [] : [{ text: answer.text }]),
    ...answer.toolUse.map((tool) => ({
      toolUse: { toolUseId: tool.id, name: tool.name, input: tool.input },
    })),
  ];
  return JSON.stringify({
    output: { message: { role: 'assistant', content } },
    stopReason: answer.stopReason,
    usage: wireUsage(answer.usage),
    metrics: { latencyMs: answer.latencyMs },
  });
}

const isOpen = (response: ServerResponse): boolean =>
  !response.stream.destroyed && !response.stream.closed;

/** How one call is answered: its protocol, its default text and who hears of its usage. */
interface Delivery {
  stream: boolean;
  defaultText: string;
  inputTokens: number;
  requestId: string;
  /** Called once the answer's usage reached a client that was still there. */
  delivered(usage: FakeUsage): void;
}

export async function startFakeBedrock(
  script: ConverseScript = () => ({ kind: 'text' }),
  options: FakeBedrockOptions = {},
): Promise<FakeBedrock> {
  let current = script;
  let planner = options.planner ?? UNSCRIPTED_PLANNER;
  const plannerCalls: PlannerCall[] = [];
  const calls: ConverseCall[] = [];
  const log: LoggedCall[] = [];
  const perStep = new Map<string, number>();
  const reportedUsage = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadInputTokens: 0,
    cacheWriteInputTokens: 0,
  };
  const hanging = new Set<ServerResponse>();
  let inFlight = 0;
  let maxInFlight = 0;
  let embeddingScript: EmbeddingScript = options.embeddings ?? (() => ({ kind: 'vectors' }));
  const embeddingCalls: EmbeddingCall[] = [];
  let embeddingInFlight = 0;
  let maxEmbeddingInFlight = 0;

  const sendError = (
    response: ServerResponse,
    status: number,
    name: string,
    message: string,
    retryAfterSeconds?: number,
  ): void => {
    if (response.headersSent) {
      response.stream.close();
      return;
    }
    response.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': `fake-${calls.length}`,
      ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}),
    });
    response.end(JSON.stringify({ message }));
  };

  /** Writes event-stream frames one by one; stops early when the client went away. */
  const writeFrames = async (
    response: ServerResponse,
    frames: Uint8Array[],
    chunkDelayMs: number | undefined,
  ): Promise<boolean> => {
    for (const [index, bytes] of frames.entries()) {
      if (index > 0) await sleep(chunkDelayMs);
      if (!isOpen(response)) return false;
      response.write(bytes);
    }
    return isOpen(response);
  };

  /** Answers one call from its scripted reply, by Converse or by ConverseStream. */
  const deliver = async (
    response: ServerResponse,
    reply: ScriptedReply,
    delivery: Delivery,
  ): Promise<void> => {
    if (reply.kind === 'hang') {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return;
    }
    if (reply.kind === 'error') {
      sendError(
        response,
        reply.status,
        reply.name,
        reply.message ?? reply.name,
        reply.retryAfterSeconds,
      );
      return;
    }
    await sleep(reply.delayMs);
    if (!isOpen(response)) return;
    if (!delivery.stream) {
      if (reply.kind === 'stream-error') {
        const status = EXCEPTION_STATUS[reply.name] ?? 500;
        sendError(response, status, reply.name, reply.message ?? reply.name);
        return;
      }
      const answer = answerOf(
        reply.kind === 'text' ? reply : { text: reply.text ?? 'cut' },
        delivery.defaultText,
        delivery.inputTokens,
      );
      const body = converseBody(answer);
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-amzn-requestid': delivery.requestId,
      });
      if (reply.kind === 'stream-cut') {
        response.end(body.slice(0, Math.floor(body.length / 2)));
        return;
      }
      response.end(body);
      delivery.delivered(answer.usage);
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/vnd.amazon.eventstream',
      'x-amzn-requestid': delivery.requestId,
    });
    if (reply.kind === 'text') {
      const answer = answerOf(reply, delivery.defaultText, delivery.inputTokens);
      const complete = await writeFrames(response, answerFrames(answer), reply.chunkDelayMs);
      if (complete) delivery.delivered(answer.usage);
    } else {
      const text = reply.text ?? 'The answer begins';
      const exception =
        reply.kind === 'stream-error'
          ? [frame('exception', lowerFirst(reply.name), { message: reply.message ?? reply.name })]
          : [];
      await writeFrames(response, [...partialFrames(text), ...exception], reply.chunkDelayMs);
    }
    if (isOpen(response)) response.end();
  };

  /** Answers one InvokeModel call of an embedding model. */
  const handleInvoke = async (
    request: IncomingMessage,
    response: ServerResponse,
    modelId: string,
  ): Promise<void> => {
    const authorization = String(request.headers.authorization ?? '');
    if (!SIGV4.test(authorization)) {
      sendError(
        response,
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      sendError(
        response,
        400,
        'ValidationException',
        'Malformed input request, please reformat your input and try again.',
      );
      return;
    }
    const call: EmbeddingCall = {
      modelId,
      body,
      contentType: String(request.headers['content-type'] ?? ''),
      accept: String(request.headers.accept ?? ''),
      authorization,
      callNumber: embeddingCalls.length + 1,
    };
    embeddingCalls.push(call);
    embeddingInFlight += 1;
    maxEmbeddingInFlight = Math.max(maxEmbeddingInFlight, embeddingInFlight);
    response.on('close', () => {
      embeddingInFlight -= 1;
    });
    const reply = embeddingScript(call);
    if (reply.kind === 'error') {
      sendError(
        response,
        reply.status,
        reply.name,
        reply.message ?? reply.name,
        reply.retryAfterSeconds,
      );
      return;
    }
    await sleep(reply.delayMs);
    if (!isOpen(response)) return;
    const answer = embeddingAnswer(modelId, body);
    if ('error' in answer) {
      sendError(response, 400, 'ValidationException', answer.error);
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-amzn-requestid': `fake-embed-${call.callNumber}`,
      'x-amzn-bedrock-input-token-count': String(answer.inputTokens),
    });
    response.end(JSON.stringify(answer.body));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const invoke = /^\/model\/([^/]+)\/invoke$/.exec(request.url ?? '');
    if (request.method === 'POST' && invoke?.[1]) {
      await handleInvoke(request, response, decodeURIComponent(invoke[1]));
      return;
    }
    const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(request.url ?? '');
    if (request.method !== 'POST' || !match?.[1]) {
      sendError(
        response,
        404,
        'UnknownOperationException',
        `no route ${request.method} ${request.url}`,
      );
      return;
    }
    const stream = match[2] === 'converse-stream';
    const authorization = String(request.headers.authorization ?? '');
    if (!SIGV4.test(authorization)) {
      sendError(
        response,
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: ConverseBody;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConverseBody;
    } catch {
      sendError(
        response,
        400,
        'ValidationException',
        'Malformed input request, please reformat your input and try again.',
      );
      return;
    }
    const prompt = (body.messages ?? [])
      .flatMap((message) => message.content.map((block) => block.text ?? ''))
      .join('\n');
    const requestId = `fake-${calls.length + plannerCalls.length + 1}`;
    const logged: LoggedCall = {
      requestId,
      kind: 'step',
      identity: createHash('sha256').update(Buffer.concat(chunks)).digest('hex'),
      receivedAt: Date.now(),
    };
    log.push(logged);
    if ((body.system ?? []).some((block) => block.text?.includes(PLANNER_PROMPT_ID))) {
      logged.kind = 'planner';
      const first = body.messages?.[0]?.content[0]?.text ?? '';
      const call: PlannerCall = {
        body,
        request: /^Request:\n([\s\S]*?)\n\nAgents you may use/.exec(first)?.[1] ?? '',
        repair: (body.messages?.length ?? 0) > 1,
        callNumber: plannerCalls.length + 1,
        requestId,
      };
      plannerCalls.push(call);
      await deliver(response, planner(call), {
        stream,
        defaultText: '{}',
        inputTokens: 1,
        requestId,
        delivered: () => {
          logged.answeredAt = Date.now();
        },
      });
      return;
    }
    const sessionId = /Session: (\S+)/.exec(prompt)?.[1];
    const stepId = /· step ([a-z0-9_-]+)/.exec(prompt)?.[1];
    const key = `${sessionId ?? '-'}/${stepId ?? '-'}`;
    const callNumber = (perStep.get(key) ?? 0) + 1;
    perStep.set(key, callNumber);
    if (sessionId) logged.sessionId = sessionId;
    if (stepId) logged.stepId = stepId;
    const call: ConverseCall = {
      modelId: decodeURIComponent(match[1]),
      requestId,
      stream,
      callNumber,
      body,
      authorization,
      ...(sessionId ? { sessionId } : {}),
      ...(stepId ? { stepId } : {}),
    };
    calls.push(call);
    const reply = current(call);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => {
      inFlight -= 1;
    });
    await deliver(response, reply, {
      stream,
      defaultText: `Answer for step ${stepId ?? '?'} (call ${callNumber}) from ${call.modelId}.`,
      inputTokens: tokens(prompt),
      requestId,
      delivered(usage) {
        logged.answeredAt = Date.now();
        call.usage = usage;
        reportedUsage.inputTokens += usage.inputTokens;
        reportedUsage.outputTokens += usage.outputTokens;
        reportedUsage.cacheReadInputTokens += usage.cacheReadInputTokens ?? 0;
        reportedUsage.cacheWriteInputTokens += usage.cacheWriteInputTokens ?? 0;
      },
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 'InternalServerException', String(error));
    });
  });
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsForStep: (sessionId, stepId) => perStep.get(`${sessionId}/${stepId}`) ?? 0,
    callsForSession: (sessionId) => calls.filter((call) => call.sessionId === sessionId).length,
    deliveredUsage: (sessionId, stepIds) =>
      calls.flatMap((call) =>
        call.sessionId === sessionId &&
        call.usage &&
        (!stepIds || stepIds.includes(call.stepId ?? ''))
          ? [call.usage]
          : [],
      ),
    setScript(next) {
      current = next;
    },
    plannerCalls,
    setPlannerScript(next) {
      planner = next;
    },
    reportedUsage,
    maxInFlight: () => maxInFlight,
    log,
    embeddingCalls,
    setEmbeddingScript(next) {
      embeddingScript = next;
    },
    maxEmbeddingInFlight: () => maxEmbeddingInFlight,
    async close() {
      for (const response of hanging) response.stream.close();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const UNSCRIPTED_PLANNER: PlannerScript = () => ({
  kind: 'error',
  status: 400,
  name: 'ValidationException',
  message: 'planner replies are not scripted in this fake',
});

type EmbeddingAnswer = { body: unknown; inputTokens: number } | { error: string };

/** What Bedrock answers an embedding model's InvokeModel body, or the ValidationException it raises. */
function embeddingAnswer(modelId: string, body: Record<string, unknown>): EmbeddingAnswer {
  if (/(^|\.)amazon\.titan-embed-text-/.test(modelId)) {
    const { inputText, dimensions } = body;
    if (typeof inputText !== 'string' || inputText === '') {
      return { error: 'Malformed input request: #: required key [inputText] not found' };
    }
    const size = dimensions ?? 1024;
    if (typeof size !== 'number' || !TITAN_DIMENSIONS.some((allowed) => allowed === size)) {
      return {
        error: `Malformed input request: #/dimensions: ${JSON.stringify(size)} is not a valid enum value`,
      };
    }
    const inputTokens = tokens(inputText);
    return {
      body: {
        embedding: fakeEmbedding(inputText, size),
        inputTextTokenCount: inputTokens,
      },
      inputTokens,
    };
  }
  if (/(^|\.)cohere\.embed-/.test(modelId)) {
    const { texts, input_type: inputType, output_dimension: outputDimension } = body;
    if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96) {
      return { error: 'Malformed input request: #/texts: expected between 1 and 96 texts' };
    }
    if (typeof inputType !== 'string') {
      return { error: 'Malformed input request: #: required key [input_type] not found' };
    }
    const size = typeof outputDimension === 'number' ? outputDimension : COHERE_DEFAULT_DIMENSIONS;
    const strings = texts.map((text) => String(text));
    return {
      body: {
        id: `fake-cohere-${strings.length}`,
        texts: strings,
        embeddings: strings.map((text) => fakeEmbedding(text, size)),
        response_type: 'embeddings_floats',
      },
      inputTokens: strings.reduce((sum, text) => sum + tokens(text), 0),
    };
  }
  return {
    error: `The provided model identifier ${modelId} is not an embedding model this fake serves.`,
  };
}
