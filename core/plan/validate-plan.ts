import { ConditionSyntaxError, parseCondition, referencedSteps } from './condition-expression';
import { referencedOutputs } from './input-references';
import { MAX_PLAN_STEPS, allDependencies, type Plan, type PlanStep } from './plan-types';

const STEP_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export type PlanValidation =
  | { ok: true; plan: Plan; levels: string[][]; criticalPath: string[] }
  | { ok: false; errors: string[] };

/**
 * Checks a plan's structure against the known agents: unique well-formed step ids, known
 * agents, no dangling or self dependencies, no cycles (the error names the cycle) and at
 * most {@link MAX_PLAN_STEPS} steps. On success also returns the parallel levels.
 * Never throws; every problem found is listed.
 */
export function validatePlan(plan: Plan, knownAgents: ReadonlySet<string>): PlanValidation {
  const errors: string[] = [];
  if (plan.steps.length === 0) errors.push('plan has no steps');
  if (plan.steps.length > MAX_PLAN_STEPS) {
    errors.push(`plan has ${plan.steps.length} steps; the limit is ${MAX_PLAN_STEPS}`);
  }
  const ids = new Set<string>();
  for (const step of plan.steps) {
    if (!STEP_ID_PATTERN.test(step.id)) {
      errors.push(`step id "${step.id}" must match ${STEP_ID_PATTERN.source}`);
    }
    if (ids.has(step.id)) errors.push(`step id "${step.id}" is used twice`);
    ids.add(step.id);
    if (!knownAgents.has(step.agent)) {
      errors.push(`step "${step.id}" uses unknown agent "${step.agent}"`);
    }
    if (step.compensation && !knownAgents.has(step.compensation.agent)) {
      errors.push(`step "${step.id}" compensation uses unknown agent "${step.compensation.agent}"`);
    }
    for (const alternative of step.alternatives ?? []) {
      if (alternative === step.agent) {
        errors.push(`step "${step.id}" lists its own agent "${alternative}" as an alternative`);
      } else if (!knownAgents.has(alternative)) {
        errors.push(`step "${step.id}" has unknown alternative agent "${alternative}"`);
      }
    }
  }
  for (const step of plan.steps) {
    for (const dependency of allDependencies(step)) {
      if (dependency === step.id) errors.push(`step "${step.id}" depends on itself`);
      else if (!ids.has(dependency)) {
        errors.push(`step "${step.id}" depends on unknown step "${dependency}"`);
      }
    }
    for (const dependency of step.softDependsOn ?? []) {
      if (step.dependsOn.includes(dependency)) {
        errors.push(`step "${step.id}" lists "${dependency}" as both a hard and a soft dependency`);
      }
    }
    if (step.condition !== undefined) errors.push(...conditionProblems(step));
    const waitsFor = new Set(allDependencies(step));
    for (const id of referencedOutputs(step.instruction)) {
      if (!waitsFor.has(id)) {
        errors.push(
          `step "${step.id}" instruction uses the output of step "${id}", which is not one of its dependencies`,
        );
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const cycle = findCycle(plan.steps);
  if (cycle) {
    return {
      ok: false,
      errors: [`dependency cycle: ${cycle.join(' -> ')} (-> means "depends on")`],
    };
  }
  return {
    ok: true,
    plan,
    levels: planLevels(plan.steps),
    criticalPath: criticalPath(plan.steps),
  };
}

/** A condition must parse and may only read steps this step waits for (settled by then). */
function conditionProblems(step: PlanStep): string[] {
  try {
    const compiled = parseCondition(step.condition ?? '');
    const waitsFor = new Set(allDependencies(step));
    return referencedSteps(compiled)
      .filter((id) => !waitsFor.has(id))
      .map(
        (id) =>
          `step "${step.id}" condition reads step "${id}", which is not one of its dependencies`,
      );
  } catch (error) {
    if (error instanceof ConditionSyntaxError) {
      return [`step "${step.id}" condition is invalid: ${error.message}`];
    }
    throw error;
  }
}

/** Returns one cycle as a closed path of step ids (first id repeated at the end), or undefined. */
export function findCycle(steps: readonly PlanStep[]): string[] | undefined {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const mark = state.get(id);
    if (mark === 'done') return undefined;
    if (mark === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    const step = byId.get(id);
    for (const dependency of step ? allDependencies(step) : []) {
      if (!byId.has(dependency)) continue;
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const step of steps) {
    const cycle = visit(step.id);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * Groups steps into levels: every step's dependencies are in earlier levels, so the steps of
 * one level can run in parallel. Assumes an acyclic plan; order inside a level follows the plan.
 */
export function planLevels(steps: readonly PlanStep[]): string[][] {
  const level = new Map<string, number>();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const depth = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    const step = byId.get(id);
    const dependencies = step ? allDependencies(step) : [];
    const value = dependencies.length === 0 ? 0 : 1 + Math.max(...dependencies.map(depth));
    level.set(id, value);
    return value;
  };
  const levels: string[][] = [];
  for (const step of steps) {
    const index = depth(step.id);
    (levels[index] ??= []).push(step.id);
  }
  return levels;
}

/**
 * The longest chain of dependencies (hard and soft), first step first: the steps that bound the
 * plan's duration however wide it runs. Each step weighs `weightOf(step)` (1 by default, e.g. a
 * timeout or an expected latency otherwise); ties go to the step listed first. Assumes an acyclic plan.
 */
export function criticalPath(
  steps: readonly PlanStep[],
  weightOf: (step: PlanStep) => number = () => 1,
): string[] {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const best = new Map<string, { length: number; previous: string | undefined }>();
  const longestTo = (id: string): number => {
    const known = best.get(id);
    if (known) return known.length;
    const step = byId.get(id);
    if (!step) return 0;
    let previous: string | undefined;
    let longest = 0;
    for (const dependency of allDependencies(step)) {
      const length = longestTo(dependency);
      if (length > longest) [longest, previous] = [length, dependency];
    }
    const length = longest + weightOf(step);
    best.set(id, { length, previous });
    return length;
  };
  let end: string | undefined;
  let endLength = -1;
  for (const step of steps) {
    const length = longestTo(step.id);
    if (length > endLength) [endLength, end] = [length, step.id];
  }
  const path: string[] = [];
  for (let id = end; id !== undefined; id = best.get(id)?.previous) path.unshift(id);
  return path;
}
