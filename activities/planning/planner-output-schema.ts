/**
 * The JSON the planner model must answer with: the request's intent, a proposed plan and a
 * confidence per agent. Structure only; agents and the plan's graph are checked against the
 * catalog and `validatePlan` in llm-planner.ts.
 */
import { z } from 'zod';
import { MAX_PLAN_STEPS } from '../../core/plan';

/** Intent labels: short lowercase kebab-case words, e.g. `security`, `bugfix`. */
export const INTENT_LABEL_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const MAX_INTENT_LABELS = 5;

const stepId = z.string().min(1).max(64);

export const plannerStepSchema = z.object({
  id: stepId,
  agent: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  instruction: z.string().min(1).max(20_000),
  dependsOn: z.array(stepId).max(MAX_PLAN_STEPS).default([]),
  softDependsOn: z.array(stepId).max(MAX_PLAN_STEPS).optional(),
});

export const plannerAgentAssessmentSchema = z.object({
  agent: z.string().min(1).max(64),
  confidence: z.number().min(0).max(1),
  reasoning: z.string().min(1).max(2_000),
});

export const plannerOutputSchema = z.object({
  intent: z.object({
    labels: z
      .array(
        z
          .string()
          .regex(INTENT_LABEL_PATTERN, 'must be lowercase kebab-case, at most 40 characters'),
      )
      .min(1)
      .max(MAX_INTENT_LABELS),
    summary: z.string().min(1).max(500),
  }),
  steps: z.array(plannerStepSchema).min(1).max(MAX_PLAN_STEPS),
  agents: z.array(plannerAgentAssessmentSchema).min(1).max(100),
});

export type PlannerOutput = z.output<typeof plannerOutputSchema>;
export type PlannerAgentAssessment = z.output<typeof plannerAgentAssessmentSchema>;
