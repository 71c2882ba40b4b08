/**
 * The names of the model providers, one list for the config that validates `MODEL_PROVIDER`
 * and `MODEL_FALLBACKS` and for the AI SDK catalog that constructs them
 * (models/ai-sdk/catalog.ts; a unit test keeps the two in the same order).
 */

/** Provider ids of the AI SDK catalog, in catalog order. */
export const CATALOG_PROVIDER_IDS = [
  'openai',
  'anthropic',
  'google',
  'mistral',
  'cohere',
  'groq',
  'deepseek',
  'xai',
  'togetherai',
  'fireworks',
  'cerebras',
  'perplexity',
  'deepinfra',
  'azure',
  'vertex',
  'huggingface',
  'openrouter',
  'sambanova',
  'nebius',
  'moonshot',
  'novita',
  'hyperbolic',
  'ollama',
  'vllm',
  'lmstudio',
  'llamacpp',
  'openai-compatible',
] as const;

export type CatalogProviderId = (typeof CATALOG_PROVIDER_IDS)[number];

/**
 * What `MODEL_PROVIDER` accepts: `auto` (Bedrock with AWS credentials, else offline),
 * `bedrock`, `offline`, or any catalog id as the primary model.
 */
export const PRIMARY_MODEL_PROVIDERS = [
  'auto',
  'bedrock',
  'offline',
  ...CATALOG_PROVIDER_IDS,
] as const;

export type PrimaryModelProvider = (typeof PRIMARY_MODEL_PROVIDERS)[number];

export function isCatalogProviderId(value: string): value is CatalogProviderId {
  return (CATALOG_PROVIDER_IDS as readonly string[]).includes(value);
}
