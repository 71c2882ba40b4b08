import type { ModelProvider, ModelRequest, ModelResponse, TextSink } from './model-provider';

/** Every answer of the offline provider starts with this marker, so nobody mistakes it for an LLM. */
export const OFFLINE_BANNER = '[offline model, no LLM called]';

export interface OfflineProviderOptions {
  /** Simulated latency per call; 0 answers at once (benchmarks). */
  latencyMs?: number;
}

/**
 * A provider for demos and benchmarks without cloud access. It does not pretend: its answer
 * is a deterministic outline built from the prompt, under a banner saying no model ran.
 */
export function createOfflineProvider(options: OfflineProviderOptions = {}): ModelProvider {
  const latencyMs = options.latencyMs ?? 0;
  const answer = (request: ModelRequest): ModelResponse => {
    const prompt = request.messages.map((message) => message.text).join('\n');
    const task = /^Task: (.*)$/m.exec(prompt)?.[1] ?? prompt.split('\n')[0] ?? '';
    const text =
      `${OFFLINE_BANNER} outline for: ${task}\n` +
      `- inputs considered: ${prompt.length} characters\n` +
      '- configure AWS credentials (or MODEL_PROVIDER=bedrock) for real answers from Bedrock';
    return {
      text,
      provider: 'offline',
      model: 'offline-outline-v1',
      usage: { inputTokens: 0, outputTokens: 0 },
      stopReason: 'end_turn',
      latencyMs,
      offline: true,
    };
  };
  return {
    name: 'offline',
    model: 'offline-outline-v1',
    async generate(request: ModelRequest): Promise<ModelResponse> {
      if (latencyMs > 0) await delay(latencyMs, request.signal);
      return answer(request);
    },
    /** The same answer, line by line over the same latency (the demo's token stream). */
    async stream(request: ModelRequest, onText: TextSink): Promise<ModelResponse> {
      const response = answer(request);
      const lines = response.text.split(/(?<=\n)/);
      for (const line of lines) {
        if (latencyMs > 0) await delay(latencyMs / lines.length, request.signal);
        onText(line);
      }
      return response;
    },
  };
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });
}
