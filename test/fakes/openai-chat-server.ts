/**
 * A local OpenAI chat-completions API (`POST …/chat/completions`, JSON and SSE streaming) for
 * every OpenAI-compatible provider: OpenAI, Azure, Groq, DeepSeek, xAI, Together, Fireworks,
 * Cerebras, Perplexity, DeepInfra, Mistral, Ollama, vLLM, LM Studio, llama.cpp. Error bodies
 * are the ones OpenAI sends (`{ error: { message, type, param, code } }`).
 *
 * It also serves `POST …/embeddings`: a `text` reply answers every input with
 * `fakeEmbedding(input, dimensions ?? 1536)`; every error reply is sent as for chat.
 *
 * `startOpenAiTranscriptionServer` serves `POST …/audio/transcriptions` (multipart, so on its
 * own server: the shared core reads JSON bodies only), scripted the same way.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  fakeEmbedding,
  isAnswer,
  renderCommonReply,
  sendJson,
  sleep,
  startLlmServer,
  tokenCount,
  type FakeCall,
  type FakeLlmServer,
  type FakeReply,
  type FakeScript,
  type WireProtocol,
} from './llm-fake-server';

const openAiError = (
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): unknown => ({ error: { message, type, param, code } });

/** Status, body and headers of every OpenAI error reply. */
function errorFor(reply: FakeReply, call: FakeCall): [number, unknown, Record<string, string>] {
  switch (reply.kind) {
    case 'throttled': {
      const headers: Record<string, string> = { 'x-ratelimit-remaining-requests': '0' };
      if (reply.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(reply.retryAfterSeconds);
      }
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      const message = `Rate limit reached for ${call.model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1.`;
      return [429, openAiError(message, 'requests', 'rate_limit_exceeded'), headers];
    }
    case 'quota-exhausted':
      return [
        429,
        openAiError(
          'You exceeded your current quota, please check your plan and billing details.',
          'insufficient_quota',
          'insufficient_quota',
        ),
        {},
      ];
    case 'unavailable':
      return [
        503,
        openAiError('The server is overloaded or not ready yet.', 'server_error', null),
        {},
      ];
    case 'context-overflow':
      return [
        400,
        openAiError(
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130123 tokens. Please reduce the length of the messages.",
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
        {},
      ];
    case 'content-policy':
      return [
        400,
        openAiError(
          'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
          'invalid_request_error',
          'content_policy_violation',
        ),
        {},
      ];
    case 'unauthorized':
      return [
        401,
        openAiError(
          'Incorrect API key provided: sk-wr*****ong. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          'invalid_api_key',
        ),
        {},
      ];
    case 'forbidden':
      return [
        403,
        openAiError(
          'Country, region, or territory not supported',
          'request_forbidden',
          'unsupported_country_region_territory',
        ),
        {},
      ];
    case 'model-not-found':
      return [
        404,
        openAiError(
          `The model \`${call.model}\` does not exist or you do not have access to it.`,
          'invalid_request_error',
          'model_not_found',
        ),
        {},
      ];
    case 'invalid-request':
      return [
        400,
        openAiError(
          "Invalid value for 'temperature': expected a number between 0 and 2.",
          'invalid_request_error',
          'invalid_value',
          'temperature',
        ),
        {},
      ];
    default:
      return [
        500,
        openAiError(
          'The server had an error while processing your request. Sorry about that!',
          'server_error',
          null,
        ),
        {},
      ];
  }
}

const completionId = (call: FakeCall): string => `chatcmpl-fake-${call.prompt.length}`;

function answerText(reply: FakeReply, call: FakeCall): string {
  return reply.kind === 'text' && reply.text !== undefined
    ? reply.text
    : `Answer from ${call.model}.`;
}

async function renderStream(
  reply: FakeReply,
  call: FakeCall,
  response: ServerResponse,
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): void => {
    const payload = {
      id: completionId(call),
      object: 'chat.completion.chunk',
      created: 1_760_000_000,
      model: call.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    response.write(`data: ${JSON.stringify(payload)}\n\n`);
  };
  const text = answerText(reply, call);
  const pieces = text.match(/.{1,8}/gs) ?? [''];
  // Cut before the last piece at the latest, so the answer is always incomplete.
  const last = pieces.length - 1;
  const cutAfter = reply.kind === 'stream-cut' ? Math.min(reply.afterChunks ?? 2, last) : Infinity;
  const errorAfter = reply.kind === 'stream-error' ? Math.min(2, last) : Infinity;
  chunk({ role: 'assistant', content: '' }, null);
  for (const [index, piece] of pieces.entries()) {
    if (index === cutAfter && reply.kind === 'stream-cut') {
      if (reply.mode === 'destroy') response.socket?.destroy();
      else response.end();
      return;
    }
    if (index === errorAfter) {
      response.write(
        `data: ${JSON.stringify(openAiError('The server had an error while processing your request.', 'server_error', null))}\n\n`,
      );
      response.end();
      return;
    }
    chunk({ content: piece }, null);
    if (reply.kind === 'text' && reply.delayMs) await sleep(reply.delayMs / pieces.length);
  }
  chunk({}, reply.kind === 'content-filtered' ? 'content_filter' : 'stop');
  const options = call.body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) {
    const usage = usageFor(call, text);
    response.write(
      `data: ${JSON.stringify({ id: completionId(call), object: 'chat.completion.chunk', created: 1_760_000_000, model: call.model, choices: [], usage })}\n\n`,
    );
  }
  response.end('data: [DONE]\n\n');
}

