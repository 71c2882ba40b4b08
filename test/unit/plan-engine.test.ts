import {
  AGEING_FULL_MS,
  PLAN_SCHEMA_VERSION,
  checkAmendment,
  orderByPriority,
  planShapeProblems,
  priorityKeyOf,
  priorityScore,
  referencedOutputs,
  resolveInputReferences,
  validatePlan,
  type Plan,
  type PlanStep,
} from '../../core/plan';

const agents = new Set(['design', 'code', 'test', 'docs', 'security']);
const step = (id: string, dependsOn: string[] = [], extra: Partial<PlanStep> = {}): PlanStep => ({
  id,
  agent: extra.agent ?? 'code',
  title: id,
  instruction: `do ${id}`,
  dependsOn,
  ...extra,
});
const plan = (...steps: PlanStep[]): Plan => ({ schemaVersion: PLAN_SCHEMA_VERSION, steps });

describe('priorities (seed 1.3.3)', () => {
  test('base scores order critical < high < normal < low', () => {
    const scores = (['critical', 'high', 'normal', 'low'] as const).map((priority) =>
      priorityScore(priority, { waitingMs: 0 }),
    );
    expect(scores).toEqual([1, 2, 3, 4]);
  });

  test('ageing lowers the score by at most one level after five minutes', () => {
    expect(priorityScore('low', { waitingMs: AGEING_FULL_MS / 2 })).toBeCloseTo(3.5);
    expect(priorityScore('low', { waitingMs: AGEING_FULL_MS })).toBe(3);
    expect(priorityScore('low', { waitingMs: 10 * AGEING_FULL_MS })).toBe(3);
  });

  test('a step within five minutes of its SLA is boosted by two levels', () => {
    expect(priorityScore('normal', { waitingMs: 0, msToSla: 10 * 60_000 })).toBe(3);
    expect(priorityScore('normal', { waitingMs: 0, msToSla: 4 * 60_000 })).toBe(1);
    expect(priorityScore('normal', { waitingMs: 0, msToSla: -1 })).toBe(1);
  });

  test('Temporal priority keys stay within 1..5', () => {
    expect(priorityKeyOf(-1)).toBe(1);
    expect(priorityKeyOf(2.4)).toBe(2);
    expect(priorityKeyOf(3.5)).toBe(4);
    expect(priorityKeyOf(9)).toBe(5);
  });

  test('ready steps are ordered by score, then waiting time, then plan order', () => {
    const now = 1_000_000;
    const ordered = orderByPriority(
      [
        { step: step('a', [], { priority: 'low' }), readySinceMs: now },
        { step: step('b'), readySinceMs: now },
        { step: step('c', [], { priority: 'critical' }), readySinceMs: now },
        { step: step('d'), readySinceMs: now - 1000 },
        { step: step('e', [], { priority: 'low', slaMs: 60_000 }), readySinceMs: now },
      ],
      now,
      now,
    );
    // e: low (4) − SLA boost (2) = 2 beats the normal ones; d waited longer than b.
    expect(ordered.map((entry) => entry.step.id)).toEqual(['c', 'e', 'd', 'b', 'a']);
  });

  test('the plan priority applies to steps without their own', () => {
    const now = 0;
    const ordered = orderByPriority(
      [
        { step: step('a'), readySinceMs: now },
        { step: step('b', [], { priority: 'high' }), readySinceMs: now },
      ],
      now,
      now,
      'critical',
    );
    expect(ordered.map((entry) => entry.step.id)).toEqual(['a', 'b']);
  });
});

