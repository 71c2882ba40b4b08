/**
 * The one interface every agent step uses to call a model. Providers translate their SDK's
 * errors once: transient faults are thrown as plain errors (Temporal retries them), requests
 * that can never succeed as non-retryable `ApplicationFailure`s with a type from core/errors.
 */
export interface ModelImage {
  format: 'png' | 'jpeg' | 'gif' | 'webp';
  bytes: Uint8Array;
}

export interface ModelMessage {
  role: 'user' | 'assistant';
  text: string;
  /** Images sent with a user message (vision models). */
  images?: ModelImage[];
}

/** A tool the model may call; `inputSchema` is a JSON Schema object. */
export interface ModelTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface ModelToolCall {
  id: string;
  name: string;
  input: unknown;
}

export interface ModelRequest {
  system?: string;
  messages: ModelMessage[];
  maxTokens?: number;
  temperature?: number;
  tools?: ModelTool[];
  /** Aborts the call (activity cancellation). */
  signal?: AbortSignal;
  /**
   * The prompt's tokens for `model` as models/model-call.ts counts them, when the caller
   * counted them already (models/context); the window check then uses this instead of
   * counting the prompt again. Ignored for any other model.
   */
  counted?: { model: string; tokens: number };
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  /** Prompt-cache reads and writes, where the provider reports them. */
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ModelResponse {
  text: string;
  provider: string;
  model: string;
  usage: ModelUsage;
  stopReason: string;
  latencyMs: number;
  /** Tool calls the model asked for, in order. */
  toolCalls?: ModelToolCall[];
  /** True only for the offline provider: no LLM produced this text. */
  offline: boolean;
}

/** Receives streamed text, in order; `text` is never empty. */
export type TextSink = (text: string) => void;

export interface ModelProvider {
  readonly name: string;
  readonly model: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
  /**
   * Streams the answer into `onText` and resolves with the same response `generate` would
   * give. A stream that ends without its final event (stop reason and usage) rejects with a
   * transient error: an incomplete answer is never a success.
   */
  stream?(request: ModelRequest, onText: TextSink): Promise<ModelResponse>;
}

export interface EmbeddingRequest {
  texts: string[];
  /** Output size where the model lets you choose (Titan v2: 256, 512, 1024). */
  dimensions?: number;
  signal?: AbortSignal;
}

export interface EmbeddingResponse {
  /** One vector per text, in order. */
  vectors: number[][];
  provider: string;
  model: string;
  usage: { inputTokens: number };
  latencyMs: number;
}

/** An embedding model behind the provider layer; errors are classified like `ModelProvider`'s. */
export interface EmbeddingProvider {
  readonly name: string;
  readonly model: string;
  embed(request: EmbeddingRequest): Promise<EmbeddingResponse>;
}
