import type { RequestAnalysis } from '../../core/session';
import { matchingRules } from '../planning/agent-rules';

const STOP_WORDS = new Set(
  'a an and are as at be by for from in into is it of on or our please the this to with we you your'.split(
    ' ',
  ),
);

/**
 * Extracts what planning needs from a request: the NFKC-normalised text, its dominant
 * script's language, the most frequent content words and the agent intents the rules see.
 */
export function analyzeText(text: string): RequestAnalysis {
  const normalizedText = text.normalize('NFKC').replace(/\s+/g, ' ').trim();
  const words = normalizedText.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? [];
  const counts = new Map<string, number>();
  for (const word of words) {
    if (word.length < 3 || STOP_WORDS.has(word)) continue;
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const keywords = [...counts.entries()]
    .sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0]))
    .slice(0, 10)
    .map(([word]) => word);
  return {
    normalizedText,
    language: dominantLanguage(normalizedText),
    keywords,
    intents: matchingRules(normalizedText).map((rule) => rule.agent),
    wordCount: words.length,
  };
}

/** Language by dominant script: Hangul → ko, Kana → ja, Han → zh, Latin → en, else und. */
function dominantLanguage(text: string): string {
  const count = (pattern: RegExp): number => text.match(pattern)?.length ?? 0;
  const scores: [string, number][] = [
    ['ko', count(/\p{Script=Hangul}/gu)],
    ['ja', count(/[\p{Script=Hiragana}\p{Script=Katakana}]/gu)],
    ['zh', count(/\p{Script=Han}/gu)],
    ['en', count(/\p{Script=Latin}/gu)],
  ];
  const [language, score] = scores.reduce((best, candidate) =>
    candidate[1] > best[1] ? candidate : best,
  );
  // Japanese text mixes Kana with Han: any Kana decides for ja over zh.
  if (language === 'zh' && (scores[1]?.[1] ?? 0) > 0) return 'ja';
  return score > 0 ? language : 'und';
}
