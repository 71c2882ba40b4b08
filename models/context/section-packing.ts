/**
 * How the cuttable parts of a prompt share the room left for them (models/context): sections in
 * priority order, each packed whole, cut at its end (with CUT_MARKER) or dropped, and every cut
 * recorded. Counts come from the caller (memoised per assembly). Pure.
 */
import type { ContextCut } from '../../core/session';

/**
 * Token counts for one assembly: `part` remembers what it counted (parts are counted again
 * across passes), `once` does not (a text made to be counted once, such as a cut candidate or a
 * whole prompt, would only fill the memory and pay for hashing).
 */
export interface Counting {
  part(text: string): number;
  once(text: string): number;
}

/** A part cut shorter than this is dropped instead: a few words of it help nobody. */
export const MIN_CUT_TOKENS = 24;
/** Appended where a part was cut. */
export const CUT_MARKER = ' […cut to fit the context window]';
/** Text longer than this many characters per token of room is cut before it is counted. */
const MAX_CHARS_PER_TOKEN = 32;

export interface Section {
  /** Text before the section's items; counted only when an item goes in. */
  heading: string;
  items: { part: string; text: string }[];
  /** `fair`: items share the room; `ordered`: first items first, the rest dropped. */
  mode: 'fair' | 'ordered';
}

export type SectionName = 'dependencies' | 'attachments' | 'memories' | 'history';
export const SECTION_ORDER: readonly SectionName[] = [
  'dependencies',
  'attachments',
  'memories',
  'history',
];

export interface Packed {
  /** Section name → rendered section text ('' when empty). */
  texts: Record<SectionName, string>;
  kept: Set<string>;
  cuts: ContextCut[];
}

export function packSections(
  sections: Record<SectionName, Section>,
  room: number,
  count: Counting,
  separator: number,
): Packed {
  const texts = { dependencies: '', attachments: '', memories: '', history: '' };
  const kept = new Set<string>();
  const cuts: ContextCut[] = [];
  let left = room;
  for (const name of SECTION_ORDER) {
    const section = sections[name];
    if (section.items.length === 0) continue;
    const headingTokens = section.heading ? count.part(section.heading) + separator : 0;
    const itemRoom = left - separator - headingTokens;
    const chosen =
      section.mode === 'fair'
        ? packFair(section.items, itemRoom, count, separator)
        : packOrdered(section.items, itemRoom, count, separator);
    cuts.push(...chosen.cuts);
    if (chosen.texts.length === 0) continue;
    for (const part of chosen.parts) kept.add(part);
    // History goes in oldest first, as people read it.
    const body = name === 'history' ? [...chosen.texts].reverse() : chosen.texts;
    texts[name] = [section.heading, ...body].filter(Boolean).join('\n\n');
    left -= separator + headingTokens + chosen.tokens;
  }
  // Lowest priority first, as the module comment promises.
  cuts.sort(
    (a, b) => SECTION_ORDER.indexOf(sectionOf(b.part)) - SECTION_ORDER.indexOf(sectionOf(a.part)),
  );
  return { texts, kept, cuts };
}

function sectionOf(part: string): SectionName {
  if (part.startsWith('dependency')) return 'dependencies';
  if (part.startsWith('memory')) return 'memories';
  if (part.startsWith('history')) return 'history';
  return 'attachments';
}

interface Chosen {
  texts: string[];
  parts: string[];
  tokens: number;
  cuts: ContextCut[];
}

/** First items first; the first that does not fit is cut to the room left, the rest dropped. */
function packOrdered(
  items: Section['items'],
  room: number,
  count: Counting,
  separator: number,
): Chosen {
  const chosen: Chosen = { texts: [], parts: [], tokens: 0, cuts: [] };
  let left = room;
  for (const item of items) {
    const cost = chosen.texts.length > 0 ? separator : 0;
    const fitted = fit(item.text, left - cost, count);
    if (fitted.kept === 0) {
      chosen.cuts.push({ part: item.part, action: 'dropped', tokens: fitted.tokens, kept: 0 });
      left = 0;
      continue;
    }
    if (fitted.kept < fitted.tokens) {
      chosen.cuts.push({
        part: item.part,
        action: 'truncated',
        tokens: fitted.tokens,
        kept: fitted.kept,
      });
      left = 0;
    } else left -= cost + fitted.kept;
    chosen.texts.push(fitted.text);
    chosen.parts.push(item.part);
    chosen.tokens += cost + fitted.kept;
  }
  return chosen;
}

/** Items share the room: smallest first, each takes at most an equal share of what is left. */
function packFair(
  items: Section['items'],
  room: number,
  count: Counting,
  separator: number,
): Chosen {
  const sizes = items.map((item) => count.part(clip(item.text, room)));
  const order = items.map((_, index) => index).sort((a, b) => (sizes[a] ?? 0) - (sizes[b] ?? 0));
  const texts = new Map<number, { text: string; kept: number }>();
  const cuts: ContextCut[] = [];
  let left = room - separator * Math.max(0, items.length - 1);
  order.forEach((index, position) => {
    const item = items[index];
    if (!item) return;
    const share = Math.floor(left / (order.length - position));
    const fitted = fit(item.text, share, count);
    if (fitted.kept === 0) {
      cuts.push({ part: item.part, action: 'dropped', tokens: fitted.tokens, kept: 0 });
      return;
    }
    if (fitted.kept < fitted.tokens) {
      cuts.push({ part: item.part, action: 'truncated', tokens: fitted.tokens, kept: fitted.kept });
    }
    texts.set(index, fitted);
    left -= fitted.kept;
  });
  const kept = items.map((_, index) => index).filter((index) => texts.has(index));
  return {
    texts: kept.map((index) => texts.get(index)?.text ?? ''),
    parts: kept.map((index) => items[index]?.part ?? ''),
    tokens:
      kept.reduce((sum, index) => sum + (texts.get(index)?.kept ?? 0), 0) +
      separator * Math.max(0, kept.length - 1),
    cuts,
  };
}

/**
 * `text` whole when it fits `room` tokens, else its longest found prefix that fits with the
 * cut marker, else nothing (`kept: 0`) when less than MIN_CUT_TOKENS would be left.
 */
function fit(
  text: string,
  room: number,
  count: Counting,
): { text: string; tokens: number; kept: number } {
  const clipped = clip(text, room);
  const tokens = count.part(clipped);
  if (clipped === text && tokens <= room) return { text, tokens, kept: tokens };
  const target = room - count.part(CUT_MARKER);
  if (target < MIN_CUT_TOKENS) return { text: '', tokens, kept: 0 };
  // Proportional search: a few counts, never a scan.
  let length = Math.floor((clipped.length * target) / Math.max(1, tokens));
  for (let pass = 0; pass < 12 && length > 0; pass += 1) {
    const candidate = clipped.slice(0, length) + CUT_MARKER;
    const used = count.once(candidate);
    if (used <= room) return { text: candidate, tokens, kept: used };
    length = Math.floor((length * target) / Math.max(1, used) - 1 - pass * 4);
  }
  return { text: '', tokens, kept: 0 };
}

/** Cuts a huge text before it is counted (more characters than any tokenizer packs in `room`). */
export function clip(text: string, room: number): string {
  const limit = Math.max(4_096, Math.max(0, room) * MAX_CHARS_PER_TOKEN);
  return text.length > limit ? text.slice(0, limit) : text;
}
