/**
 * Pattern detectors: each finds candidate spans of one or more kinds and keeps only those
 * that pass the kind's check (Luhn, mod-97, a real date, `net.isIPv6`, entropy). Every
 * pattern starts behind a look-behind that refuses to begin inside a run of the same
 * characters, so a long run without a match is scanned once, not once per position.
 */
import { isIPv6 } from 'node:net';
import { isValidIban, isValidKoreanRrn, looksLikeSecret, passesLuhn } from './checksums';
import { IBAN_LENGTHS } from './iban-lengths';
import type { PiiKind } from './pii-kinds';

export interface PiiCandidate {
  kind: PiiKind;
  start: number;
  end: number;
}

export interface DetectorOptions {
  verifyRrnChecksum: boolean;
}

export interface Detector {
  kinds: readonly PiiKind[];
  find(text: string, options: DetectorOptions): PiiCandidate[];
}

function regexDetector(
  kind: PiiKind,
  pattern: RegExp,
  accept: (match: RegExpMatchArray) => boolean = () => true,
): Detector {
  return {
    kinds: [kind],
    find(text) {
      const found: PiiCandidate[] = [];
      for (const match of text.matchAll(pattern)) {
        if (accept(match)) {
          found.push({ kind, start: match.index, end: match.index + match[0].length });
        }
      }
      return found;
    },
  };
}

const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;

// Korean mobile (010, 011, 016-019), Seoul 02, regional 031-064, internet 070, safe numbers 050x.
const KOREAN_PHONE =
  /(?<![A-Za-z0-9+-])(?:01[016789]|02|0(?:3[1-3]|4[1-4]|5[1-5]|6[1-4])|070|050[2-8])[-. ]?\d{3,4}[-. ]?\d{4}(?!\d)/g;
// E.164-ish: + country code, then up to six groups; 8 to 15 digits in all.
const INTERNATIONAL_PHONE = /(?<![A-Za-z0-9+])\+[1-9]\d{0,2}(?:[-. ]?\(?\d{1,4}\)?){1,6}(?!\d)/g;
// North American numbers written with separators: (415) 555-2671, 415-555-2671.
const NORTH_AMERICAN_PHONE =
  /(?<![A-Za-z0-9+-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[-.])[2-9]\d{2}[-.]\d{4}(?![\d-])/g;

const phoneDetector: Detector = {
  kinds: ['phone'],
  find(text) {
    const found: PiiCandidate[] = [];
    for (const pattern of [KOREAN_PHONE, INTERNATIONAL_PHONE, NORTH_AMERICAN_PHONE]) {
      for (const match of text.matchAll(pattern)) {
        const digits = match[0].replace(/\D/g, '').length;
        if (pattern === INTERNATIONAL_PHONE && (digits < 8 || digits > 15)) continue;
        found.push({ kind: 'phone', start: match.index, end: match.index + match[0].length });
      }
    }
    return found;
  },
};

const DIGIT_GROUPS = /(?<![A-Za-z0-9-])\d+(?:[ -]\d+)*(?![A-Za-z0-9])/g;
const IBAN_PREFIX_BEFORE = /[A-Za-z]{2}\d{2} $/;

/** Contiguous digits, or the groupings cards are printed in: 4-4-4-1..4(-1..3), 4-6-4/5. */
function isCardGrouping(sizes: readonly number[]): boolean {
  if (sizes.length === 1) return true;
  const [first, second, third] = sizes;
  if (sizes.length === 3 && first === 4 && second === 6) return third === 4 || third === 5;
  if (sizes.length < 4 || sizes.length > 5 || sizes.slice(0, 3).some((size) => size !== 4)) {
    return false;
  }
  return sizes.length === 4 ? (sizes[3] ?? 0) <= 4 : sizes[3] === 4;
}

/**
 * Card numbers: 13–19 digits that pass Luhn, contiguous or in the usual print groups
 * (separated by single spaces or hyphens). Inside a longer run of groups every window of
 * whole groups is tried, so a card next to a year is still found; the longest valid window
 * wins. A run right after an IBAN's first group (`DE89 3704 ...`) is left to the IBAN check.
 */
const cardDetector: Detector = {
  kinds: ['card'],
  find(text) {
    const found: PiiCandidate[] = [];
    for (const match of text.matchAll(DIGIT_GROUPS)) {
      if (IBAN_PREFIX_BEFORE.test(text.slice(Math.max(0, match.index - 5), match.index))) continue;
      const groups: Array<{ start: number; end: number; digits: string }> = [];
      for (const group of match[0].matchAll(/\d+/g)) {
        groups.push({
          start: match.index + group.index,
          end: match.index + group.index + group[0].length,
          digits: group[0],
        });
      }
      let first = 0;
      while (first < groups.length) {
        let best: number | undefined;
        let digits = '';
        const sizes: number[] = [];
        for (let last = first; last < groups.length && digits.length < 19; last += 1) {
          digits += groups[last]!.digits;
          sizes.push(groups[last]!.digits.length);
          if (
            digits.length >= 13 &&
            digits.length <= 19 &&
            isCardGrouping(sizes) &&
            passesLuhn(digits)
          ) {
            best = last;
          }
        }
        if (best === undefined) {
          first += 1;
          continue;
        }
        found.push({ kind: 'card', start: groups[first]!.start, end: groups[best]!.end });
        first = best + 1;
      }
    }
    return found;
  },
};

const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,32}/g;

