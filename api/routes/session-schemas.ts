/** Request shapes of the session routes (zod), with the limits the API enforces. */
import { z } from 'zod';
import { MAX_ATTACHMENTS } from '../../core/media/attachments';
import { STEP_PRIORITIES, planSchema } from '../../core/plan';
import type { SessionSignalName } from '../../core/session';

const HOUR = 60 * 60 * 1000;

export const sessionOptionsSchema = z
  .object({
    maxDurationMs: z.number().int().min(1000),
    idleTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * HOUR),
    keepOpen: z.boolean(),
    maxParallelSteps: z.number().int().min(1).max(64),
    stepHeartbeatTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .max(10 * 60 * 1000),
    continueAsNewAfterTurns: z.number().int().min(1).max(1000),
  })
  .partial()
  .strict();

/** A session's spending limit; at least one limit when given. */
export const budgetSchema = z
  .object({
    maxCostUsd: z.number().positive().max(1_000_000).optional(),
    maxTokens: z.number().int().positive().max(1_000_000_000).optional(),
  })
  .strict();

/**
 * A stored attachment as `POST /v1/attachments` returned it. The session service checks that
 * the blob exists; the uri must end with the sha-256 (it names that blob, nothing else).
 */
export const attachmentRefSchema = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    size: z.number().int().min(0),
    contentType: z
      .string()
      .max(255)
      .regex(/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/, 'a media type such as image/png'),
    uri: z.string().min(1).max(2048),
    name: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .refine((ref) => ref.uri.endsWith(ref.sha256), {
    message: 'uri must name the blob of sha256',
    path: ['uri'],
  });

export const startSessionSchema = z
  .object({
    request: z.string().trim().min(1).max(20_000),
    title: z.string().trim().min(1).max(200).optional(),
    projectId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')
      .optional(),
    requireApproval: z.boolean().optional(),
    plan: planSchema.optional(),
    priority: z.enum(STEP_PRIORITIES).optional(),
    budget: budgetSchema.optional(),
    options: sessionOptionsSchema.optional(),
    attachments: z.array(attachmentRefSchema).max(MAX_ATTACHMENTS).optional(),
  })
  .strict();

export const signalPayloadSchemas = {
  approve: z
    .object({ approved: z.boolean().default(true), comment: z.string().max(2000).optional() })
    .strict(),
  'add-input': z
    .object({
      text: z.string().trim().min(1).max(20_000),
      requireApproval: z.boolean().optional(),
      plan: planSchema.optional(),
    })
    .strict(),
  cancel: z.object({ reason: z.string().max(500).optional() }).strict(),
  pause: z.object({ reason: z.string().max(500).optional() }).strict(),
  resume: z.object({}).strict(),
  'approve-step': z
    .object({
      stepId: z.string().min(1).max(64),
      approved: z.boolean().default(true),
      comment: z.string().max(2000).optional(),
    })
    .strict(),
  replan: z
    .object({
      reason: z.string().max(500).optional(),
      instruction: z.string().trim().min(1).max(20_000).optional(),
    })
    .strict(),
  'raise-budget': budgetSchema.refine(
    (budget) => budget.maxCostUsd !== undefined || budget.maxTokens !== undefined,
    {
      message: 'give maxCostUsd, maxTokens or both',
    },
  ),
} as const satisfies Record<SessionSignalName, z.ZodType>;

export const amendPlanSchema = z
  .object({ plan: planSchema, reason: z.string().max(500).optional() })
  .strict();

export const listSessionsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(2000).optional(),
    status: z.enum(['active', 'waiting', 'completed', 'failed', 'cancelled', 'expired']).optional(),
  })
  .strict();

export const resultQuerySchema = z
  .object({ wait: z.coerce.number().int().min(0).max(60).default(0) })
  .strict();

/** RFC 9110 token-ish: visible ASCII, 1–255 characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
