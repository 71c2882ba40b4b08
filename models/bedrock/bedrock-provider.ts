import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  type BedrockRuntimeClientConfig,
  type ContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type {
  ModelProvider,
  ModelRequest,
  ModelResponse,
  ModelToolCall,
  ModelUsage,
  TextSink,
} from '../model-provider';
import { converseInput, toModelUsage, toToolCall } from './converse-input';
import { readConverseStream } from './converse-stream-reader';
import { BEDROCK_PROVIDER, classifyBedrockError, contentStopFailure } from './errors';

export interface BedrockProviderOptions {
  region: string;
  modelId: string;
  /** Override of the Bedrock runtime endpoint (a local server in tests). */
  endpoint?: string;
  credentials?: BedrockRuntimeClientConfig['credentials'];
  /** Output token cap when the request sets none (2048 by default). */
  defaultMaxTokens?: number;
  /** Clock for `latencyMs` (tests inject one so results repeat). */
  now?: () => number;
}

interface Answer {
  text: string;
  toolCalls: ModelToolCall[];
  stopReason: string;
  usage: ModelUsage;
}

/**
 * The error of a call its caller aborted: the SDK's own AbortError, or one wrapping whatever
 * the cut connection caused (an aborted stream may simply end, which is no incomplete answer).
 */
function abortError(error: unknown): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  return Object.assign(new Error('The Bedrock call was aborted', { cause: error }), {
    name: 'AbortError',
  });
}

/**
 * Amazon Bedrock through Converse (`generate`) and ConverseStream (`stream`). The SDK's own
 * retries are off (`maxAttempts: 1`): Temporal's retry policy is the one retry owner. Every
 * failure, before the answer or inside the stream, is classified once by
 * `classifyBedrockError`; an answer stopped by a content filter or guardrail fails as a
 * non-retryable ModelContentPolicy; a stream without `messageStop` and `metadata` fails as a
 * transient ModelStreamIncomplete. An abort by `request.signal` is rethrown unchanged.
 */
export function createBedrockProvider(options: BedrockProviderOptions): ModelProvider {
  const client = new BedrockRuntimeClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const model = options.modelId;
  const now = options.now ?? (() => performance.now());
  const defaultMaxTokens = options.defaultMaxTokens ?? 2048;

  /** Runs one call; turns its answer into a `ModelResponse` and its failure into our taxonomy. */
  const call = async (request: ModelRequest, answer: () => Promise<Answer>) => {
    const started = now();
    let result: Answer;
    try {
      result = await answer();
    } catch (error) {
      throw request.signal?.aborted ? abortError(error) : classifyBedrockError(error);
    }
    const filtered = contentStopFailure(model, result.stopReason);
    if (filtered) throw filtered;
    const response: ModelResponse = {
      text: result.text,
      provider: BEDROCK_PROVIDER,
      model,
      usage: result.usage,
      stopReason: result.stopReason,
      latencyMs: Math.round(now() - started),
      ...(result.toolCalls.length > 0 ? { toolCalls: result.toolCalls } : {}),
      offline: false,
    };
    return response;
  };

  const sendOptions = (request: ModelRequest) =>
    request.signal ? { abortSignal: request.signal } : {};

  return {
    name: BEDROCK_PROVIDER,
    model,
    generate(request: ModelRequest): Promise<ModelResponse> {
      return call(request, async () => {
        const output = await client.send(
          new ConverseCommand(converseInput(model, request, defaultMaxTokens)),
          sendOptions(request),
        );
        const content: ContentBlock[] = output.output?.message?.content ?? [];
        return {
          text: content.map((block) => block.text ?? '').join(''),
          toolCalls: content.flatMap((block) => (block.toolUse ? [toToolCall(block.toolUse)] : [])),
          stopReason: output.stopReason ?? 'unknown',
          usage: toModelUsage(output.usage),
        };
      });
    },
    stream(request: ModelRequest, onText: TextSink): Promise<ModelResponse> {
      return call(request, async () => {
        const output = await client.send(
          new ConverseStreamCommand(converseInput(model, request, defaultMaxTokens)),
          sendOptions(request),
        );
        const answer = await readConverseStream(model, output.stream, onText);
        return { ...answer, usage: toModelUsage(answer.usage) };
      });
    },
  };
}
