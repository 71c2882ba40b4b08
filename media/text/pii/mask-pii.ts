/**
 * PII masking: finds personal data and secrets, resolves overlaps and replaces each finding.
 * Findings carry positions and kinds only, never the values, so they can go into workflow
 * history and logs.
 */
import { DETECTORS, type PiiCandidate } from './detectors';
import { PII_KINDS, defaultLabel, kindRank, type PiiKind } from './pii-kinds';
import { partialMask } from './partial-mask';

export interface MaskPiiOptions {
  /** Kinds to look for. Default: all of `PII_KINDS`. */
  kinds?: readonly PiiKind[];
  /** `label` (default) replaces with `[EMAIL]`-style labels; `partial` keeps a hint. */
  style?: 'label' | 'partial';
  /** Replacement text per kind for the `label` style, e.g. `{ email: '<email>' }`. */
  labels?: Partial<Record<PiiKind, string>>;
  /**
   * Also require the check digit of Korean resident registration numbers. Off by default:
   * numbers issued since October 2020 do not satisfy it.
   */
  verifyRrnChecksum?: boolean;
}

export interface PiiFinding {
  kind: PiiKind;
  /** UTF-16 offsets of the value in the input text. */
  start: number;
  end: number;
  /** UTF-16 offsets of its replacement in the masked text. */
  maskedStart: number;
  maskedEnd: number;
}

export interface MaskPiiResult {
  text: string;
  findings: PiiFinding[];
}

/**
 * Returns the non-overlapping findings in `text`, in order. Where candidates overlap, the
 * longer wins, then the kind listed first in `PII_KINDS`.
 */
export function findPii(
  text: string,
  options: Pick<MaskPiiOptions, 'kinds' | 'verifyRrnChecksum'> = {},
): PiiCandidate[] {
  const kinds = new Set(options.kinds ?? PII_KINDS);
  const detectorOptions = { verifyRrnChecksum: options.verifyRrnChecksum ?? false };
  const candidates: PiiCandidate[] = [];
  for (const detector of DETECTORS) {
    if (!detector.kinds.some((kind) => kinds.has(kind))) continue;
    for (const candidate of detector.find(text, detectorOptions)) {
      if (kinds.has(candidate.kind) && candidate.end > candidate.start) candidates.push(candidate);
    }
  }
  candidates.sort(
    (left, right) =>
      right.end - right.start - (left.end - left.start) ||
      kindRank(left.kind) - kindRank(right.kind) ||
      left.start - right.start,
  );
  const taken = new Uint8Array(text.length);
  const accepted: PiiCandidate[] = [];
  for (const candidate of candidates) {
    let free = true;
    for (let index = candidate.start; index < candidate.end && free; index += 1) {
      if (taken[index] === 1) free = false;
    }
    if (!free) continue;
    taken.fill(1, candidate.start, candidate.end);
    accepted.push(candidate);
  }
  return accepted.sort((left, right) => left.start - right.start);
}

/**
 * Masks every finding of the chosen kinds in `text` and lists them. Text outside findings
 * is copied unchanged. Never throws on any string input.
 */
export function maskPii(text: string, options: MaskPiiOptions = {}): MaskPiiResult {
  const { style = 'label', labels = {} } = options;
  const findings: PiiFinding[] = [];
  let masked = '';
  let copied = 0;
  for (const candidate of findPii(text, options)) {
    masked += text.slice(copied, candidate.start);
    const value = text.slice(candidate.start, candidate.end);
    const replacement =
      style === 'partial'
        ? partialMask(candidate.kind, value)
        : (labels[candidate.kind] ?? defaultLabel(candidate.kind));
    findings.push({
      ...candidate,
      maskedStart: masked.length,
      maskedEnd: masked.length + replacement.length,
    });
    masked += replacement;
    copied = candidate.end;
  }
  masked += text.slice(copied);
  return { text: masked, findings };
}
