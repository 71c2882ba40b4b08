/**
 * A local Cohere v2 Chat API (`POST …/v2/chat`, JSON only) with Cohere's error bodies
 * (`{ message }`). Streaming is not implemented.
 */
import {
  sendJson,
  startLlmServer,
  tokenCount,
  type FakeLlmServer,
  type FakeReply,
  type FakeScript,
  type WireProtocol,
} from './llm-fake-server';

function errorFor(reply: FakeReply, model: string): [number, unknown, Record<string, string>] {
  switch (reply.kind) {
    case 'throttled':
      return [
        429,
        {
          message:
            "You are using a Trial key, which is limited to 10 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'.",
        },
        reply.retryAfterSeconds !== undefined
          ? { 'retry-after': String(reply.retryAfterSeconds) }
          : {},
      ];
    case 'unavailable':
      return [503, { message: 'service unavailable' }, {}];
    case 'context-overflow':
      return [
        400,
        {
          message:
            'too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 130211. Try using a shorter prompt, or enabling prompt truncating.',
        },
        {},
      ];
    case 'unauthorized':
      return [401, { message: 'invalid api token' }, {}];
    case 'model-not-found':
      return [
        404,
        {
          message: `model '${model}' not found, make sure the correct model ID was used and that you have access to the model.`,
        },
        {},
      ];
    case 'invalid-request':
      return [400, { message: 'invalid request: temperature must be between 0 and 1' }, {}];
    default:
      return [
        500,
        { message: 'internal server error, this has been reported to our developers' },
        {},
      ];
  }
}

const cohereChat: WireProtocol = {
  matches: (path) => path.endsWith('/chat'),
  credential: (headers) => /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1],
  prompt: (body) => JSON.stringify(body.messages ?? []),
  notFound: (response, what) => sendJson(response, 404, { message: `no route ${what}` }),
  async render(reply, call, response) {
    if (reply.kind !== 'text') {
      const [status, body, headers] = errorFor(reply, call.model);
      sendJson(response, status, body, headers);
      return;
    }
    const text = reply.text ?? `Answer from ${call.model}.`;
    const usage = { input_tokens: tokenCount(call.prompt), output_tokens: tokenCount(text) };
    sendJson(response, 200, {
      id: `fake-${call.prompt.length}`,
      message: { role: 'assistant', content: [{ type: 'text', text }] },
      finish_reason: 'COMPLETE',
      usage: { billed_units: usage, tokens: usage },
    });
  },
};

/** Starts the Cohere v2 chat fake. */
export function startCohereChatServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  return startLlmServer(cohereChat, options);
}
