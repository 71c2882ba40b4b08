/**
 * Context assembly for one model call (issue 15, item 5): the parts of an agent's prompt are
 * packed in priority order with the model's real token counter (models/tokens), so the prompt
 * plus the output kept free never exceeds the model's window.
 *
 * Priority, highest first:
 * 1. never cut — the agent's system prompt, the session header, the request, the step's task;
 * 2. inputs from dependencies — shared fairly (each gets an equal share of what is left, a
 *    short one gives its unused share to the others), cut at the end;
 * 3. the attachments' insights — cut at the end;
 * 4. recalled memories — in the order given (most relevant first), the rest dropped;
 * 5. session history — newest turn first, older turns dropped (or cut) first.
 * A lower-priority part is cut only after every higher one is in whole; every cut is recorded.
 * When the parts that are never cut do not fit on their own, nothing else goes in and the
 * report says `overflow`: the model layer's window check then moves the step to a larger model.
 *
 * Guarantee (unless `overflow`): `report.tokens + reservedOutput <= contextWindow`, where
 * `report.tokens` is what models/model-call.ts counts for the request (system and message
 * framing included), or, with `report.tokensBound`, an upper bound of it. The final prompt is
 * counted whole (or bounded whole), so tokenizer effects at the joins cannot break it.
 *
 * Counting, the cost of an assembly: with an exact BPE tokenizer (OpenAI encodings) every
 * token is at least one UTF-8 byte, so a prompt whose bytes fit the budget fits without being
 * counted (`tokensBound: 'utf8-bytes'`; the model layer counts it once for its window check
 * and the step records that count). Otherwise the prompt that went in is counted whole once
 * and the count is handed to the model layer (`countedTokens`), which then does not count
 * it again. Pure: no I/O, no clock.
 */
import type { ContextReport, TurnMemory, UpstreamOutput } from '../../core/session';
import { createEstimatedTokenCounter, type TokenCounter } from '../tokens';
import {
  SECTION_ORDER,
  clip,
  packSections,
  type Counting,
  type Packed,
  type Section,
  type SectionName,
} from './section-packing';

/** Per-message framing tokens the chat formats add (as models/model-call.ts counts them). */
export const MESSAGE_OVERHEAD_TOKENS = 4;
/** A cheap guide to whether an exact count of the whole prompt could fit. */
const GUIDE = createEstimatedTokenCounter('generic');
/** The most tokens any estimate gives one character (the costliest class, with its margin). */
const MAX_ESTIMATE_PER_CHAR = 4;
/** Left free when parts must be cut: what joining them may add to the sum of their counts. */
const JOIN_SLACK_TOKENS = 8;

export interface ContextSources {
  /** The agent's system prompt (sent as the system message). */
  system: string;
  /** A first line naming session, turn and step (absent for cacheable steps). */
  header?: string;
  request: string;
  instruction: string;
  dependencies: readonly UpstreamOutput[];
  attachments?: string;
  /** Recalled memories, most relevant first (empty until recall exists). */
  memories: readonly string[];
  /** Earlier turns of the session, oldest first. */
  history: readonly TurnMemory[];
}

export interface ContextLimits {
  contextWindow: number;
  /** Output tokens kept free (the request's `maxTokens`). */
  reservedOutput: number;
  counter: TokenCounter;
}

export interface AssembledContext {
  system: string;
  /** The user message. */
  prompt: string;
  report: ContextReport;
  /**
   * The request's prompt tokens as models/model-call.ts counts them (system, message, framing),
   * when the assembly counted the final prompt whole; absent when it only bounded it.
   */
  countedTokens?: number;
}

