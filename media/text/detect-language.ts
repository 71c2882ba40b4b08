/**
 * Language detection by script ratio. CJK languages are told apart reliably by script
 * (Hangul → ko, kana → ja, Han without kana → zh); Latin-script text is called `en` only when
 * English function words back it up, otherwise `unknown`. No statistical model is loaded.
 */

export type DetectedLanguage = 'ko' | 'ja' | 'zh' | 'en' | 'unknown';

export type ScriptName = 'hangul' | 'kana' | 'han' | 'latin' | 'other';

export interface LanguageDetection {
  language: DetectedLanguage;
  /**
   * Share of the letters in the winning script group, 0..1 (0 when there are no letters;
   * for Latin text that is not English, the Latin share although `language` is `unknown`).
   */
  confidence: number;
  /** True when a second script holds at least `mixedThreshold` of the letters. */
  mixed: boolean;
  /** Letters per script, as shares of all letters (0..1). */
  scripts: Record<ScriptName, number>;
}

export interface DetectLanguageOptions {
  /** Share of letters a second script needs for `mixed`. Default 0.2. */
  mixedThreshold?: number;
}

const ENGLISH_FUNCTION_WORDS = new Set(
  (
    'a an and are as at be been but by can could do does for from has have he her his how i if ' +
    'in into is it its may me more my no not of on or our she should so than that the their them ' +
    'then there these they this to was we were what when which who will with would you your'
  ).split(' '),
);

function scriptOf(codePoint: number, character: string): ScriptName | undefined {
  if (codePoint < 0x80) {
    return (codePoint | 0x20) >= 0x61 && (codePoint | 0x20) <= 0x7a ? 'latin' : undefined;
  }
  if (
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0x1100 && codePoint <= 0x11ff) ||
    (codePoint >= 0x3130 && codePoint <= 0x318f)
  ) {
    return 'hangul';
  }
  if (
    (codePoint >= 0x3040 && codePoint <= 0x30ff) ||
    (codePoint >= 0x31f0 && codePoint <= 0x31ff) ||
    (codePoint >= 0xff66 && codePoint <= 0xff9f)
  ) {
    return 'kana';
  }
  if (/\p{Script=Han}/u.test(character)) return 'han';
  if (/\p{Script=Latin}/u.test(character)) return 'latin';
  if (/\p{L}/u.test(character)) return 'other';
  return undefined;
}

function looksEnglish(text: string): boolean {
  const words = text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
  if (words.length < 4) return true;
  const functionWords = words.filter((word) => ENGLISH_FUNCTION_WORDS.has(word)).length;
  return functionWords / words.length >= 0.08;
}

/**
 * Detects the dominant language of `text` from the scripts of its letters. Digits,
 * punctuation, symbols and emoji are ignored; text without letters is `unknown`. Japanese
 * is chosen when kana make at least 10% of the Han + kana letters (Japanese prose mixes
 * both; Chinese has no kana), so all-kanji Japanese snippets read as `zh`.
 */
export function detectLanguage(
  text: string,
  options: DetectLanguageOptions = {},
): LanguageDetection {
  const { mixedThreshold = 0.2 } = options;
  const counts: Record<ScriptName, number> = { hangul: 0, kana: 0, han: 0, latin: 0, other: 0 };
  let letters = 0;
  for (const character of text) {
    const script = scriptOf(character.codePointAt(0) ?? 0, character);
    if (script === undefined) continue;
    counts[script] += 1;
    letters += 1;
  }
  const scripts = { hangul: 0, kana: 0, han: 0, latin: 0, other: 0 };
  if (letters === 0) return { language: 'unknown', confidence: 0, mixed: false, scripts };
  for (const name of Object.keys(counts) as ScriptName[]) scripts[name] = counts[name] / letters;

  const hanAndKana = counts.kana + counts.han;
  const japanese = counts.kana > 0 && counts.kana >= hanAndKana * 0.1;
  const groups: Array<[DetectedLanguage, number]> = [
    ['ko', counts.hangul],
    [japanese ? 'ja' : 'zh', hanAndKana],
    ['en', counts.latin],
    ['unknown', counts.other],
  ];
  groups.sort((left, right) => right[1] - left[1]);
  const [first, second] = groups as [[DetectedLanguage, number], [DetectedLanguage, number]];
  let language = first[0];
  if (language === 'en' && !looksEnglish(text)) language = 'unknown';
  return {
    language,
    confidence: first[1] / letters,
    mixed: second[1] / letters >= mixedThreshold,
    scripts,
  };
}
