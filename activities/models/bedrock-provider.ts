/** Amazon Bedrock (Converse / ConverseStream); the implementation lives in `./bedrock/`. */
export {
  STREAM_INCOMPLETE,
  ModelStreamIncompleteError,
  classifyBedrockError,
  createBedrockProvider,
  inferenceProfileIds,
  type BedrockProviderOptions,
} from './bedrock';