/** Packs `sources` into a prompt that fits `limits`; see the module comment. */
export function assembleContext(sources: ContextSources, limits: ContextLimits): AssembledContext {
  const count = memoised(limits.counter);
  const system = sources.system;
  const systemTokens = system ? count.once(system) + MESSAGE_OVERHEAD_TOKENS : 0;
  const budget =
    limits.contextWindow - limits.reservedOutput - systemTokens - MESSAGE_OVERHEAD_TOKENS;
  const separator = count.part('\n\n');
  const fixed = [
    sources.header ?? '',
    `Request: ${sources.request}`,
    `Task: ${sources.instruction}`,
  ].filter(Boolean);
  const fixedTokens = fixed.reduce((sum, text) => sum + count.once(text), 0);
  const sections = sectionsOf(sources);
  const initialRoom = budget - fixedTokens - separator * fixed.length;
  const overflow = initialRoom < 0;
  const { packed, prompt, tokens, bound } = overflow
    ? packInto(sections, sources, 0, count, separator)
    : packToBudget(sections, sources, initialRoom, budget, count, separator, limits.counter);
  const summarisedTurns = sources.history
    .filter((turn) => turn.summarised && packed.kept.has(historyPart(turn)))
    .map((turn) => turn.turn);
  const promptTokens = bound ?? tokens ?? count.once(prompt);
  const total = systemTokens + promptTokens + MESSAGE_OVERHEAD_TOKENS;
  return {
    system,
    prompt,
    report: {
      tokens: total,
      ...(bound !== undefined ? { tokensBound: 'utf8-bytes' as const } : {}),
      window: limits.contextWindow,
      reservedOutput: limits.reservedOutput,
      ...(overflow ? { overflow: true } : {}),
      cut: packed.cuts,
      ...(summarisedTurns.length ? { summarisedTurns } : {}),
    },
    ...(bound === undefined ? { countedTokens: total } : {}),
  };
}

const historyPart = (turn: TurnMemory): string => `history turn ${turn.turn}`;

interface Packing {
  packed: Packed;
  prompt: string;
  /** The prompt's tokens, when counted already. */
  tokens?: number;
  /** An upper bound of the prompt's tokens (its UTF-8 bytes), when it was not counted. */
  bound?: number;
}

function packInto(
  sections: Record<SectionName, Section>,
  sources: ContextSources,
  room: number,
  count: Counting,
  separator: number,
): Packing {
  const packed = packSections(sections, Math.max(0, room), count, separator);
  return { packed, prompt: render(sources, packed.texts) };
}

/**
 * First the whole prompt, uncut. With an exact BPE tokenizer, when its UTF-8 bytes fit the
 * budget it fits, and nothing is counted. Otherwise it is counted whole (stopping once past
 * the budget) only when that count may find it fits: a cheap estimate of it says it fits, or,
 * when the estimate is in doubt, the sum of its parts' counts (which packing needs anyway)
 * is within a token per part of the room. Otherwise the parts' counts decide what goes in and
 * the result is counted whole (counts are not additive at the joins: BPE pieces change there,
 * and the estimate rounds per text, so its sum errs high); the room for the cuttable parts
 * shrinks by what the whole exceeds, for a few passes (the first leaves JOIN_SLACK_TOKENS
 * free). Without a fitting pass every cuttable part is dropped.
 */
function packToBudget(
  sections: Record<SectionName, Section>,
  sources: ContextSources,
  initialRoom: number,
  budget: number,
  count: Counting,
  separator: number,
  counter: TokenCounter,
): Packing {
  const whole = uncut(sections, sources);
  if (counter.exact && whole.prompt.length <= budget) {
    // Short of the budget in characters first: a byte count costs about as much as a scan.
    const bytes = Buffer.byteLength(whole.prompt, 'utf8');
    if (bytes <= budget) return { ...whole, bound: bytes };
  }
  if (wholeMayFit(whole.prompt, sections, initialRoom, budget, count, separator, counter)) {
    const tokens = counter.countWithin
      ? counter.countWithin(whole.prompt, budget)
      : count.once(whole.prompt);
    if (tokens <= budget) return { ...whole, tokens };
  }
  // A little slack for the joins, so one pass usually fits.
  let room = initialRoom - JOIN_SLACK_TOKENS;
  for (let pass = 0; pass < 4; pass += 1) {
    const packing = packInto(sections, sources, room, count, separator);
    const tokens = count.once(packing.prompt);
    if (tokens <= budget) return { ...packing, tokens };
    room -= tokens - budget + 2;
  }
  return packInto(sections, sources, 0, count, separator);
}

