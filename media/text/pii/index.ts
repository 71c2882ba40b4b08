export {
  findPii,
  maskPii,
  type MaskPiiOptions,
  type MaskPiiResult,
  type PiiFinding,
} from './mask-pii';
export { PII_KINDS, SECRET_KINDS, defaultLabel, type PiiKind } from './pii-kinds';
export { isValidIban, isValidKoreanRrn, passesLuhn, shannonEntropy } from './checksums';
export type { PiiCandidate } from './detectors';
