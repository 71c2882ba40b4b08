export {
  AiSdkProvider,
  type AiSdkProviderOptions,
  type ModelStreamRequest,
} from './ai-sdk-provider';
export {
  PROVIDER_CATALOG,
  catalogEntry,
  describeSettings,
  requiredSettings,
  settingsFromEnv,
  type CatalogEntry,
  type ProviderSettings,
  type WireProtocol,
} from './catalog';
export {
  createCatalogProvider,
  createConfiguredProviders,
  type CreateProvidersOptions,
} from './create-providers';
export {
  AI_SDK_ERROR_TYPES,
  TRANSIENT_ERROR_NAMES,
  TransientModelError,
  classOf,
  classifyAiSdkError,
  retryAfterMs,
  type ModelErrorClass,
} from './errors';
