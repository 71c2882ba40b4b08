/**
 * The catalog providers whose AI SDK package offers an embedding model, with the model each
 * uses by default and how each asks for a vector size. Settings are the catalog's (key, base
 * URL, Azure resource, Vertex project and location); `model` names the embedding model.
 */
import { createAzure } from '@ai-sdk/azure';
import { createCohere } from '@ai-sdk/cohere';
import { createDeepInfra } from '@ai-sdk/deepinfra';
import { createFireworks } from '@ai-sdk/fireworks';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createMistral } from '@ai-sdk/mistral';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { EmbeddingModelV3, SharedV3ProviderOptions } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { base, catalogEntry, key, vertexProvider, type ProviderSettings } from '../ai-sdk/catalog';
import type { EmbeddingProvider } from '../model-provider';
import { createAiSdkEmbeddings } from './ai-sdk-embeddings';
import { unsupportedOption } from './embedding-request';

/** Catalog settings for an embedding model; `model` defaults per provider. */
export type EmbeddingSettings = Omit<ProviderSettings, 'model'> & { model?: string };

interface EmbeddingEntry {
  defaultModel: string;
  create(settings: ProviderSettings): EmbeddingModelV3;
  providerOptions?: SharedV3ProviderOptions;
  dimensionsOptions?: (dimensions: number, model: string) => SharedV3ProviderOptions;
}

/** OpenAI's `dimensions` request field, under the provider-options key each package reads. */
const openAiDimensions =
  (optionsKey: string) =>
  (dimensions: number): SharedV3ProviderOptions => ({ [optionsKey]: { dimensions } });

const COHERE_DIMENSIONS = new Set([256, 512, 1024, 1536]);

/** A local OpenAI-compatible server (Ollama, vLLM, ...) at its catalog base URL. */
function local(id: string, defaultModel: string): EmbeddingEntry {
  return {
    defaultModel,
    create: (settings) =>
      createOpenAICompatible({
        name: id,
        baseURL: settings.baseURL ?? catalogEntry(id).defaultBaseURL ?? '',
        ...key(settings),
      }).embeddingModel(settings.model),
    dimensionsOptions: openAiDimensions('openaiCompatible'),
  };
}

/** Catalog ids with an embedding model; other catalog ids have none. */
export const EMBEDDING_CATALOG = {
  openai: {
    defaultModel: 'text-embedding-3-small',
    create: (s) => createOpenAI({ ...key(s), ...base(s) }).embedding(s.model),
    dimensionsOptions: openAiDimensions('openai'),
  },
  azure: {
    // Azure routes by deployment name: `model` is the deployment.
    defaultModel: 'text-embedding-3-small',
    create: (s) =>
      createAzure({
        ...key(s),
        ...base(s),
        ...(s.resource ? { resourceName: s.resource } : {}),
      }).embedding(s.model),
    dimensionsOptions: openAiDimensions('openai'),
  },
  mistral: {
    defaultModel: 'mistral-embed',
    create: (s) => createMistral({ ...key(s), ...base(s) }).embedding(s.model),
  },
  cohere: {
    defaultModel: 'embed-v4.0',
    create: (s) => createCohere({ ...key(s), ...base(s) }).embedding(s.model),
    providerOptions: { cohere: { inputType: 'search_document' } },
    dimensionsOptions: (dimensions, model) => {
      if (!COHERE_DIMENSIONS.has(dimensions)) {
        throw unsupportedOption('cohere', model, `offers 256, 512, 1024 or 1536 dimensions`);
      }
      return { cohere: { outputDimension: dimensions } };
    },
  },
  google: {
    defaultModel: 'gemini-embedding-001',
    create: (s) => createGoogleGenerativeAI({ ...key(s), ...base(s) }).embedding(s.model),
    dimensionsOptions: (dimensions) => ({ google: { outputDimensionality: dimensions } }),
  },
  vertex: {
    defaultModel: 'gemini-embedding-001',
    create: (s) => vertexProvider(s).embeddingModel(s.model),
    dimensionsOptions: (dimensions) => ({ vertex: { outputDimensionality: dimensions } }),
  },
  togetherai: {
    defaultModel: 'BAAI/bge-base-en-v1.5',
    create: (s) => createTogetherAI({ ...key(s), ...base(s) }).embeddingModel(s.model),
  },
  fireworks: {
    defaultModel: 'nomic-ai/nomic-embed-text-v1.5',
    create: (s) => createFireworks({ ...key(s), ...base(s) }).embeddingModel(s.model),
  },
  deepinfra: {
    defaultModel: 'BAAI/bge-base-en-v1.5',
    create: (s) => createDeepInfra({ ...key(s), ...base(s) }).embeddingModel(s.model),
  },
  ollama: local('ollama', 'nomic-embed-text'),
  vllm: local('vllm', 'default'),
  lmstudio: local('lmstudio', 'default'),
  llamacpp: local('llamacpp', 'default'),
  'openai-compatible': local('openai-compatible', 'default'),
} as const satisfies Record<string, EmbeddingEntry>;

/** A catalog id that can embed. */
export type EmbeddingProviderId = keyof typeof EMBEDDING_CATALOG;

/** The catalog ids that can embed, in catalog order. */
export const EMBEDDING_PROVIDER_IDS = Object.keys(EMBEDDING_CATALOG) as EmbeddingProviderId[];

/**
 * Constructs the embedding model of one catalog provider from explicit settings. Throws for
 * an id the catalog does not know or whose AI SDK package offers no embedding model.
 */
export function createCatalogEmbeddings(
  id: EmbeddingProviderId,
  settings: EmbeddingSettings = {},
): EmbeddingProvider {
  const entry = catalogEntry(id);
  const embedding: EmbeddingEntry | undefined = Object.hasOwn(EMBEDDING_CATALOG, id)
    ? EMBEDDING_CATALOG[id]
    : undefined;
  if (!embedding) throw new Error(`Model provider "${entry.id}" offers no embedding model`);
  const model = settings.model ?? embedding.defaultModel;
  const { dimensionsOptions } = embedding;
  return createAiSdkEmbeddings(entry.id, embedding.create({ ...settings, model }), {
    ...(embedding.providerOptions ? { providerOptions: embedding.providerOptions } : {}),
    ...(dimensionsOptions
      ? { dimensionsOptions: (dimensions: number) => dimensionsOptions(dimensions, model) }
      : {}),
  });
}
