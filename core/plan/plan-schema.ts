import { z } from 'zod';
import { CONDITION_LIMITS } from './condition-expression';
import { MAX_PLAN_STEPS, PLAN_SCHEMA_VERSION, STEP_PRIORITIES, type Plan } from './plan-types';

const HOUR_MS = 60 * 60 * 1000;

/** Shape of a plan received from outside (API body, LLM output). Structure only: see validatePlan. */
export const planStepSchema = z.object({
  id: z.string().min(1).max(64),
  agent: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  instruction: z.string().min(1).max(20_000),
  dependsOn: z.array(z.string().min(1).max(64)).max(MAX_PLAN_STEPS).default([]),
  softDependsOn: z.array(z.string().min(1).max(64)).max(MAX_PLAN_STEPS).optional(),
  condition: z.string().min(1).max(CONDITION_LIMITS.maxSourceLength).optional(),
  alternatives: z.array(z.string().min(1).max(64)).max(5).optional(),
  compensation: z
    .object({ agent: z.string().min(1).max(64), instruction: z.string().min(1).max(20_000) })
    .strict()
    .optional(),
  priority: z.enum(STEP_PRIORITIES).optional(),
  slaMs: z
    .number()
    .int()
    .min(1_000)
    .max(8 * HOUR_MS)
    .optional(),
  timeoutMs: z.number().int().min(1_000).max(HOUR_MS).optional(),
  retry: z
    .object({
      maximumAttempts: z.number().int().min(1).max(20),
      initialIntervalMs: z.number().int().min(100).max(60_000),
    })
    .strict()
    .optional(),
  requiresApproval: z.boolean().optional(),
  taskQueue: z.string().min(1).max(200).optional(),
  cache: z.boolean().optional(),
});

export const planSchema = z.object({
  schemaVersion: z.literal(PLAN_SCHEMA_VERSION),
  steps: z.array(planStepSchema).min(1).max(MAX_PLAN_STEPS),
  onFailure: z.enum(['continue', 'compensate']).optional(),
  priority: z.enum(STEP_PRIORITIES).optional(),
}) satisfies z.ZodType<Plan, unknown>;

/** Human-readable one-line messages for every zod issue, e.g. `steps.2.agent: Required`. */
export function describeZodIssues(error: {
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>;
}): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}
