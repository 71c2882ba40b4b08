/**
 * A local OpenAI chat-completions API (`POST …/chat/completions`, JSON and SSE streaming) for
 * every OpenAI-compatible provider: OpenAI, Azure, Groq, DeepSeek, xAI, Together, Fireworks,
 * Cerebras, Perplexity, DeepInfra, Mistral, Ollama, vLLM, LM Studio, llama.cpp. Error bodies
 * are the ones OpenAI sends (`{ error: { message, type, param, code } }`).
 *
 * It also serves `POST …/embeddings`: a `text` reply answers every input with
 * `fakeEmbedding(input, dimensions ?? 1536)`; every error reply is sent as for chat.
 */
import type { ServerResponse } from 'node:http';
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
