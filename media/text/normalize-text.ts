/**
 * Unicode and line-ending normalisation: the first step of the text pipeline. Every later
 * offset (PII findings, chunks) refers to the text this returns, not to the raw input.
 */

export interface NormalizeTextOptions {
  /**
   * `NFC` (default) composes without changing meaning. `NFKC` also folds compatibility
   * forms (full-width Latin, ligatures, circled digits, half-width kana), which helps
   * matching but loses formatting distinctions.
   */
  form?: 'NFC' | 'NFKC';
  /** Remove C0/C1 control characters except `\t` and `\n`, plus BOM/U+FEFF. Default true. */
  stripControlCharacters?: boolean;
  /** Turn `\r\n`, `\r`, NEL, U+2028 and U+2029 into `\n`. Default true. */
  normalizeLineEndings?: boolean;
}

const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029]/g;
// C0 except \t (09) and \n (0A), DEL, C1, and U+FEFF (byte-order mark / zero-width no-break space).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uFEFF]/g;
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Returns `text` with lone surrogates replaced by U+FFFD, line endings unified, control
 * characters removed and the chosen normalisation form applied. Tabs, newlines, ZWJ
 * sequences (emoji) and all visible characters are kept. Never throws.
 */
export function normalizeText(text: string, options: NormalizeTextOptions = {}): string {
  const { form = 'NFC', stripControlCharacters = true, normalizeLineEndings = true } = options;
  let result = text.replace(LONE_SURROGATES, '\uFFFD');
  if (normalizeLineEndings) result = result.replace(LINE_BREAKS, '\n');
  if (stripControlCharacters) result = result.replace(CONTROL_CHARACTERS, '');
  return result.normalize(form);
}
