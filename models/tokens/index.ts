export {
  resolveTokenizerTarget,
  type ModelFamily,
  type OpenAiEncoding,
  type TokenCounter,
  type TokenizerTarget,
} from './token-counter';
export {
  ESTIMATE_MARGINS,
  ESTIMATE_WEIGHTS,
  createEstimatedTokenCounter,
  weightedCharacterSum,
} from './estimated-token-counter';
export { loadTokenCounter } from './load-token-counter';
export { LONG_RUN_SLICE, countInSlices, loadOpenAiTokenCounter } from './openai-token-counter';