function usageFor(call: FakeCall, text: string): Record<string, number> {
  const prompt = tokenCount(call.prompt);
  const completion = tokenCount(text);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

/** Vector size of the embeddings answer when the request names none (text-embedding-3-small). */
export const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

const isEmbeddings = (path: string): boolean => (path.split('?')[0] ?? '').endsWith('/embeddings');

/** The texts of an embeddings request (`input` is a string or a list of strings). */
export function embeddingInputs(body: Record<string, unknown>): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  return Array.isArray(input) ? input.map((item) => String(item)) : [];
}

function renderEmbeddings(call: FakeCall, response: ServerResponse): void {
  const inputs = embeddingInputs(call.body);
  const dimensions =
    typeof call.body.dimensions === 'number' ? call.body.dimensions : DEFAULT_EMBEDDING_DIMENSIONS;
  const promptTokens = inputs.reduce((sum, input) => sum + tokenCount(input), 0);
  sendJson(response, 200, {
    object: 'list',
    data: inputs.map((input, index) => ({
      object: 'embedding',
      index,
      embedding: fakeEmbedding(input, dimensions),
    })),
    model: call.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}

const openAiChat: WireProtocol = {
  matches: (path) => path.endsWith('/chat/completions') || isEmbeddings(path),
  credential: (headers) => {
    const bearer = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    return bearer ?? (headers['api-key'] as string | undefined);
  },
  prompt: (body) =>
    body.input !== undefined
      ? embeddingInputs(body).join('\n')
      : ((body.messages as { content?: unknown }[] | undefined) ?? [])
          .map((message) =>
            typeof message.content === 'string' ? message.content : JSON.stringify(message.content),
          )
          .join('\n'),
  notFound: (response, what) =>
    sendJson(response, 404, openAiError(`Invalid URL (${what})`, 'invalid_request_error', null)),
  async render(reply, call, response) {
    const malformed =
      '{"id":"chatcmpl-fake","object":"chat.completion","choices":[{"index":0,"mess';
    if (await renderCommonReply(reply, call, response, malformed)) return;
    if (!isAnswer(reply)) {
      const [status, body, headers] = errorFor(reply, call);
      sendJson(response, status, body, headers);
      return;
    }
    if (isEmbeddings(call.path)) {
      renderEmbeddings(call, response);
      return;
    }
    if (call.stream) {
      await renderStream(reply, call, response);
      return;
    }
    const text = answerText(reply, call);
    const filtered = reply.kind === 'content-filtered';
    sendJson(response, 200, {
      id: completionId(call),
      object: 'chat.completion',
      created: 1_760_000_000,
      model: call.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: filtered ? null : text },
          finish_reason: filtered ? 'content_filter' : 'stop',
        },
      ],
      usage: usageFor(call, filtered ? '' : text),
    });
  },
};

/** Starts the OpenAI chat-completions fake; `apiKey` turns on the real 401 for a wrong key. */
export function startOpenAiChatServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  return startLlmServer(openAiChat, options);
}

/** The uploaded `file` part of a transcription call, bytes as received. */
export interface TranscriptionUpload {
  filename: string;
  contentType: string;
  bytes: Buffer;
}

/** `avg_logprob` of every segment the transcription fake answers (exp ≈ 0.78). */
export const FAKE_TRANSCRIPTION_AVG_LOGPROB = -0.25;

const isTranscriptions = (path: string): boolean =>
  (path.split('?')[0] ?? '').endsWith('/audio/transcriptions');

/**
 * Parses a multipart body with the platform's own parser (undici's `FormData`). Text fields
 * become strings, fields named `…[]` lists, and `file` a `TranscriptionUpload`. Undefined
 * for a body that is not valid multipart.
 */
export async function parseTranscriptionForm(
  contentType: string,
  body: Buffer,
): Promise<Record<string, unknown> | undefined> {
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return undefined;
  }
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string') {
      fields[name] = {
        filename: value.name,
        contentType: value.type,
        bytes: Buffer.from(await value.arrayBuffer()),
      } satisfies TranscriptionUpload;
    } else if (name.endsWith('[]')) {
      fields[name] = [...((fields[name] as string[] | undefined) ?? []), value];
    } else {
      fields[name] = value;
    }
  }
  return fields;
}

