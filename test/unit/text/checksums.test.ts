import { isValidIban, isValidKoreanRrn, passesLuhn, shannonEntropy } from '../../../media/text';

describe('checksums', () => {
  test('Luhn accepts issuer test numbers and rejects a changed digit', () => {
    for (const card of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
    ]) {
      expect(passesLuhn(card)).toBe(true);
    }
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(passesLuhn('')).toBe(false);
    expect(passesLuhn('4111-1111')).toBe(false);
  });

  test('IBAN needs the registry length and mod-97 = 1', () => {
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('GB82WEST12345698765432')).toBe(true);
    expect(isValidIban('NO9386011117947')).toBe(true);
    expect(isValidIban('GB82WEST12345698765433')).toBe(false);
    expect(isValidIban('DE8937040044053201300')).toBe(false);
    expect(isValidIban('XX89370400440532013000')).toBe(false);
  });

  test('RRN checks the date for the century of the gender digit, checksum on request', () => {
    expect(isValidKoreanRrn('9001011234567')).toBe(true);
    expect(isValidKoreanRrn('0002293123456')).toBe(true); // 2000-02-29
    expect(isValidKoreanRrn('0002291123456')).toBe(false); // 1900-02-29 did not exist
    expect(isValidKoreanRrn('9913321234567')).toBe(false);
    expect(isValidKoreanRrn('9001019234567')).toBe(false);
    expect(isValidKoreanRrn('9001011234567', true)).toBe(false);
    expect(isValidKoreanRrn('9001011234568', true)).toBe(true);
  });

  test('entropy in bits per character', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2);
  });
});
