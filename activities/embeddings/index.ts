export {
  createEmbeddingActivities,
  type EmbedTextsInput,
  type EmbedTextsResult,
  type EmbeddingActivities,
  type EmbeddingActivityDependencies,
} from './create-embedding-activities';
