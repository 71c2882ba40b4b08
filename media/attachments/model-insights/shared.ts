/**
 * What the model insights share: the default time bound, the warning callback, which model
 * counts as usable, and a `generate` that honours the abort signal.
 */
import type { ModelProvider, ModelRequest, ModelResponse } from '../../../models/model-provider';

/** Default bound on the model part of one attachment (caption with its repair, or summary). */
export const DEFAULT_MODEL_INSIGHT_TIMEOUT_MS = 60_000;

/** Receives why a model fact was left out; the activity logs it as a warning. */
export type InsightWarning = (message: string, attributes: Record<string, unknown>) => void;

/** The model, unless there is none or it is the offline provider (it makes no real insights). */
export function usableModel(model: ModelProvider | undefined): ModelProvider | undefined {
  return model && model.name !== 'offline' ? model : undefined;
}

/** `model.generate`, rejecting when `signal` aborts even if the provider ignores its signal. */
export function generate(model: ModelProvider, request: ModelRequest): Promise<ModelResponse> {
  const { signal } = request;
  if (!signal) return model.generate(request);
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<ModelResponse>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    model.generate(request).then(
      (response) => {
        signal.removeEventListener('abort', onAbort);
        resolve(response);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
