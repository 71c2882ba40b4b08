import { createEstimatedTokenCounter } from './estimated-token-counter';
import { loadOpenAiTokenCounter } from './openai-token-counter';
import { resolveTokenizerTarget, type TokenCounter, type TokenizerTarget } from './token-counter';

/**
 * The counter for a model id (see `resolveTokenizerTarget`) or an explicit target. OpenAI
 * families are exact (`exact: true`); anthropic, bedrock-titan and generic are calibrated
 * estimates (`exact: false`). Fails only if the tokenizer package cannot be imported.
 */
export async function loadTokenCounter(model: string | TokenizerTarget): Promise<TokenCounter> {
  const target = typeof model === 'string' ? resolveTokenizerTarget(model) : model;
  if (target.family === 'openai') return loadOpenAiTokenCounter(target.encoding ?? 'o200k_base');
  return createEstimatedTokenCounter(target.family);
}