/**
 * Whether counting the whole prompt may find that it fits: surely when even the costliest
 * characters would fit (every estimate weighs a character at most MAX_ESTIMATE_PER_CHAR
 * tokens; an exact count is then taken for a likely fit), when a cheap estimate says so, else
 * when the parts' counts (memoised: packing reads them next) sum to within a token per text
 * summed of the room.
 */
function wholeMayFit(
  prompt: string,
  sections: Record<SectionName, Section>,
  initialRoom: number,
  budget: number,
  count: Counting,
  separator: number,
  counter: TokenCounter,
): boolean {
  if (prompt.length * MAX_ESTIMATE_PER_CHAR <= budget) return true;
  if (counter.exact && GUIDE.count(prompt) <= budget) return true;
  // Every text summed (items, headings, separators) may count up to a token more alone than
  // inside the whole: an estimate rounds each text up, BPE may merge across a join.
  let sum = 0;
  let texts = 0;
  for (const name of SECTION_ORDER) {
    const section = sections[name];
    if (section.items.length === 0) continue;
    const headed = section.heading ? 1 : 0;
    if (section.heading) sum += count.part(section.heading);
    for (const item of section.items) sum += count.part(clip(item.text, initialRoom));
    const separators = 1 + headed + section.items.length - 1;
    sum += separator * separators;
    texts += headed + section.items.length + separators;
  }
  return sum - texts <= initialRoom;
}

/** Every part in whole, rendered as `packSections` renders them; nothing counted. */
function uncut(sections: Record<SectionName, Section>, sources: ContextSources): Packing {
  const texts = { dependencies: '', attachments: '', memories: '', history: '' };
  const kept = new Set<string>();
  for (const name of SECTION_ORDER) {
    const section = sections[name];
    if (section.items.length === 0) continue;
    for (const item of section.items) kept.add(item.part);
    const items = section.items.map((item) => item.text);
    const body = name === 'history' ? items.reverse() : items;
    texts[name] = [section.heading, ...body].filter(Boolean).join('\n\n');
  }
  return { packed: { texts, kept, cuts: [] }, prompt: render(sources, texts) };
}

/** The cuttable parts in priority order (highest first), each item in keep order. */
function sectionsOf(sources: ContextSources): Record<SectionName, Section> {
  return {
    dependencies: {
      heading: 'Context from earlier steps:',
      mode: 'fair',
      items: sources.dependencies.map((item) => ({
        part: `dependency ${item.stepId}`,
        text: `### Output of step "${item.stepId}" (${item.agent})\n${item.output}`,
      })),
    },
    attachments: {
      heading: '',
      mode: 'ordered',
      items: sources.attachments ? [{ part: 'attachments', text: sources.attachments }] : [],
    },
    memories: {
      heading: 'Recalled memories:',
      mode: 'ordered',
      items: sources.memories.map((text, index) => ({
        part: `memory ${index + 1}`,
        text: `- ${text}`,
      })),
    },
    history: {
      heading: 'Earlier turns of this session (oldest first):',
      mode: 'ordered',
      // Newest first: the oldest turns are the first to go.
      items: [...sources.history].reverse().map((turn) => ({
        part: historyPart(turn),
        text: historyText(turn),
      })),
    },
  };
}

function historyText(turn: TurnMemory): string {
  const decision = turn.decision ? `; plan ${turn.decision}` : '';
  const kind = turn.summarised ? 'summary' : 'result';
  return (
    `### Turn ${turn.turn} (${turn.outcome}${decision}) asked: "${turn.request}"\n` +
    `${kind}: ${turn.text}`
  );
}

function render(sources: ContextSources, texts: Record<SectionName, string>): string {
  return [
    sources.header ?? '',
    texts.history,
    texts.memories,
    `Request: ${sources.request}`,
    `Task: ${sources.instruction}`,
    texts.attachments,
    texts.dependencies,
  ]
    .filter(Boolean)
    .join('\n\n');
}

function memoised(counter: TokenCounter): Counting {
  const known = new Map<string, number>();
  return {
    part(text) {
      let tokens = known.get(text);
      if (tokens === undefined) {
        tokens = counter.count(text);
        known.set(text, tokens);
      }
      return tokens;
    },
    once: (text) => counter.count(text),
  };
}
