/**
 * The planner model's prompts: the first request (the user's request and the enabled agents)
 * and the one repair turn (its previous answer and the precise errors).
 */
import type { AgentSpec } from '../../core/agents/agent-spec';
import { MAX_PLAN_STEPS } from '../../core/plan';
import type { ModelMessage } from '../../models/model-provider';
import { MAX_INTENT_LABELS } from './planner-output-schema';

/** Appears in every planner system prompt, so logs and test fakes can tell planner calls apart. */
export const PLANNER_PROMPT_ID = 'tdev-planner/v1';

/** Longest request text and previous answer put into a prompt. */
const MAX_REQUEST_CHARS = 20_000;
const MAX_PREVIOUS_OUTPUT_CHARS = 20_000;

/** Labels the planner is nudged towards, so history rows of similar requests meet. */
export const SUGGESTED_INTENT_LABELS = [
  'design',
  'code',
  'test',
  'security',
  'review',
  'docs',
  'bugfix',
  'refactor',
  'performance',
  'general',
] as const;

export const PLANNER_SYSTEM_PROMPT = [
  `You are the planner of T-Developer's Supervisor (${PLANNER_PROMPT_ID}).`,
  'You turn a software request into a plan of steps, each run by one of the listed agents.',
  'Answer with exactly one JSON object and nothing else (no prose, no code fences):',
  '{',
  '  "intent": {"labels": string[], "summary": string},',
  '  "steps": [{"id": string, "agent": string, "title": string, "instruction": string,',
  '             "dependsOn": string[], "softDependsOn"?: string[]}],',
  '  "agents": [{"agent": string, "confidence": number, "reasoning": string}]',
  '}',
  'Rules:',
  `- intent.labels: 1 to ${MAX_INTENT_LABELS} lowercase kebab-case labels; prefer ${SUGGESTED_INTENT_LABELS.join(', ')}.`,
  '- intent.summary: one sentence saying what the user wants.',
  `- steps: 1 to ${MAX_PLAN_STEPS}; id matches [a-z0-9][a-z0-9_-]*, unique; agent is one of the listed agents.`,
  '- dependsOn: ids of steps that must succeed first; softDependsOn: ids of steps that must finish',
  '  first but may fail. No cycles, no unknown ids, never the step itself.',
  '- instruction: what the agent must do, self-contained (include the relevant part of the request).',
  '- agents: one entry per agent used in steps (others optional), confidence 0..1 that the agent',
  '  is right for its part, reasoning in one sentence.',
].join('\n');

/** The first planner turn: the request and the agents it may use. */
export function plannerMessages(requestText: string, agents: readonly AgentSpec[]): ModelMessage[] {
  const catalog = agents
    .map(
      (agent) =>
        `- ${agent.name}: ${agent.role}; capabilities: ${agent.capabilities.join(', ')}; ${agent.description}`,
    )
    .join('\n');
  return [
    {
      role: 'user',
      text: [
        `Request:\n${requestText.slice(0, MAX_REQUEST_CHARS)}`,
        `Agents you may use (name: role; capabilities; description):\n${catalog}`,
        'Answer with the JSON object only.',
      ].join('\n\n'),
    },
  ];
}

/** The repair turn: the first turn, the model's answer, and what was wrong with it. */
export function repairMessages(
  first: readonly ModelMessage[],
  previousOutput: string,
  errors: readonly string[],
): ModelMessage[] {
  return [
    ...first,
    { role: 'assistant', text: previousOutput.slice(0, MAX_PREVIOUS_OUTPUT_CHARS) || '(empty)' },
    {
      role: 'user',
      text: [
        'Your answer was invalid:',
        ...errors.map((error) => `- ${error}`),
        'Answer again with the corrected JSON object only.',
      ].join('\n'),
    },
  ];
}
