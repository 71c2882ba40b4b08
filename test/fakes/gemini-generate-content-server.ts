/**
 * A local Gemini API (`POST …/models/{model}:generateContent`, JSON only) for the Google
 * Generative AI provider and Vertex AI in express mode (API key). Error bodies are Google's
 * (`{ error: { code, message, status } }`), including its 400 for an invalid API key and a
 * `SAFETY` finish for a filtered answer. Streaming is not implemented.
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

const googleError = (code: number, status: string, message: string): unknown => ({
  error: { code, message, status },
});

function errorFor(reply: FakeReply, model: string): [number, unknown, Record<string, string>] {
  switch (reply.kind) {
    case 'throttled':
      return [
        429,
        googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).'),
        reply.retryAfterSeconds !== undefined
          ? { 'retry-after': String(reply.retryAfterSeconds) }
          : {},
      ];
    case 'unavailable':
      return [
        503,
        googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
        {},
      ];
    case 'context-overflow':
      return [
        400,
        googleError(
          400,
          'INVALID_ARGUMENT',
          'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
        ),
        {},
      ];
    case 'unauthorized':
      return [
        400,
        googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.'),
        {},
      ];
    case 'model-not-found':
      return [
        404,
        googleError(
          404,
          'NOT_FOUND',
          `models/${model} is not found for API version v1beta, or is not supported for generateContent.`,
        ),
        {},
      ];
    case 'invalid-request':
      return [
        400,
        googleError(
          400,
          'INVALID_ARGUMENT',
          'Invalid value at \'generation_config.temperature\' (TYPE_FLOAT), "hot"',
        ),
        {},
      ];
    default:
      return [500, googleError(500, 'INTERNAL', 'An internal error has occurred.'), {}];
  }
}

const gemini: WireProtocol = {
  matches: (path) => /\/models\/[^/]+:generateContent$/.test(path),
  credential: (headers) => headers['x-goog-api-key'] as string | undefined,
  prompt: (body) => JSON.stringify([body.systemInstruction, body.contents]),
  notFound: (response, what) =>
    sendJson(response, 404, googleError(404, 'NOT_FOUND', `Not found: ${what}`)),
  async render(reply, call, response) {
    const model = /\/models\/([^/:]+):/.exec(call.path)?.[1] ?? '';
    call.model = decodeURIComponent(model);
    if (reply.kind !== 'text' && reply.kind !== 'content-filtered') {
      const [status, body, headers] = errorFor(reply, call.model);
      sendJson(response, status, body, headers);
      return;
    }
    const filtered = reply.kind === 'content-filtered';
    const text =
      reply.kind === 'text' && reply.text !== undefined ? reply.text : `Answer from ${call.model}.`;
    const input = tokenCount(call.prompt);
    const output = filtered ? 0 : tokenCount(text);
    sendJson(response, 200, {
      candidates: [
        {
          content: { role: 'model', parts: filtered ? [] : [{ text }] },
          finishReason: filtered ? 'SAFETY' : 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: input,
        candidatesTokenCount: output,
        totalTokenCount: input + output,
      },
      modelVersion: call.model,
    });
  },
};

/** Starts the Gemini generateContent fake. */
export function startGeminiServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  return startLlmServer(gemini, options);
}
