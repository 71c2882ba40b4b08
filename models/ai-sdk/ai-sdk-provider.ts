import { inspect } from 'node:util';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { generateText, streamText, type ModelMessage as SdkMessage } from 'ai';
import { ApplicationFailure } from '@temporalio/common';
import type { ModelProvider, ModelRequest, ModelResponse, TextSink } from '../model-provider';
import { TransientModelError, classifyAiSdkError, contentFilteredFailure } from './errors';

export interface AiSdkProviderOptions {
  /** Catalog id, e.g. `openai`, `groq`, `ollama`; reported as `ModelResponse.provider`. */
  name: string;
  model: LanguageModelV3;
  /** Output token cap when the request sets none. */
  defaultMaxTokens?: number;
  /** Whole-call deadline; an expired call fails as a transient `ModelTimeout`. */
  timeoutMs?: number;
  /** What `describe()` shows; never holds a credential. */
  description?: Record<string, unknown>;
  /** Clock for `latencyMs` (tests inject one so results repeat). */
  now?: () => number;
}

/** A streamed call: `onText` receives each text delta as it arrives. */
export interface ModelStreamRequest extends ModelRequest {
  onText?: (delta: string) => void;
}

function toSdkMessages(request: ModelRequest): SdkMessage[] {
  return request.messages.map((message) => ({ role: message.role, content: message.text }));
}

/**
 * Any provider of the Vercel AI SDK behind the `ModelProvider` interface. The SDK's retries
 * are off (`maxRetries: 0`): Temporal is the one retry owner. Every failure is classified once
 * by `classifyAiSdkError`; an answer cut by a content filter fails as `ModelContentPolicy`;
 * a stream that ends without its final event fails as a transient `ModelUnavailable` and is
 * never returned as a success.
 */
export class AiSdkProvider implements ModelProvider {
  readonly name: string;
  readonly model: string;
  readonly #options: AiSdkProviderOptions;
  readonly #now: () => number;

  constructor(options: AiSdkProviderOptions) {
    this.name = options.name;
    this.model = options.model.modelId;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** What every call sends: the SDK's own retries off (Temporal is the one retry owner). */
  #callSettings(request: ModelRequest, signal: AbortSignal | undefined) {
    return {
      model: this.#options.model,
      ...(request.system ? { system: request.system } : {}),
      messages: toSdkMessages(request),
      maxOutputTokens: request.maxTokens ?? this.#options.defaultMaxTokens ?? 2048,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      maxRetries: 0,
      ...(signal ? { abortSignal: signal } : {}),
    };
  }

  async generate(request: ModelRequest): Promise<ModelResponse> {
    const started = this.#now();
    const { signal, timedOut } = this.#signal(request);
    try {
      const result = await generateText(this.#callSettings(request, signal));
      if (result.finishReason === 'content-filter') {
        throw contentFilteredFailure(this.name, this.model);
      }
      return this.#response(result.text, result.usage, result.finishReason, started);
    } catch (error) {
      throw this.#classify(error, timedOut());
    }
  }

  /**
   * Streams the answer into `onText` (or `request.onText`); resolves only when the provider
   * sent its final event.
   */
  async stream(request: ModelStreamRequest, onText?: TextSink): Promise<ModelResponse> {
    const sink = onText ?? request.onText;
    const started = this.#now();
    const { signal, timedOut } = this.#signal(request);
    try {
      const result = streamText({
        ...this.#callSettings(request, signal),
        // Errors arrive as `error` parts below; the SDK's default handler would also log them.
        onError: () => undefined,
      });
      let text = '';
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') {
          text += part.text;
          sink?.(part.text);
        } else if (part.type === 'error') {
          throw part.error;
        } else if (part.type === 'abort') {
          throw Object.assign(new Error('The stream was aborted'), { name: 'AbortError' });
        } else if (part.type === 'finish') {
          if (part.finishReason === 'content-filter') {
            throw contentFilteredFailure(this.name, this.model);
          }
          // Most providers report a body that ended early as a normal finish with reason
          // `other` and no raw reason from the wire: that is a cut stream, not an answer.
          if (part.rawFinishReason === undefined && part.finishReason === 'other') {
            throw new TransientModelError(
              'unavailable',
              `${this.name}: the stream from ${this.model} ended without its final event`,
              this.name,
              200,
              undefined,
            );
          }
          return this.#response(text, part.totalUsage, part.finishReason, started);
        }
      }
      throw new TransientModelError(
        'unavailable',
        `${this.name}: the stream from ${this.model} ended without a finish event`,
        this.name,
        200,
        undefined,
      );
    } catch (error) {
      throw this.#classify(error, timedOut());
    }
  }

  /** Provider, model and endpoint for logs; credentials are never included. */
  describe(): Record<string, unknown> {
    return { provider: this.name, model: this.model, ...this.#options.description };
  }

  toJSON(): Record<string, unknown> {
    return this.describe();
  }

  [inspect.custom](): string {
    return `AiSdkProvider ${inspect(this.describe())}`;
  }

  #signal(request: ModelRequest): { signal?: AbortSignal; timedOut: () => boolean } {
    const deadline =
      this.#options.timeoutMs !== undefined
        ? AbortSignal.timeout(this.#options.timeoutMs)
        : undefined;
    const signals = [request.signal, deadline].filter((item): item is AbortSignal => !!item);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    return { ...(signal ? { signal } : {}), timedOut: () => deadline?.aborted === true };
  }

  #classify(error: unknown, timedOut: boolean): unknown {
    if (timedOut && !(error instanceof TransientModelError)) {
      return new TransientModelError(
        'timeout',
        `${this.name}: ${this.model} did not answer within ${this.#options.timeoutMs} ms`,
        this.name,
        undefined,
        undefined,
        { cause: error },
      );
    }
    if (error instanceof TransientModelError) return error;
    if (error instanceof ApplicationFailure) return error;
    return classifyAiSdkError(this.name, error);
  }

  #response(
    text: string,
    usage: { inputTokens: number | undefined; outputTokens: number | undefined },
    finishReason: string,
    started: number,
  ): ModelResponse {
    return {
      text,
      provider: this.name,
      model: this.model,
      usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
      stopReason: finishReason,
      latencyMs: Math.round(this.#now() - started),
      offline: false,
    };
  }
}
