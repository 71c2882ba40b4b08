/**
 * When a short-term note of a session becomes a long-term memory, and what it becomes. Three
 * rules, checked in this order: it states a preference (kind `preference`, or words such as
 * "I prefer", "we use", "always", "never"), it was marked important, or it was used again
 * (recalled at least twice). Pure functions: the stores apply them.
 */
import type { MemoryKind, MemoryScope } from './memory-types';

export type PromotionReason = 'stated-preference' | 'marked-important' | 'used-again';

export interface PromotionRules {
  /** A note at or above this importance is promoted at once. */
  importantAt: number;
  /** A note recalled this many times is promoted. */
  usedAgainAt: number;
}

export const DEFAULT_PROMOTION_RULES: PromotionRules = { importantAt: 0.8, usedAgainAt: 2 };

/** What promotion looks at in a note. */
export interface PromotionCandidate {
  kind: MemoryKind;
  text: string;
  importance: number;
  useCount: number;
  scope: MemoryScope;
}

/**
 * Phrases that state a lasting preference or convention (English and Korean). Kept to clear
 * first-person or team statements so a passing mention ("we used X once") does not count.
 */
const PREFERENCE_PATTERNS: readonly RegExp[] = [
  /\b(i|we)\s+(prefer|like to|always|never|want to always)\b/i,
  /\b(our|my)\s+(services?|team|code|projects?|stack|tests?)\s+(use|uses|are written in|run on)\b/i,
  /\b(we|i)\s+(use|write|deploy)\b.*\b(always|by default|everywhere|for all)\b/i,
  /\b(please\s+)?(always|never)\s+(use|write|add|call|deploy)\b/i,
  /(선호|항상|절대로?\s*\S+\s*(않|말)|우리는\s*\S+\s*(을|를)\s*사용)/,
];

/** True when `text` states a preference or a convention. */
export function statesPreference(text: string): boolean {
  return PREFERENCE_PATTERNS.some((pattern) => pattern.test(text));
}

/** Why `note` should be promoted now, or undefined to keep it short-term. */
export function promotionReason(
  note: PromotionCandidate,
  rules: PromotionRules = DEFAULT_PROMOTION_RULES,
): PromotionReason | undefined {
  if (note.kind === 'preference' || statesPreference(note.text)) return 'stated-preference';
  if (note.importance >= rules.importantAt) return 'marked-important';
  if (note.useCount >= rules.usedAgainAt) return 'used-again';
  return undefined;
}

/**
 * What a promoted note becomes: a stated preference is the user's (scope `user`, kind
 * `preference`) so later sessions of that user recall it; anything else keeps its scope and kind.
 */
export function promotedShape(
  note: PromotionCandidate,
  reason: PromotionReason,
): { kind: MemoryKind; scope: MemoryScope } {
  if (reason === 'stated-preference' && note.scope === 'session') {
    return { kind: 'preference', scope: 'user' };
  }
  return { kind: note.kind, scope: note.scope };
}
