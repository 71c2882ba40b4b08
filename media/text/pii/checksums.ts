/**
 * The checks that turn a pattern match into a finding: Luhn for cards, ISO 7064 mod-97 for
 * IBANs, date and gender digit (and optionally the checksum) for Korean resident
 * registration numbers, Shannon entropy for generic secrets. Pure functions on strings.
 */
import { IBAN_LENGTHS } from './iban-lengths';

/** True when `digits` (only 0-9) passes the Luhn check. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let value = digits.charCodeAt(index) - 48;
    if (value < 0 || value > 9) return false;
    if (double) {
      value *= 2;
      if (value > 9) value -= 9;
    }
    sum += value;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * True when `iban` (upper-case letters and digits, no spaces) has its country's registry
 * length and its check digits satisfy mod-97 = 1.
 */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const character of rearranged) {
    const code = character.charCodeAt(0);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = (value >= 10 ? remainder * 100 + value : remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

const RRN_CHECK_WEIGHTS = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];

/**
 * Checks a Korean resident (or foreigner) registration number given as 13 digits:
 * `YYMMDD` must be a real date in the century the gender digit names (1–4 citizens,
 * 5–8 foreigners; 1, 2, 5, 6 → 1900s, 3, 4, 7, 8 → 2000s; 9 and 0, the 1800s, are refused).
 * The check digit is verified only when `verifyChecksum` is set: numbers issued since
 * October 2020 have random trailing digits and fail it, so it is off by default.
 */
export function isValidKoreanRrn(digits: string, verifyChecksum = false): boolean {
  if (!/^\d{13}$/.test(digits)) return false;
  const gender = Number(digits[6]);
  if (gender < 1 || gender > 8) return false;
  const century = [1, 2, 5, 6].includes(gender) ? 1900 : 2000;
  const year = century + Number(digits.slice(0, 2));
  const month = Number(digits.slice(2, 4));
  const day = Number(digits.slice(4, 6));
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return false;
  if (!verifyChecksum) return true;
  const sum = RRN_CHECK_WEIGHTS.reduce(
    (total, weight, index) => total + weight * Number(digits[index]),
    0,
  );
  return (11 - (sum % 11)) % 10 === Number(digits[12]);
}

/** Shannon entropy of `value` in bits per character (0 for the empty string). */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const character of value) counts.set(character, (counts.get(character) ?? 0) + 1);
  const length = [...value].length;
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

/**
 * The rule for a value written after `key=`, `token:` and the like: at least 16 characters,
 * ≥ 3 bits of entropy per character and a mix of character classes (letters with digits,
 * or upper with lower case), so that `token: placeholder-value` is not taken for a secret.
 */
export function looksLikeSecret(value: string): boolean {
  if (value.length < 16) return false;
  const hasDigit = /\d/.test(value);
  const hasLetter = /[A-Za-z]/.test(value);
  const mixedCase = /[a-z]/.test(value) && /[A-Z]/.test(value);
  if (!((hasDigit && hasLetter) || mixedCase)) return false;
  return shannonEntropy(value) >= 3;
}
