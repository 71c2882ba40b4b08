/**
 * A local Anthropic Messages API (`POST …/v1/messages`, JSON and SSE streaming with the
 * real event sequence) with the error bodies Anthropic sends
 * (`{ type: 'error', error: { type, message } }`), 529 overloaded, in-stream `error` events
 * and `stop_reason: "refusal"`.
 */
import type { ServerResponse } from 'node:http';
import {
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

const anthropicError = (type: string, message: string): unknown => ({
  type: 'error',
  error: { type, message },
});

function errorFor(reply: FakeReply, call: FakeCall): [number, unknown, Record<string, string>] {
  switch (reply.kind) {
    case 'throttled': {
      const headers: Record<string, string> = { 'anthropic-ratelimit-requests-remaining': '0' };
      if (reply.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(reply.retryAfterSeconds);
      }
      if (reply.retryAfterMs !== undefined) headers['retry-after-ms'] = String(reply.retryAfterMs);
      return [
        429,
        anthropicError(
          'rate_limit_error',
          'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
        ),
        headers,
      ];
    }
    case 'quota-exhausted':
      return [
        400,
        anthropicError(
          'invalid_request_error',
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
        ),
        {},
      ];
    case 'unavailable':
      return [529, anthropicError('overloaded_error', 'Overloaded'), {}];
    case 'context-overflow':
      return [
        400,
        anthropicError(
          'invalid_request_error',
          'prompt is too long: 208143 tokens > 200000 maximum',
        ),
        {},
      ];
    case 'content-policy':
      return [
        400,
        anthropicError('invalid_request_error', 'Output blocked by content filtering policy'),
        {},
      ];
    case 'unauthorized':
      return [401, anthropicError('authentication_error', 'invalid x-api-key'), {}];
    case 'forbidden':
      return [
        403,
        anthropicError(
          'permission_error',
          'Your API key does not have permission to use the specified resource.',
        ),
        {},
      ];
    case 'model-not-found':
      return [404, anthropicError('not_found_error', `model: ${call.model}`), {}];
    case 'invalid-request':
      return [400, anthropicError('invalid_request_error', 'temperature: range: 0..1'), {}];
    default:
      return [500, anthropicError('api_error', 'Internal server error'), {}];
  }
}

function answerText(reply: FakeReply, call: FakeCall): string {
  return reply.kind === 'text' && reply.text !== undefined
    ? reply.text
    : `Answer from ${call.model}.`;
}

const messageId = (call: FakeCall): string => `msg_fake${call.prompt.length}`;

async function renderStream(
  reply: FakeReply,
  call: FakeCall,
  response: ServerResponse,
): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const event = (type: string, data: Record<string, unknown>): void => {
    response.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  const text = answerText(reply, call);
  const input = tokenCount(call.prompt);
  event('message_start', {
    message: {
      id: messageId(call),
      type: 'message',
      role: 'assistant',
      model: call.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: input, output_tokens: 1 },
    },
  });
  event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  event('ping', {});
  const pieces = text.match(/.{1,8}/gs) ?? [''];
  // Cut before the last piece at the latest, so the answer is always incomplete.
  const last = pieces.length - 1;
  const cutAfter = reply.kind === 'stream-cut' ? Math.min(reply.afterChunks ?? 2, last) : Infinity;
  const errorAfter = reply.kind === 'stream-error' ? Math.min(2, last) : Infinity;
  for (const [index, piece] of pieces.entries()) {
    if (index === cutAfter && reply.kind === 'stream-cut') {
      if (reply.mode === 'destroy') response.socket?.destroy();
      else response.end();
      return;
    }
    if (index === errorAfter) {
      event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
      response.end();
      return;
    }
    event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } });
    if (reply.kind === 'text' && reply.delayMs) await sleep(reply.delayMs / pieces.length);
  }
  event('content_block_stop', { index: 0 });
  event('message_delta', {
    delta: {
      stop_reason: reply.kind === 'content-filtered' ? 'refusal' : 'end_turn',
      stop_sequence: null,
    },
    usage: { output_tokens: tokenCount(text) },
  });
  event('message_stop', {});
  response.end();
}

const anthropicMessages: WireProtocol = {
  matches: (path) => path.endsWith('/messages'),
  credential: (headers) => headers['x-api-key'] as string | undefined,
  prompt: (body) => {
    const system =
      typeof body.system === 'string' ? body.system : JSON.stringify(body.system ?? '');
    const messages = (body.messages as { content?: unknown }[] | undefined) ?? [];
    return [system, ...messages.map((message) => JSON.stringify(message.content))].join('\n');
  },
  notFound: (response, what) =>
    sendJson(response, 404, anthropicError('not_found_error', `Not Found: ${what}`)),
  async render(reply, call, response) {
    const malformed = '{"id":"msg_fake","type":"message","role":"assistant","content":[{"ty';
    if (await renderCommonReply(reply, call, response, malformed)) return;
    if (!isAnswer(reply)) {
      const [status, body, headers] = errorFor(reply, call);
      sendJson(response, status, body, { 'request-id': messageId(call), ...headers });
      return;
    }
    if (call.stream) {
      await renderStream(reply, call, response);
      return;
    }
    const text = answerText(reply, call);
    const filtered = reply.kind === 'content-filtered';
    sendJson(response, 200, {
      id: messageId(call),
      type: 'message',
      role: 'assistant',
      model: call.model,
      content: filtered ? [] : [{ type: 'text', text }],
      stop_reason: filtered ? 'refusal' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: tokenCount(call.prompt), output_tokens: tokenCount(text) },
    });
  },
};

/** Starts the Anthropic Messages fake; `apiKey` turns on the real 401 for a wrong key. */
export function startAnthropicMessagesServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  return startLlmServer(anthropicMessages, options);
}
