/**
 * A local OpenAI Responses API (`POST …/responses`, JSON only) as the Hugging Face router
 * serves it for the Hugging Face provider. Error bodies are `{ error: { message, type, code } }`.
 * Streaming is not implemented.
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

const responsesError = (message: string, type: string, code?: string): unknown => ({
  error: { message, type, ...(code ? { code } : {}) },
});

function errorFor(reply: FakeReply, model: string): [number, unknown, Record<string, string>] {
  switch (reply.kind) {
    case 'throttled':
      return [
        429,
        responsesError('Rate limit reached. Please retry later.', 'rate_limit_error'),
        reply.retryAfterSeconds !== undefined
          ? { 'retry-after': String(reply.retryAfterSeconds) }
          : {},
      ];
    case 'unavailable':
      return [503, responsesError(`Model ${model} is currently loading`, 'server_error'), {}];
    case 'context-overflow':
      return [
        400,
        responsesError(
          "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
          'invalid_request_error',
          'context_length_exceeded',
        ),
        {},
      ];
    case 'unauthorized':
      return [401, responsesError('Invalid credentials in Authorization header', 'auth_error'), {}];
    case 'model-not-found':
      return [
        404,
        responsesError(`The requested model '${model}' does not exist`, 'invalid_request_error'),
        {},
      ];
    case 'invalid-request':
      return [400, responsesError("Invalid value for 'temperature'", 'invalid_request_error'), {}];
    default:
      return [500, responsesError('Internal Server Error', 'server_error'), {}];
  }
}

const openAiResponses: WireProtocol = {
  matches: (path) => path.endsWith('/responses'),
  credential: (headers) => /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1],
  prompt: (body) => JSON.stringify([body.instructions, body.input]),
  notFound: (response, what) =>
    sendJson(response, 404, responsesError(`Not Found: ${what}`, 'invalid_request_error')),
  async render(reply, call, response) {
    if (reply.kind !== 'text') {
      const [status, body, headers] = errorFor(reply, call.model);
      sendJson(response, status, body, headers);
      return;
    }
    const text = reply.text ?? `Answer from ${call.model}.`;
    const input = tokenCount(call.prompt);
    const output = tokenCount(text);
    sendJson(response, 200, {
      id: `resp_fake${call.prompt.length}`,
      object: 'response',
      created_at: 1_760_000_000,
      model: call.model,
      status: 'completed',
      error: null,
      instructions: null,
      max_output_tokens: null,
      metadata: null,
      tool_choice: 'auto',
      tools: [],
      temperature: 1,
      top_p: 1,
      incomplete_details: null,
      output: [
        {
          type: 'message',
          id: 'msg_fake',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text, annotations: [] }],
        },
      ],
      output_text: text,
      usage: { input_tokens: input, output_tokens: output, total_tokens: input + output },
    });
  },
};

/** Starts the OpenAI Responses fake (Hugging Face router shape). */
export function startOpenAiResponsesServer(
  options: { script?: FakeScript; apiKey?: string } = {},
): Promise<FakeLlmServer> {
  return startLlmServer(openAiResponses, options);
}