/** Seconds of PCM audio in a RIFF/WAVE file; undefined for anything else. */
export function wavDurationSeconds(bytes: Buffer): number | undefined {
  if (bytes.length < 12 || bytes.toString('latin1', 0, 4) !== 'RIFF') return undefined;
  if (bytes.toString('latin1', 8, 12) !== 'WAVE') return undefined;
  let byteRate: number | undefined;
  for (let offset = 12; offset + 8 <= bytes.length;) {
    const id = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ' && offset + 20 <= bytes.length) byteRate = bytes.readUInt32LE(offset + 16);
    if (id === 'data') {
      const dataBytes = Math.min(size, bytes.length - offset - 8);
      return byteRate ? dataBytes / byteRate : undefined;
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * OpenAI's `verbose_json` transcription: the words of `text` spread evenly over the audio,
 * one segment holding them all. `words` only when `word` granularity was asked for;
 * `segments` unless granularities were given without `segment`.
 */
function verboseTranscription(
  text: string,
  durationSeconds: number,
  granularities: readonly string[],
): Record<string, unknown> {
  const tokens = text.split(/\s+/).filter(Boolean);
  const step = durationSeconds / Math.max(1, tokens.length);
  const at = (seconds: number): number => Math.round(seconds * 100) / 100;
  const words = tokens.map((token, index) => ({
    word: token.replace(/[.,!?]+$/, ''),
    start: at(index * step),
    end: at((index + 1) * step),
  }));
  const segments = [
    {
      id: 0,
      seek: 0,
      start: 0,
      end: at(durationSeconds),
      text: ` ${text}`,
      tokens: tokens.map((_, index) => 50_364 + index),
      temperature: 0,
      avg_logprob: FAKE_TRANSCRIPTION_AVG_LOGPROB,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    },
  ];
  return {
    task: 'transcribe',
    language: 'english',
    duration: at(durationSeconds),
    text,
    ...(granularities.includes('word') ? { words } : {}),
    ...(granularities.length === 0 || granularities.includes('segment') ? { segments } : {}),
  };
}

async function renderTranscription(
  reply: FakeReply,
  call: FakeCall,
  response: ServerResponse,
): Promise<void> {
  const malformed = '{"task":"transcribe","language":"english","text":"cut';
  if (await renderCommonReply(reply, call, response, malformed)) return;
  if (!isAnswer(reply)) {
    const [status, body, headers] = errorFor(reply, call);
    sendJson(response, status, body, headers);
    return;
  }
  const text =
    reply.kind === 'text' && reply.text !== undefined
      ? reply.text
      : `Transcript from ${call.model}.`;
  const upload = call.body.file as TranscriptionUpload;
  const duration = wavDurationSeconds(upload.bytes) ?? 0.4 * Math.max(1, text.split(/\s+/).length);
  const format = call.body.response_format;
  if (format === 'text') {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(text);
    return;
  }
  if (format !== 'verbose_json') {
    sendJson(response, 200, { text });
    return;
  }
  const granularities = (call.body['timestamp_granularities[]'] as string[] | undefined) ?? [];
  sendJson(response, 200, verboseTranscription(text, duration, granularities));
}

/**
 * Starts a local OpenAI transcription API (`POST …/audio/transcriptions`, multipart) for
 * OpenAI, Groq and OpenAI-compatible whisper servers. Each call is recorded with its fields
 * in `body` (repeated `…[]` fields as lists) and the upload in `body.file`
 * (`TranscriptionUpload`). A `text` reply is the transcript (default
 * `Transcript from <model>.`), answered in the requested `response_format` (`verbose_json`
 * with words and segments, `json`, `text`); error replies are OpenAI's, as for chat (429 with
 * Retry-After, 503, 401, 400, …). A body that is not multipart with a `file` gets OpenAI's 400.
 * `apiKey` turns on the real 401 for a wrong key.
 */
export async function startOpenAiTranscriptionServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  let script: FakeScript = options.script ?? (() => ({ kind: 'text' }));
  const calls: FakeCall[] = [];
  const sockets = new Set<Socket>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = request.url ?? '';
    if (request.method !== 'POST' || !isTranscriptions(path)) {
      openAiChat.notFound(response, `${request.method} ${request.url}`);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const fields = await parseTranscriptionForm(
      String(request.headers['content-type'] ?? ''),
      Buffer.concat(chunks),
    );
    if (!fields || typeof fields.file !== 'object') {
      sendJson(
        response,
        400,
        openAiError(
          "Could not parse multipart form: 'file' is required",
          'invalid_request_error',
          null,
          'file',
        ),
      );
      return;
    }
    const call: FakeCall = {
      method: request.method,
      path,
      headers: request.headers,
      body: fields,
      model: typeof fields.model === 'string' ? fields.model : '',
      stream: false,
      prompt: '',
    };
    calls.push(call);
    if (options.apiKey !== undefined && openAiChat.credential(request.headers) !== options.apiKey) {
      await renderTranscription({ kind: 'unauthorized' }, call, response);
      return;
    }
    const reply = script(call);
    if (reply.kind === 'hang') return;
    await renderTranscription(reply, call, response);
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
