import { createAnthropic } from '@ai-sdk/anthropic';
import { createAzure } from '@ai-sdk/azure';
import { createCerebras } from '@ai-sdk/cerebras';
import { createCohere } from '@ai-sdk/cohere';
import { createDeepInfra } from '@ai-sdk/deepinfra';
import { createDeepSeek } from '@ai-sdk/deepseek';
import { createFireworks } from '@ai-sdk/fireworks';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createVertex } from '@ai-sdk/google-vertex';
import { createGroq } from '@ai-sdk/groq';
import { createHuggingFace } from '@ai-sdk/huggingface';
import { createMistral } from '@ai-sdk/mistral';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { createPerplexity } from '@ai-sdk/perplexity';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createXai } from '@ai-sdk/xai';
import type { CatalogProviderId } from '../../core/models/model-providers';

/** The wire protocol a catalog entry speaks (what a local test server must implement). */
export type WireProtocol =
  | 'openai-chat'
  | 'anthropic-messages'
  | 'google-generative-ai'
  | 'cohere-chat'
  | 'vertex'
  | 'huggingface-responses';

/** Settings read from env/config for one provider; `apiKey` is a credential. */
export interface ProviderSettings {
  apiKey?: string;
  baseURL?: string;
  model: string;
  /** Azure resource name or Vertex project. */
  resource?: string;
  /** Vertex location. */
  location?: string;
}

export interface CatalogEntry {
  id: CatalogProviderId;
  label: string;
  protocol: WireProtocol;
  env: {
    /** Credential variable; the provider is configured when it is set (unless `enabledBy`). */
    apiKey?: string;
    baseURL: string;
    model: string;
    resource?: string;
    location?: string;
    /** For keyless local servers: the variable whose presence turns the entry on. */
    enabledBy?: string;
  };
  defaultModel: string;
  defaultBaseURL?: string;
  create(settings: ProviderSettings): LanguageModelV3;
}

/** Vertex AI for the settings' project (`resource`) and location (default us-central1). */
export const vertexProvider = (s: ProviderSettings) =>
  createVertex({
    ...key(s),
    ...base(s),
    ...(s.resource ? { project: s.resource } : {}),
    location: s.location ?? 'us-central1',
  });

/** The settings' API key / base URL as AI SDK provider options (absent ones left out). */
export const key = (settings: ProviderSettings): { apiKey?: string } =>
  settings.apiKey ? { apiKey: settings.apiKey } : {};
export const base = (settings: ProviderSettings): { baseURL?: string } =>
  settings.baseURL ? { baseURL: settings.baseURL } : {};

/** A hosted provider with its own AI SDK package: `<PREFIX>_BASE_URL`, `<PREFIX>_MODEL`. */
function hosted(
  id: CatalogProviderId,
  label: string,
  protocol: WireProtocol,
  prefix: string,
  apiKey: string,
  defaultModel: string,
  create: (settings: ProviderSettings) => LanguageModelV3,
): CatalogEntry {
  return {
    id,
    label,
    protocol,
    env: { apiKey, baseURL: `${prefix}_BASE_URL`, model: `${prefix}_MODEL` },
    defaultModel,
    create,
  };
}

/**
 * A service that speaks OpenAI chat completions without its own AI SDK package. Hosted ones
 * are on when `<PREFIX>_API_KEY` is set; local servers when `<PREFIX>_BASE_URL` is set (key
 * optional). `<PREFIX>_BASE_URL` overrides the default URL either way.
 */
function openAiCompatibleEntry(
  switchedOnBy: 'API_KEY' | 'BASE_URL',
  id: CatalogProviderId,
  label: string,
  prefix: string,
  defaultBaseURL: string,
  defaultModel: string,
): CatalogEntry {
  return {
    id,
    label,
    protocol: 'openai-chat',
    env: {
      apiKey: `${prefix}_API_KEY`,
      baseURL: `${prefix}_BASE_URL`,
      model: `${prefix}_MODEL`,
      ...(switchedOnBy === 'BASE_URL' ? { enabledBy: `${prefix}_BASE_URL` } : {}),
    },
    defaultModel,
    defaultBaseURL,
    create: (settings) =>
      createOpenAICompatible({
        name: id,
        baseURL: settings.baseURL ?? defaultBaseURL,
        includeUsage: true,
        ...key(settings),
      }).chatModel(settings.model),
  };
}

const hostedCompatible = openAiCompatibleEntry.bind(null, 'API_KEY');
const local = openAiCompatibleEntry.bind(null, 'BASE_URL');

/**
 * Every provider the platform can construct, with the env variables it reads. Chat
 * completions are used where a provider also offers a newer API (OpenAI, Azure, xAI), so
 * all OpenAI-family entries speak the same protocol.
 */
