/**
 * What the platform knows about each model it may call (seed 1.7.3): context window,
 * languages, specialties, prices, latency class, availability, rate limits and the model to
 * use when this one refuses on content policy. Cards come from a JSON file
 * (`MODEL_CARDS_FILE`, default infra/models/model-cards.json); a model without a card gets
 * conservative defaults and a warning at start-up.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export const LATENCY_CLASSES = ['low', 'medium', 'high'] as const;
export type LatencyClass = (typeof LATENCY_CLASSES)[number];

const cardSchema = z
  .object({
    /** `provider:model`, as in the worker's model chain. */
    ref: z.string().regex(/^[a-z0-9-]+:.+$/, 'ref must be provider:model'),
    contextWindow: z.number().int().min(1_000).max(10_000_000),
    maxOutputTokens: z.number().int().min(1).max(1_000_000).default(4_096),
    /** BCP-47 primary languages, or `all`. */
    languages: z.array(z.string().min(2).max(8)).min(1).default(['all']),
    specialties: z
      .array(z.string().regex(/^[a-z0-9-]{1,48}$/))
      .max(32)
      .default([]),
    /** Extra abilities the router filters on (`vision`, `tools`). */
    capabilities: z
      .array(z.string().regex(/^[a-z0-9-]{1,48}$/))
      .max(32)
      .default([]),
    inputCostPer1k: z.number().min(0).max(1_000).default(0),
    outputCostPer1k: z.number().min(0).max(1_000).default(0),
    latencyClass: z.enum(LATENCY_CLASSES).default('medium'),
    /** Configured availability, 0–1 (the provider's SLA or observed uptime). */
    availability: z.number().min(0).max(1).default(0.99),
    /** Limits shared by all workers through Redis; none when absent. */
    rateLimit: z
      .object({
        requestsPerMinute: z.number().int().min(1),
        tokensPerMinute: z.number().int().min(1),
      })
      .strict()
      .optional(),
    /** The model (ref) to try when this one refuses a request on content policy. */
    contentPolicyAlternative: z.string().optional(),
  })
  .strict();

export type ModelCard = z.output<typeof cardSchema>;
export type ModelCardInput = z.input<typeof cardSchema>;

const fileSchema = z.object({ models: z.array(cardSchema).max(500) }).strict();

/** The card of a model nobody described: small window, no price, neutral everything. */
export function defaultCard(ref: string): ModelCard {
  return cardSchema.parse({ ref, contextWindow: 32_000 });
}

export function parseModelCard(input: ModelCardInput): ModelCard {
  return cardSchema.parse(input);
}

/** Parses a cards file; throws with every problem listed. Duplicate refs are an error. */
export function parseModelCards(json: unknown, source = 'model cards'): ModelCard[] {
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`${source} is invalid: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  for (const card of parsed.data.models) {
    if (seen.has(card.ref)) throw new Error(`${source} lists ${card.ref} twice`);
    seen.add(card.ref);
  }
  return parsed.data.models;
}

export function loadModelCards(file: string): ModelCard[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read model cards from ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseModelCards(json, file);
}

/** Cards by ref. */
export class ModelRegistry {
  private readonly cards = new Map<string, ModelCard>();

  constructor(cards: readonly ModelCard[]) {
    for (const card of cards) this.cards.set(card.ref, card);
  }

  /** The card of `ref`, or the default card when none was configured. */
  card(ref: string): ModelCard {
    return this.cards.get(ref) ?? defaultCard(ref);
  }

  has(ref: string): boolean {
    return this.cards.has(ref);
  }

  /** Refs among `refs` that have no card (the worker warns about them at start-up). */
  missing(refs: readonly string[]): string[] {
    return refs.filter((ref) => !this.cards.has(ref));
  }
}

/** US dollars for `usage` on `card`, rounded to micro-dollars. Cache reads bill at 10 %. */
export function costOf(
  card: Pick<ModelCard, 'inputCostPer1k' | 'outputCostPer1k'>,
  usage: {
    inputTokens: number;
    outputTokens: number;
    cacheReadInputTokens?: number;
    cacheWriteInputTokens?: number;
  },
): number {
  const input =
    usage.inputTokens +
    (usage.cacheWriteInputTokens ?? 0) * 1.25 +
    (usage.cacheReadInputTokens ?? 0) * 0.1;
  const cost = (input * card.inputCostPer1k + usage.outputTokens * card.outputCostPer1k) / 1_000;
  return Math.round(cost * 1e6) / 1e6;
}
