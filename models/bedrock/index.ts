export { createBedrockProvider, type BedrockProviderOptions } from './bedrock-provider';
export {
  BEDROCK_PROVIDER,
  STREAM_INCOMPLETE,
  ModelStreamIncompleteError,
  classifyBedrockError,
  contentStopFailure,
} from './errors';
export { inferenceProfileIds } from './inference-profiles';
