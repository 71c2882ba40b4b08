export { createAiSdkEmbeddings, type AiSdkEmbeddingsOptions } from './ai-sdk-embeddings';
export {
  COHERE_BATCH_SIZE,
  createBedrockEmbeddings,
  type BedrockEmbeddingsOptions,
} from './bedrock-embeddings';
export {
  EMBEDDING_CATALOG,
  EMBEDDING_PROVIDER_IDS,
  createCatalogEmbeddings,
  type EmbeddingProviderId,
  type EmbeddingSettings,
} from './catalog-embeddings';
export { MAX_EMBEDDING_TEXTS, assertEmbeddingRequest, checkedVectors } from './embedding-request';
export { VECTORS_CONTENT_TYPE, encodeVectors, readVectors } from './vector-codec';
export {
  LEXICAL_EMBEDDING_DIMENSIONS,
  LEXICAL_EMBEDDING_PROVIDER,
  createLexicalEmbeddings,
  lexicalTokens,
  lexicalVector,
} from './lexical-hash-embeddings';