export const PROVIDER_CATALOG: readonly CatalogEntry[] = [
  hosted('openai', 'OpenAI', 'openai-chat', 'OPENAI', 'OPENAI_API_KEY', 'gpt-4o-mini', (s) =>
    createOpenAI({ ...key(s), ...base(s) }).chat(s.model),
  ),
  hosted(
    'anthropic',
    'Anthropic',
    'anthropic-messages',
    'ANTHROPIC',
    'ANTHROPIC_API_KEY',
    'claude-sonnet-4-20250514',
    (s) => createAnthropic({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted(
    'google',
    'Google Gemini',
    'google-generative-ai',
    'GOOGLE_GENERATIVE_AI',
    'GOOGLE_GENERATIVE_AI_API_KEY',
    'gemini-2.5-flash',
    (s) => createGoogleGenerativeAI({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted(
    'mistral',
    'Mistral',
    'openai-chat',
    'MISTRAL',
    'MISTRAL_API_KEY',
    'mistral-small-latest',
    (s) => createMistral({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted('cohere', 'Cohere', 'cohere-chat', 'COHERE', 'COHERE_API_KEY', 'command-a-03-2025', (s) =>
    createCohere({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted('groq', 'Groq', 'openai-chat', 'GROQ', 'GROQ_API_KEY', 'llama-3.3-70b-versatile', (s) =>
    createGroq({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted(
    'deepseek',
    'DeepSeek',
    'openai-chat',
    'DEEPSEEK',
    'DEEPSEEK_API_KEY',
    'deepseek-chat',
    (s) => createDeepSeek({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted('xai', 'xAI', 'openai-chat', 'XAI', 'XAI_API_KEY', 'grok-3-mini', (s) =>
    createXai({ ...key(s), ...base(s) }).chat(s.model),
  ),
  hosted(
    'togetherai',
    'Together AI',
    'openai-chat',
    'TOGETHER_AI',
    'TOGETHER_AI_API_KEY',
    'meta-llama/Llama-3.3-70B-Instruct-Turbo',
    (s) => createTogetherAI({ ...key(s), ...base(s) }).chatModel(s.model),
  ),
  hosted(
    'fireworks',
    'Fireworks',
    'openai-chat',
    'FIREWORKS',
    'FIREWORKS_API_KEY',
    'accounts/fireworks/models/llama-v3p3-70b-instruct',
    (s) => createFireworks({ ...key(s), ...base(s) }).chatModel(s.model),
  ),
  hosted(
    'cerebras',
    'Cerebras',
    'openai-chat',
    'CEREBRAS',
    'CEREBRAS_API_KEY',
    'llama3.3-70b',
    (s) => createCerebras({ ...key(s), ...base(s) }).chat(s.model),
  ),
  hosted(
    'perplexity',
    'Perplexity',
    'openai-chat',
    'PERPLEXITY',
    'PERPLEXITY_API_KEY',
    'sonar',
    (s) => createPerplexity({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hosted(
    'deepinfra',
    'DeepInfra',
    'openai-chat',
    'DEEPINFRA',
    'DEEPINFRA_API_KEY',
    'meta-llama/Llama-3.3-70B-Instruct',
    (s) => createDeepInfra({ ...key(s), ...base(s) }).chatModel(s.model),
  ),
  {
    id: 'azure',
    label: 'Azure OpenAI',
    protocol: 'openai-chat',
    env: {
      apiKey: 'AZURE_API_KEY',
      baseURL: 'AZURE_BASE_URL',
      model: 'AZURE_DEPLOYMENT',
      resource: 'AZURE_RESOURCE_NAME',
    },
    defaultModel: 'gpt-4o-mini',
    // Azure routes by deployment name: `model` is the deployment.
    create: (s) =>
      createAzure({
        ...key(s),
        ...base(s),
        ...(s.resource ? { resourceName: s.resource } : {}),
      }).chat(s.model),
  },
  {
    id: 'vertex',
    label: 'Google Vertex AI',
    protocol: 'vertex',
    env: {
      apiKey: 'GOOGLE_VERTEX_API_KEY',
      baseURL: 'GOOGLE_VERTEX_BASE_URL',
      model: 'GOOGLE_VERTEX_MODEL',
      resource: 'GOOGLE_VERTEX_PROJECT',
      location: 'GOOGLE_VERTEX_LOCATION',
      // Service-account auth (GOOGLE_APPLICATION_CREDENTIALS) needs no key: the project turns it on.
      enabledBy: 'GOOGLE_VERTEX_PROJECT',
    },
    defaultModel: 'gemini-2.5-flash',
    create: (s) => vertexProvider(s).languageModel(s.model),
  },
  hosted(
    'huggingface',
    'Hugging Face',
    'huggingface-responses',
    'HUGGINGFACE',
    'HUGGINGFACE_API_KEY',
    'meta-llama/Llama-3.1-8B-Instruct',
    (s) => createHuggingFace({ ...key(s), ...base(s) }).languageModel(s.model),
  ),
  hostedCompatible(
    'openrouter',
    'OpenRouter',
    'OPENROUTER',
    'https://openrouter.ai/api/v1',
    'openai/gpt-4o-mini',
  ),
  hostedCompatible(
    'sambanova',
    'SambaNova',
    'SAMBANOVA',
    'https://api.sambanova.ai/v1',
    'Meta-Llama-3.3-70B-Instruct',
  ),
  hostedCompatible(
    'nebius',
    'Nebius AI Studio',
    'NEBIUS',
    'https://api.studio.nebius.com/v1',
    'meta-llama/Llama-3.3-70B-Instruct',
  ),
  hostedCompatible(
    'moonshot',
    'Moonshot AI',
    'MOONSHOT',
    'https://api.moonshot.ai/v1',
    'moonshot-v1-8k',
  ),
  hostedCompatible(
    'novita',
    'Novita AI',
    'NOVITA',
    'https://api.novita.ai/v3/openai',
    'meta-llama/llama-3.3-70b-instruct',
  ),
  hostedCompatible(
    'hyperbolic',
    'Hyperbolic',
    'HYPERBOLIC',
    'https://api.hyperbolic.xyz/v1',
    'meta-llama/Llama-3.3-70B-Instruct',
  ),
  local('ollama', 'Ollama', 'OLLAMA', 'http://127.0.0.1:11434/v1', 'llama3.2'),
  local('vllm', 'vLLM', 'VLLM', 'http://127.0.0.1:8000/v1', 'default'),
  local('lmstudio', 'LM Studio', 'LMSTUDIO', 'http://127.0.0.1:1234/v1', 'default'),
  local('llamacpp', 'llama.cpp server', 'LLAMACPP', 'http://127.0.0.1:8080/v1', 'default'),
  local('openai-compatible', 'Any OpenAI-compatible endpoint', 'OPENAI_COMPATIBLE', '', 'default'),
];

/** The catalog entry with this id; throws for an unknown id. */
export function catalogEntry(id: string): CatalogEntry {
  const entry = PROVIDER_CATALOG.find((candidate) => candidate.id === id);
  if (!entry) throw new Error(`Unknown model provider "${id}"`);
  return entry;
}

/** Reads one entry's settings from env; undefined when the entry is not configured. */
export function settingsFromEnv(
  entry: CatalogEntry,
  env: Record<string, string | undefined>,
): ProviderSettings | undefined {
  const read = (name: string | undefined): string | undefined =>
    name && env[name]?.trim() ? env[name]?.trim() : undefined;
  const apiKey = read(entry.env.apiKey);
  const switchedOn = entry.env.enabledBy ? read(entry.env.enabledBy) !== undefined : !!apiKey;
  if (!switchedOn && !(entry.id === 'vertex' && apiKey)) return undefined;
  const baseURL = read(entry.env.baseURL) ?? entry.defaultBaseURL;
  const resource = read(entry.env.resource);
  const location = read(entry.env.location);
  if (entry.id === 'azure' && !resource && !baseURL) return undefined;
  return {
    model: read(entry.env.model) ?? entry.defaultModel,
    ...(apiKey ? { apiKey } : {}),
    ...(baseURL ? { baseURL } : {}),
    ...(resource ? { resource } : {}),
    ...(location ? { location } : {}),
  };
}

/**
 * The variables an entry needs before `settingsFromEnv` returns settings, for the start-up
 * error that names them: the API key, or the variable that switches a keyless entry on.
 */
export function requiredSettings(entry: CatalogEntry): string {
  if (entry.id === 'azure') {
    return `${entry.env.apiKey} and ${entry.env.resource} (or ${entry.env.baseURL})`;
  }
  if (entry.id === 'vertex') return `${entry.env.enabledBy} (or ${entry.env.apiKey})`;
  return entry.env.enabledBy ?? entry.env.apiKey ?? 'its settings';
}

/** A loggable view of settings: the key is never shown, nor URL user-info or query strings. */
export function describeSettings(
  entry: CatalogEntry,
  settings: ProviderSettings,
): Record<string, unknown> {
  return {
    protocol: entry.protocol,
    apiKey: settings.apiKey ? '[redacted]' : 'none',
    ...(settings.baseURL ? { baseURL: redactUrl(settings.baseURL) } : {}),
    ...(settings.resource ? { resource: settings.resource } : {}),
    ...(settings.location ? { location: settings.location } : {}),
  };
}

function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '[unparseable URL]';
  }
}