describe('input references', () => {
  test('finds and resolves references to earlier outputs', () => {
    const text =
      'Review {{steps.code.output}} against {{ steps.design.output }} and {{steps.code.output}}';
    expect(referencedOutputs(text)).toEqual(['code', 'design']);
    expect(resolveInputReferences(text, (id) => (id === 'code' ? 'CODE' : undefined))).toBe(
      'Review CODE against  and CODE',
    );
  });

  test('validation rejects a reference to a step that is not a dependency', () => {
    const result = validatePlan(
      plan(
        step('design', [], { agent: 'design' }),
        step('code', [], { instruction: 'use {{steps.design.output}}' }),
      ),
      agents,
    );
    expect(result).toEqual({
      ok: false,
      errors: [
        'step "code" instruction uses the output of step "design", which is not one of its dependencies',
      ],
    });
  });

  test('a reference to a soft dependency is valid', () => {
    const result = validatePlan(
      plan(
        step('design', [], { agent: 'design' }),
        step('code', [], { softDependsOn: ['design'], instruction: 'use {{steps.design.output}}' }),
      ),
      agents,
    );
    expect(result.ok).toBe(true);
  });
});

describe('checkAmendment', () => {
  const current = plan(
    step('design', [], { agent: 'design' }),
    step('code', ['design']),
    step('test', ['code'], { agent: 'test' }),
  );

  test('changes, adds and removes steps that have not started', () => {
    const next = plan(
      step('design', [], { agent: 'design' }),
      step('code', ['design'], { instruction: 'do it differently' }),
      step('docs', ['code'], { agent: 'docs' }),
    );
    expect(checkAmendment(current, next, new Set(['design']), agents)).toMatchObject({
      ok: true,
      changes: { added: ['docs'], removed: ['test'], changed: ['code'] },
      levels: [['design'], ['code'], ['docs']],
    });
  });

  test('refuses to change or remove a started step, naming it', () => {
    const next = plan(
      step('design', [], { agent: 'design', instruction: 'new' }),
      step('code', ['design']),
    );
    expect(checkAmendment(current, next, new Set(['design', 'test']), agents)).toEqual({
      ok: false,
      errors: [
        'step "design" already started and cannot be changed',
        'step "test" already started and cannot be removed',
      ],
    });
  });

  test('field order and absent optional fields do not count as a change', () => {
    const reordered = plan(
      {
        dependsOn: [],
        instruction: 'do design',
        title: 'design',
        agent: 'design',
        id: 'design',
        condition: undefined,
      },
      step('code', ['design']),
      step('test', ['code'], { agent: 'test' }),
    );
    expect(
      checkAmendment(current, reordered, new Set(['design', 'code', 'test']), agents),
    ).toMatchObject({
      ok: true,
      changes: { added: [], removed: [], changed: [] },
    });
  });

  test('re-validates the amended plan: unknown agents and cycles are refused', () => {
    const next = plan(
      step('design', ['test'], { agent: 'design' }),
      step('code', ['design'], { agent: 'wizard' }),
      step('test', ['code'], { agent: 'test' }),
    );
    const check = checkAmendment(current, next, new Set(), agents);
    expect(check).toEqual({ ok: false, errors: ['step "code" uses unknown agent "wizard"'] });
    const cyclic = plan(
      step('design', ['test'], { agent: 'design' }),
      step('code', ['design']),
      step('test', ['code'], { agent: 'test' }),
    );
    expect(checkAmendment(current, cyclic, new Set(), agents)).toEqual({
      ok: false,
      errors: ['dependency cycle: design -> test -> code -> design (-> means "depends on")'],
    });
  });

  test('malformed plans get clear messages instead of a crash', () => {
    expect(planShapeProblems(null)).toEqual(['plan must be an object']);
    expect(planShapeProblems({ steps: 'x' })).toEqual(['plan.steps must be an array']);
    expect(planShapeProblems({ steps: [{ id: 'a', agent: 'code', title: 't' }] })).toEqual([
      'steps.0.instruction must be a string',
      'steps.0.dependsOn must be an array of step ids',
    ]);
    const check = checkAmendment(current, { steps: [{}] } as unknown as Plan, new Set(), agents);
    expect(check.ok).toBe(false);
  });
});