/**
 * IBANs, compact or in groups of four. The candidate is cut at its country's registry
 * length; the cut must fall at a space or the end of the run (not inside a word) and the
 * result must pass mod-97.
 */
const ibanDetector: Detector = {
  kinds: ['iban'],
  find(text) {
    const found: PiiCandidate[] = [];
    const pattern = new RegExp(IBAN_CANDIDATE.source, 'g');
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const end = ibanEnd(text, match.index, match[0]);
      if (end === undefined) {
        // The greedy candidate may have swallowed the start of the next IBAN: look again.
        pattern.lastIndex = match.index + 1;
        continue;
      }
      found.push({ kind: 'iban', start: match.index, end });
      pattern.lastIndex = end;
    }
    return found;
  },
};

/** Where the IBAN starting at `start` ends, or undefined when `candidate` holds none. */
function ibanEnd(text: string, start: number, candidate: string): number | undefined {
  const expected = IBAN_LENGTHS[candidate.slice(0, 2).toUpperCase()];
  if (expected === undefined) return undefined;
  let kept = 0;
  let cut = 0;
  while (cut < candidate.length && kept < expected) {
    if (candidate[cut] !== ' ') kept += 1;
    cut += 1;
  }
  if (kept < expected) return undefined;
  const after = text[start + cut];
  if (after !== undefined && /[A-Za-z0-9]/.test(after)) return undefined;
  return isValidIban(candidate.slice(0, cut).replace(/ /g, '').toUpperCase())
    ? start + cut
    : undefined;
}

const KOREAN_RRN = /(?<![A-Za-z0-9-])(\d{6})-?([1-8]\d{6})(?![\d-])/g;

