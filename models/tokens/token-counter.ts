/**
 * Token counting per model family. A `TokenCounter` says whether its numbers are the model's
 * own (`exact: true`, OpenAI encodings through gpt-tokenizer) or a calibrated estimate
 * (`exact: false`, every other family). Chunking trusts whichever counter it is given.
 */

export type ModelFamily = 'openai' | 'anthropic' | 'bedrock-titan' | 'generic';

export type OpenAiEncoding = 'o200k_base' | 'cl100k_base';

export interface TokenCounter {
  readonly family: ModelFamily;
  /** The BPE encoding (`o200k_base`, `cl100k_base`) or `estimate`. */
  readonly encoding: OpenAiEncoding | 'estimate';
  /** True when `count` is the tokenizer's real count; false for an estimate. */
  readonly exact: boolean;
  /** Tokens in `text`, a non-negative integer (0 for the empty string). Never throws. */
  count(text: string): number;
  /**
   * `count(text)` when that is at most `limit`; otherwise some number above `limit`, found
   * without counting the rest of the text (the exact counters stop there).
   */
  countWithin?(text: string, limit: number): number;
}

export interface TokenizerTarget {
  family: ModelFamily;
  /** OpenAI only; chosen from the model id when omitted (o200k_base by default). */
  encoding?: OpenAiEncoding;
}

const BEDROCK_ROUTING_PREFIX = /^(?:us|eu|apac|global|jp|au|ca|us-gov)\./;

/**
 * Maps a model id (OpenAI name, Bedrock model id or inference profile such as
 * `us.anthropic.claude-sonnet-4-20250514-v1:0`) to its tokenizer. Unknown ids get the
 * generic estimate rather than an error.
 */
export function resolveTokenizerTarget(model: string): TokenizerTarget {
  const id = model.trim().toLowerCase().replace(BEDROCK_ROUTING_PREFIX, '');
  if (/(?:^|\.)anthropic\.|^claude/.test(id)) return { family: 'anthropic' };
  if (/^amazon\.titan|^titan/.test(id)) return { family: 'bedrock-titan' };
  const openAiId = id.replace(/^openai\./, '');
  if (/^(?:gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4|chatgpt-4o)/.test(openAiId)) {
    return { family: 'openai', encoding: 'o200k_base' };
  }
  if (/^(?:gpt-4|gpt-3\.5|text-embedding-(?:3|ada))/.test(openAiId)) {
    return { family: 'openai', encoding: 'cl100k_base' };
  }
  return { family: 'generic' };
}
