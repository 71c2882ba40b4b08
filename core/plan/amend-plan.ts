/**
 * Checks an amendment of a running plan: steps that already started (or finished) must stay
 * exactly as they are, only steps that have not started may change or go, and the amended plan
 * must pass the same validation as a new one. Pure and deterministic: the session workflow's
 * update validator calls it.
 */
import type { Plan, PlanStep } from './plan-types';
import { validatePlan } from './validate-plan';

export interface PlanChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export type AmendmentCheck =
  | { ok: true; changes: PlanChanges; levels: string[][]; criticalPath: string[] }
  | { ok: false; errors: string[] };

export function checkAmendment(
  current: Plan,
  next: Plan,
  started: ReadonlySet<string>,
  knownAgents: ReadonlySet<string>,
): AmendmentCheck {
  const shape = planShapeProblems(next);
  if (shape.length > 0) return { ok: false, errors: shape };
  const errors: string[] = [];
  const before = new Map(current.steps.map((step) => [step.id, step]));
  const after = new Map(next.steps.map((step) => [step.id, step]));
  const changes: PlanChanges = { added: [], removed: [], changed: [] };
  for (const [id, step] of before) {
    const replacement = after.get(id);
    if (!replacement) {
      if (started.has(id)) errors.push(`step "${id}" already started and cannot be removed`);
      else changes.removed.push(id);
    } else if (canonical(step) !== canonical(replacement)) {
      if (started.has(id)) errors.push(`step "${id}" already started and cannot be changed`);
      else changes.changed.push(id);
    }
  }
  for (const id of after.keys()) if (!before.has(id)) changes.added.push(id);
  const validation = validatePlan(next, knownAgents);
  if (!validation.ok) errors.push(...validation.errors);
  if (errors.length > 0 || !validation.ok) return { ok: false, errors };
  return {
    ok: true,
    changes,
    levels: validation.levels,
    criticalPath: validation.criticalPath,
  };
}

/** JSON with sorted keys and without undefined fields: equal steps give equal strings. */
function canonical(step: PlanStep): string {
  const sort = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sort);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, entry]) => entry !== undefined)
          .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
          .map(([key, entry]) => [key, sort(entry)]),
      );
    }
    return value;
  };
  return JSON.stringify(sort(step));
}

/**
 * The minimal shape validation needs, for plans that did not come through the API's schema
 * (e.g. an update sent with the temporal CLI): a clear message instead of a crash.
 */
export function planShapeProblems(plan: unknown): string[] {
  if (typeof plan !== 'object' || plan === null) return ['plan must be an object'];
  const steps = (plan as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) return ['plan.steps must be an array'];
  const errors: string[] = [];
  steps.forEach((step: unknown, index) => {
    const fields = (step ?? {}) as Record<string, unknown>;
    for (const key of ['id', 'agent', 'title', 'instruction'] as const) {
      if (typeof fields[key] !== 'string') errors.push(`steps.${index}.${key} must be a string`);
    }
    for (const key of ['dependsOn', 'softDependsOn'] as const) {
      const value = fields[key];
      const optional = key === 'softDependsOn' && value === undefined;
      if (!optional && !(Array.isArray(value) && value.every((id) => typeof id === 'string'))) {
        errors.push(`steps.${index}.${key} must be an array of step ids`);
      }
    }
  });
  return errors;
}
