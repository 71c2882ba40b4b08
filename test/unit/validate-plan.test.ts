import {
  MAX_PLAN_STEPS,
  PLAN_SCHEMA_VERSION,
  criticalPath,
  findCycle,
  planLevels,
  validatePlan,
  type Plan,
} from '../../core/plan';

const agents = new Set(['design', 'code', 'test', 'docs']);
const plan = (steps: [string, string, string[]][]): Plan => ({
  schemaVersion: PLAN_SCHEMA_VERSION,
  steps: steps.map(([id, agent, dependsOn]) => ({
    id,
    agent,
    title: id,
    instruction: id,
    dependsOn,
  })),
});
const errorsOf = (candidate: Plan): string[] => {
  const result = validatePlan(candidate, agents);
  return result.ok ? [] : result.errors;
};

describe('validatePlan', () => {
  test('accepts a DAG and returns its parallel levels', () => {
    const result = validatePlan(
      plan([
        ['design', 'design', []],
        ['code', 'code', ['design']],
        ['test', 'test', ['code']],
        ['docs', 'docs', ['code']],
      ]),
      agents,
    );
    expect(result).toMatchObject({ ok: true, levels: [['design'], ['code'], ['test', 'docs']] });
  });

  test('names an unknown agent', () => {
    expect(errorsOf(plan([['a', 'deploy', []]]))).toEqual(['step "a" uses unknown agent "deploy"']);
  });

  test('names a dangling dependency', () => {
    expect(errorsOf(plan([['a', 'code', ['ghost']]]))).toEqual([
      'step "a" depends on unknown step "ghost"',
    ]);
  });

  test('names a self dependency', () => {
    expect(errorsOf(plan([['a', 'code', ['a']]]))).toEqual(['step "a" depends on itself']);
  });

  test('names the steps of a cycle in order', () => {
    expect(
      errorsOf(
        plan([
          ['a', 'code', ['c']],
          ['b', 'code', ['a']],
          ['c', 'code', ['b']],
          ['d', 'docs', []],
        ]),
      ),
    ).toEqual(['dependency cycle: a -> c -> b -> a (-> means "depends on")']);
  });

  test('rejects duplicate and malformed ids, and lists every problem', () => {
    expect(
      errorsOf(
        plan([
          ['a', 'code', []],
          ['a', 'test', []],
          ['Bad Id', 'nobody', []],
        ]),
      ),
    ).toEqual([
      'step id "a" is used twice',
      'step id "Bad Id" must match ^[a-z0-9][a-z0-9_-]{0,63}$',
      'step "Bad Id" uses unknown agent "nobody"',
    ]);
  });

  test('rejects an empty plan and one above the step limit', () => {
    expect(errorsOf(plan([]))).toEqual(['plan has no steps']);
    const huge = plan(
      Array.from({ length: MAX_PLAN_STEPS + 1 }, (_, index): [string, string, string[]] => [
        `s${index}`,
        'code',
        [],
      ]),
    );
    expect(errorsOf(huge)).toEqual([
      `plan has ${MAX_PLAN_STEPS + 1} steps; the limit is ${MAX_PLAN_STEPS}`,
    ]);
  });
});

describe('planLevels', () => {
  test('puts a step one level after its deepest dependency', () => {
    const steps = plan([
      ['a', 'code', []],
      ['b', 'code', ['a']],
      ['c', 'code', []],
      ['d', 'code', ['b', 'c']],
      ['e', 'code', ['a']],
    ]).steps;
    expect(planLevels(steps)).toEqual([['a', 'c'], ['b', 'e'], ['d']]);
  });
});

describe('findCycle', () => {
  test('returns undefined for an acyclic graph', () => {
    expect(
      findCycle(
        plan([
          ['a', 'code', []],
          ['b', 'code', ['a']],
        ]).steps,
      ),
    ).toBeUndefined();
  });
});

describe('soft dependencies and conditions', () => {
  const withExtras = (extras: Partial<Plan['steps'][number]>): Plan => {
    const base = plan([
      ['scan', 'code', []],
      ['build', 'code', []],
      ['docs', 'docs', ['build']],
    ]);
    return { ...base, steps: base.steps.map((s) => (s.id === 'docs' ? { ...s, ...extras } : s)) };
  };

  test('accepts soft dependencies and a condition over the steps waited for; levels count both', () => {
    const result = validatePlan(
      withExtras({ softDependsOn: ['scan'], condition: 'steps.scan.state != "failed"' }),
      agents,
    );
    expect(result).toMatchObject({ ok: true, levels: [['scan', 'build'], ['docs']] });
  });

  test('names a dangling soft dependency and one listed as both hard and soft', () => {
    expect(errorsOf(withExtras({ softDependsOn: ['lint'] }))).toEqual([
      'step "docs" depends on unknown step "lint"',
    ]);
    expect(errorsOf(withExtras({ softDependsOn: ['build'] }))).toEqual([
      'step "docs" lists "build" as both a hard and a soft dependency',
    ]);
  });

  test('names unknown alternative agents and a step listing its own agent', () => {
    expect(errorsOf(withExtras({ alternatives: ['code', 'deployer', 'docs'] }))).toEqual([
      'step "docs" has unknown alternative agent "deployer"',
      'step "docs" lists its own agent "docs" as an alternative',
    ]);
  });

  test('finds cycles through soft dependencies', () => {
    const cyclic = withExtras({ softDependsOn: ['scan'] });
    cyclic.steps[0] = { ...cyclic.steps[0]!, dependsOn: ['docs'] };
    expect(errorsOf(cyclic)).toEqual([expect.stringMatching(/^dependency cycle: /)]);
  });

  test('rejects a condition that does not parse, with the position', () => {
    expect(errorsOf(withExtras({ condition: 'steps.build.state == ' }))).toEqual([
      expect.stringMatching(/^step "docs" condition is invalid: .* at 21/),
    ]);
  });

  test('rejects a condition that reads a step it does not wait for (it may not have run yet)', () => {
    expect(errorsOf(withExtras({ condition: 'steps.scan.state == "succeeded"' }))).toEqual([
      'step "docs" condition reads step "scan", which is not one of its dependencies',
    ]);
  });
});

describe('criticalPath', () => {
  test('follows the longest dependency chain, through soft dependencies too', () => {
    const candidate = plan([
      ['design', 'design', []],
      ['code', 'code', ['design']],
      ['test', 'test', ['code']],
      ['docs', 'docs', ['design']],
    ]);
    expect(criticalPath(candidate.steps)).toEqual(['design', 'code', 'test']);
    candidate.steps[3] = { ...candidate.steps[3]!, softDependsOn: ['test'] };
    expect(criticalPath(candidate.steps)).toEqual(['design', 'code', 'test', 'docs']);
  });

  test('weighs steps by a given duration and is part of a valid plan', () => {
    const candidate = plan([
      ['a', 'code', []],
      ['b', 'code', ['a']],
      ['slow', 'code', []],
    ]);
    expect(criticalPath(candidate.steps, (step) => (step.id === 'slow' ? 10 : 1))).toEqual([
      'slow',
    ]);
    expect(validatePlan(candidate, agents)).toMatchObject({ ok: true, criticalPath: ['a', 'b'] });
  });
});
