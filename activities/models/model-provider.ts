/**
 * The one interface every agent step uses to call a model. Providers translate their SDK's
 * errors once: transient faults are thrown as plain errors (Temporal retries them), requests
 * that can never succeed as non-retryable `ApplicationFailure`s with a type from core/errors.
 */
export interface ModelMessage {
  role: 'user' | 'assistant';
  text: string;
}

export interface ModelRequest {
  system?: string;
  messages: ModelMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Aborts the call (activity cancellation). */
  signal?: AbortSignal;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ModelResponse {
  text: string;
  provider: string;
  model: string;
  usage: ModelUsage;
  stopReason: string;
  latencyMs: number;
  /** True only for the offline provider: no LLM produced this text. */
  offline: boolean;
}

export interface ModelProvider {
  readonly name: string;
  readonly model: string;
  generate(request: ModelRequest): Promise<ModelResponse>;
}
