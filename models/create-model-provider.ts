import { isCatalogProviderId } from '../core/models/model-providers';
import { ConfigError, type ModelConfig } from '../runtime/config';
import {
  catalogEntry,
  createCatalogProvider,
  describeSettings,
  requiredSettings,
  settingsFromEnv,
  type AiSdkProvider,
  type CatalogEntry,
  type ProviderSettings,
} from './ai-sdk';
import { createBedrockProvider } from './bedrock';
import type { ModelProvider } from './model-provider';
import { createOfflineProvider } from './offline-provider';

type Env = Record<string, string | undefined>;

export interface ModelSelection {
  provider: ModelProvider;
  /** Why this provider was chosen, for the worker's start-up log. */
  reason: string;
}

/** True when the AWS SDK's default credential chain has something to work with. */
export function hasAwsCredentials(env: Env = process.env): boolean {
  return Boolean(
    env.AWS_ACCESS_KEY_ID ||
    env.AWS_PROFILE ||
    env.AWS_WEB_IDENTITY_TOKEN_FILE ||
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ||
    env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
  );
}

/**
 * Chooses the primary model: the AI SDK catalog provider `MODEL_PROVIDER` names (configured
 * by its own variables), Bedrock when asked or (`auto`) when AWS credentials exist, else the
 * offline provider. Throws a ConfigError at start-up when the named catalog provider is not
 * configured (its key, or for a local server its base URL, is missing) or its base URL is
 * not an http(s) URL.
 */
export function selectModelProvider(config: ModelConfig, env: Env = process.env): ModelSelection {
  const choice = config.MODEL_PROVIDER;
  if (isCatalogProviderId(choice)) {
    const { entry, settings, provider } = catalogProviderFromEnv(
      choice,
      env,
      `MODEL_PROVIDER=${choice}`,
    );
    const { baseURL } = describeSettings(entry, settings);
    return {
      provider,
      reason: `${entry.label} ${provider.model}${typeof baseURL === 'string' ? ` via ${baseURL}` : ''} (MODEL_PROVIDER=${choice})`,
    };
  }
  const useBedrock = choice === 'bedrock' || (choice === 'auto' && hasAwsCredentials(env));
  if (!useBedrock) {
    return {
      provider: createOfflineProvider({ latencyMs: config.OFFLINE_MODEL_LATENCY_MS }),
      reason:
        choice === 'offline'
          ? 'MODEL_PROVIDER=offline'
          : 'no AWS credentials found (set them, or MODEL_PROVIDER=bedrock, to use Bedrock, or MODEL_PROVIDER=<catalog id> for another provider)',
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
 * unknown provider id, one whose settings (API key, base URL) are missing from the env, or the
 * primary's own provider named again.
 */
export function selectFallbackProviders(
  config: ModelConfig,
  env: Env = process.env,
): ModelProvider[] {
  return config.MODEL_FALLBACKS.map((id) => {
    if (id === config.MODEL_PROVIDER) {
      throw new ConfigError(
        `MODEL_FALLBACKS names "${id}", which is already the primary (MODEL_PROVIDER=${id})`,
      );
    }
    return catalogProviderFromEnv(id, env, `MODEL_FALLBACKS names "${id}"`).provider;
  });
}

/** The catalog provider `id` with its settings from `env`; `subject` starts the error message. */
function catalogProviderFromEnv(
  id: string,
  env: Env,
  subject: string,
): { entry: CatalogEntry; settings: ProviderSettings; provider: AiSdkProvider } {
  const entry = catalogEntry(id);
  const settings = settingsFromEnv(entry, env);
  if (!settings) {
    throw new ConfigError(`${subject} but it is not configured (set ${requiredSettings(entry)})`);
  }
  if (settings.baseURL !== undefined && !isHttpUrl(settings.baseURL)) {
    throw new ConfigError(
      `${subject} but ${entry.env.baseURL} is not an http(s) URL (${JSON.stringify(settings.baseURL)})`,
    );
  }
  return { entry, settings, provider: createCatalogProvider(id, settings) };
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