const rrnDetector: Detector = {
  kinds: ['kr-rrn'],
  find(text, options) {
    const found: PiiCandidate[] = [];
    for (const match of text.matchAll(KOREAN_RRN)) {
      if (isValidKoreanRrn(`${match[1]}${match[2]}`, options.verifyRrnChecksum)) {
        found.push({ kind: 'kr-rrn', start: match.index, end: match.index + match[0].length });
      }
    }
    return found;
  },
};

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?!\\w|\\.\\d)`, 'g');
const IPV6_CANDIDATE = /(?<![\w:])(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:.]+(?:%[\w.~-]+)?/g;

/**
 * IPv6 addresses as `net.isIPv6` accepts them (compressed, IPv4-mapped, with a zone). At
 * least four hex digits are required, so `::1` and C++-style `a::b` are left alone.
 */
const ipv6Detector: Detector = {
  kinds: ['ipv6'],
  find(text) {
    const found: PiiCandidate[] = [];
    for (const match of text.matchAll(IPV6_CANDIDATE)) {
      let candidate = match[0].replace(/\.+$/, '');
      if (!isIPv6(candidate) && /[^:]:$/.test(candidate)) candidate = candidate.slice(0, -1);
      if (!isIPv6(candidate)) continue;
      const address = candidate.replace(/%.*$/, '');
      if ((address.match(/[0-9A-Fa-f]/g) ?? []).length < 4) continue;
      found.push({ kind: 'ipv6', start: match.index, end: match.index + candidate.length });
    }
    return found;
  },
};

const AWS_ACCESS_KEY =
  /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;
const GITHUB_TOKEN =
  /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g;
// OpenAI/Anthropic `sk-...`, Stripe `sk_live_...`, Google `AIza...`, Slack `xox?-...`.
const API_KEY =
  /(?<![A-Za-z0-9_-])(?:sk-[A-Za-z0-9_-]{20,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{35}|xox[abposr]-[A-Za-z0-9-]{10,})(?![A-Za-z0-9_-])/g;
const JWT =
  /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_-])/g;
const BEARER = /(?<![A-Za-z0-9])[Bb]earer[ \t]+([A-Za-z0-9._~+/-]{16,}=*)/g;
const ASSIGNED_SECRET =
  /(?<![A-Za-z0-9])(api[_-]?key|apikey|access[_-]?key(?:[_-]?id)?|secret(?:[_-]?access)?(?:[_-]?key)?|client[_-]?secret|(?:auth|access|refresh|session|api)?[_-]?token|password|passwd|pwd|private[_-]?key|key)["']?[ \t]*[:=][ \t]*["']?([^\s"'`,;<>(){}[\]]{4,512})/gi;

/** Only the token after `Bearer` is masked; the scheme stays readable. */
const bearerDetector: Detector = {
  kinds: ['bearer-token'],
  find(text) {
    const found: PiiCandidate[] = [];
    for (const match of text.matchAll(BEARER)) {
      const token = match[1] ?? '';
      const end = match.index + match[0].length;
      found.push({ kind: 'bearer-token', start: end - token.length, end });
    }
    return found;
  },
};

/**
 * Values after `key=`, `token:`, `"api_key": "..."`, `password=` and similar. Password
 * values are always masked (unless already asterisks); other values only when they look
 * random (see `looksLikeSecret`).
 */
const assignedSecretDetector: Detector = {
  kinds: ['secret'],
  find(text) {
    const found: PiiCandidate[] = [];
    for (const match of text.matchAll(ASSIGNED_SECRET)) {
      const name = (match[1] ?? '').toLowerCase();
      const value = (match[2] ?? '').replace(/\.+$/, '');
      const isPassword = /^(?:password|passwd|pwd)$/.test(name);
      if (isPassword ? /^\*+$/.test(value) : !looksLikeSecret(value)) continue;
      const start = match.index + match[0].length - (match[2] ?? '').length;
      found.push({ kind: 'secret', start, end: start + value.length });
    }
    return found;
  },
};

export const DETECTORS: readonly Detector[] = [
  rrnDetector,
  cardDetector,
  ibanDetector,
  regexDetector('jwt', JWT),
  regexDetector('aws-access-key', AWS_ACCESS_KEY),
  regexDetector('github-token', GITHUB_TOKEN),
  regexDetector('api-key', API_KEY),
  bearerDetector,
  assignedSecretDetector,
  regexDetector('email', EMAIL),
  ipv6Detector,
  regexDetector('ipv4', IPV4),
  phoneDetector,
];
