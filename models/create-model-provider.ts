import type { ModelConfig } from '../runtime/config';
import { catalogEntry, createCatalogProvider, settingsFromEnv } from './ai-sdk';
import { createBedrockProvider } from './bedrock';
import type { ModelProvider } from './model-provider';
import { createOfflineProvider } from './offline-provider';

export interface ModelSelection {
  provider: ModelProvider;
  /** Why this provider was chosen, for the worker's start-up log. */
  reason: string;
}

/** True when the AWS SDK's default credential chain has something to work with. */
export function hasAwsCredentials(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(
    env.AWS_ACCESS_KEY_ID ||
    env.AWS_PROFILE ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

/** Chooses the model provider: Bedrock when asked or when credentials exist, else offline. */
export function selectModelProvider(config: ModelConfig, env = process.env): ModelSelection {
  const useBedrock =
    config.MODEL_PROVIDER === 'bedrock' ||
    (config.MODEL_PROVIDER === 'auto' && hasAwsCredentials(env));
  if (!useBedrock) {
    return {
      provider: createOfflineProvider({ latencyMs: config.OFFLINE_MODEL_LATENCY_MS }),
      reason:
        config.MODEL_PROVIDER === 'offline'
          ? 'MODEL_PROVIDER=offline'
          : 'no AWS credentials found (set them, or MODEL_PROVIDER=bedrock, to use Bedrock)',
    };
  }
  const region = config.BEDROCK_REGION ?? env.AWS_REGION ?? 'us-east-1';
  return {
    provider: createBedrockProvider({
      region,
      modelId: config.BEDROCK_MODEL_ID,
      ...(config.BEDROCK_ENDPOINT ? { endpoint: config.BEDROCK_ENDPOINT } : {}),
    }),
    reason: `Bedrock ${config.BEDROCK_MODEL_ID} in ${region}${config.BEDROCK_ENDPOINT ? ` via ${config.BEDROCK_ENDPOINT}` : ''}`,
  };
}

/**
 * The fallback models of MODEL_FALLBACKS, in order. Fails at start-up (not mid-session) for an
 * unknown provider id or one whose settings (API key, base URL) are missing from the env.
 */
export function selectFallbackProviders(
  config: ModelConfig,
  env: Record<string, string | undefined> = process.env,
): ModelProvider[] {
  return config.MODEL_FALLBACKS.map((id) => {
    const entry = catalogEntry(id);
    const settings = settingsFromEnv(entry, env);
    if (!settings) {
      throw new Error(
        `MODEL_FALLBACKS names "${id}" but it is not configured (set ${entry.env.apiKey ?? entry.env.enabledBy ?? 'its settings'})`,
      );
    }
    return createCatalogProvider(id, settings);
  });
}
