import { AiSdkProvider } from './ai-sdk-provider';
import {
  PROVIDER_CATALOG,
  catalogEntry,
  describeSettings,
  settingsFromEnv,
  type ProviderSettings,
} from './catalog';

export interface CreateProvidersOptions {
  /** Where settings are read from (`process.env` in the worker, a literal in tests). */
  env: Record<string, string | undefined>;
  /** Whole-call deadline for each provider. */
  timeoutMs?: number;
  defaultMaxTokens?: number;
}

/** Constructs one catalog provider from explicit settings. Throws for an unknown id. */
export function createCatalogProvider(
  id: string,
  settings: ProviderSettings,
  options: Omit<CreateProvidersOptions, 'env'> = {},
): AiSdkProvider {
  const entry = catalogEntry(id);
  return new AiSdkProvider({
    name: entry.id,
    model: entry.create(settings),
    description: describeSettings(entry, settings),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.defaultMaxTokens !== undefined
      ? { defaultMaxTokens: options.defaultMaxTokens }
      : {}),
  });
}

/**
 * Constructs every catalog provider whose settings are present in `env`, in catalog order.
 * Providers without their key (or, for local servers, their base URL) are skipped.
 */
export function createConfiguredProviders(options: CreateProvidersOptions): AiSdkProvider[] {
  return PROVIDER_CATALOG.flatMap((entry) => {
    const settings = settingsFromEnv(entry, options.env);
    return settings ? [createCatalogProvider(entry.id, settings, options)] : [];
  });
}
