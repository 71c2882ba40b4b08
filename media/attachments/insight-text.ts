/**
 * Text as it may enter an insight: normalised, PII-masked and cut to
 * `MAX_INSIGHT_TEXT_CHARS`, with the language and counts the summary needs.
 */
import { MAX_INSIGHT_TEXT_CHARS } from '../../core/media/attachments';
import { processText } from '../text';

export interface InsightText {
  /** Masked text, at most `MAX_INSIGHT_TEXT_CHARS` UTF-16 units. */
  text: string;
  truncated: boolean;
  /** `ko`, `en`, … or undefined when the language is not clear. */
  language?: string;
  piiMasked: number;
  /** Characters before cutting (after masking). */
  characters: number;
  tokenCount: number;
}

/** Cuts without splitting a surrogate pair. */
function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const end = /[\uD800-\uDBFF]/.test(text.charAt(limit - 1)) ? limit - 1 : limit;
  return text.slice(0, end);
}

/** Masks and cuts `raw`. Never throws for any string (rejects only if the tokenizer cannot load). */
export async function toInsightText(raw: string): Promise<InsightText> {
  const processed = await processText(raw);
  const text = cut(processed.text, MAX_INSIGHT_TEXT_CHARS);
  return {
    text,
    truncated: text.length < processed.text.length,
    ...(processed.language.language === 'unknown' ? {} : { language: processed.language.language }),
    piiMasked: processed.findings.length,
    characters: processed.text.length,
    tokenCount: processed.tokenCount,
  };
}

/** The text fields of an insight (`text`, `truncated`, `language`), leaving out empty ones. */
export function insightTextFields(text: InsightText): {
  text?: string;
  truncated?: true;
  language?: string;
} {
  return {
    ...(text.text === '' ? {} : { text: text.text }),
    ...(text.truncated ? { truncated: true as const } : {}),
    ...(text.language === undefined ? {} : { language: text.language }),
  };
}
