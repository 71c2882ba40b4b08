import { normalizeText } from '../../../media/text';

describe('normalizeText', () => {
  test('composes to NFC by default and folds compatibility forms with NFKC', () => {
    const decomposed = '\u1112\u1161\u11AB\u1100\u1173\u11AF e\u0301'; // 한글 é as jamo + combining
    expect(normalizeText(decomposed)).toBe('한글 é');
    expect(normalizeText('Ｆｉｌｅ ｶﾀｶﾅ ①')).toBe('Ｆｉｌｅ ｶﾀｶﾅ ①');
    expect(normalizeText('Ｆｉｌｅ ｶﾀｶﾅ ①', { form: 'NFKC' })).toBe('File カタカナ 1');
  });

  test('unifies line endings and strips control characters but keeps tabs and newlines', () => {
    const input = '\uFEFFa\r\nb\rc\u2028d\u0085e\tf\u0000g\u0007h\u001Bi\u009Fj';
    expect(normalizeText(input)).toBe('a\nb\nc\nd\ne\tfghij');
    expect(
      normalizeText('a\r\nb\u0007', { normalizeLineEndings: false, stripControlCharacters: false }),
    ).toBe('a\r\nb\u0007');
  });

  test('keeps emoji ZWJ sequences and replaces lone surrogates', () => {
    const family = '👨\u200D👩\u200D👧';
    expect(normalizeText(`${family} ok`)).toBe(`${family} ok`);
    expect(normalizeText('a\uD800b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
  });

  test('handles empty and whitespace-only input', () => {
    expect(normalizeText('')).toBe('');
    expect(normalizeText(' \r\n\t ')).toBe(' \n\t ');
  });
});
