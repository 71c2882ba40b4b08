/**
 * The text pipeline an activity calls: normalise → mask PII → detect language → count
 * tokens → chunk. Pure apart from loading the tokenizer once; no Temporal, no I/O.
 *
 * Offsets: `findings` point into the normalised text before masking (their values are not
 * returned); `chunks` point into the returned `text` (normalised and masked).
 */
import { chunkText, type TextChunk } from './chunking/chunk-text';
import { detectLanguage, type LanguageDetection } from './detect-language';
import { normalizeText, type NormalizeTextOptions } from './normalize-text';
import { maskPii, type MaskPiiOptions, type PiiFinding } from './pii/mask-pii';
import { loadTokenCounter } from '../../models/tokens/load-token-counter';
import type {
  ModelFamily,
  OpenAiEncoding,
  TokenizerTarget,
} from '../../models/tokens/token-counter';

export interface ProcessTextOptions {
  /** Normalisation options, or `false` to take the text as it is. Default NFC. */
  normalize?: NormalizeTextOptions | false;
  /** Masking options, or `false` to keep PII. Default: every kind, `[LABEL]` style. */
  pii?: MaskPiiOptions | false;
  /** Model id or tokenizer target for counting and chunking. Default `generic` estimate. */
  model?: string | TokenizerTarget;
  /** Chunking budget, or `false` for no chunks. Default: no chunks. */
  chunking?: { maxTokens: number; overlapTokens?: number } | false;
}

export interface ProcessedText {
  /** The normalised, masked text. */
  text: string;
  language: LanguageDetection;
  findings: PiiFinding[];
  tokenCount: number;
  tokenizer: { family: ModelFamily; encoding: OpenAiEncoding | 'estimate'; exact: boolean };
  chunks: TextChunk[];
}

const LOCALES = { ko: 'ko', ja: 'ja', zh: 'zh', en: 'en' } as const;

/**
 * Runs the pipeline on `input`. Throws `RangeError` for an invalid chunking budget (a
 * business error: retrying cannot help) and rejects only if the tokenizer cannot load.
 */
export async function processText(
  input: string,
  options: ProcessTextOptions = {},
): Promise<ProcessedText> {
  const normalized = options.normalize === false ? input : normalizeText(input, options.normalize);
  const language = detectLanguage(normalized);
  const { text, findings } =
    options.pii === false ? { text: normalized, findings: [] } : maskPii(normalized, options.pii);
  const counter = await loadTokenCounter(options.model ?? { family: 'generic' });
  const chunks =
    options.chunking === undefined || options.chunking === false
      ? []
      : chunkText(text, {
          ...options.chunking,
          counter,
          locale: language.language === 'unknown' ? undefined : LOCALES[language.language],
        });
  return {
    text,
    language,
    findings,
    tokenCount: counter.count(text),
    tokenizer: { family: counter.family, encoding: counter.encoding, exact: counter.exact },
    chunks,
  };
}
