import { planByRules } from '../../activities/planning/rule-planner';

const shape = (text: string) =>
  planByRules(text).plan.steps.map((step) => `${step.id}<-${step.dependsOn.join(',') || '∅'}`);

describe('planByRules', () => {
  test('orders design → code → checks → docs, checks in parallel', () => {
    expect(
      shape('Design and implement OAuth login with tests, a security review and docs'),
    ).toEqual([
      'design<-∅',
      'code<-design',
      'test<-code',
      'security<-code',
      'review<-code',
      'docs<-test,security,review',
    ]);
  });

  test('records why each agent is in the plan', () => {
    const { decisions } = planByRules('add OAuth login to billing');
    expect(decisions).toEqual([
      { agent: 'code', confidence: 0.8, reasoning: 'request mentions "add"', source: 'rule' },
      {
        agent: 'security',
        confidence: 0.8,
        reasoning: 'request mentions "OAuth", "login"',
        source: 'rule',
      },
      {
        agent: 'test',
        confidence: 0.5,
        reasoning: 'code changes always get tests',
        source: 'default',
      },
    ]);
  });

  test('falls back to code + test when no rule matches', () => {
    const { plan, decisions } = planByRules('make the invoices nicer');
    expect(plan.steps.map((step) => step.agent)).toEqual(['code', 'test']);
    expect(decisions.every((decision) => decision.source === 'default')).toBe(true);
  });

  test('understands Korean requests', () => {
    // "add a security review and tests to the payment service"
    expect(
      planByRules('결제 서비스에 보안 검토와 테스트를 추가해 주세요').plan.steps.map(
        (step) => step.agent,
      ),
    ).toEqual(['code', 'test', 'security', 'review']);
    // "implement the login feature": 로그인 is not a security keyword, 구현 (implement) is code
    expect(planByRules('로그인 기능을 구현').plan.steps.map((step) => step.agent)).toEqual([
      'code',
      'test',
    ]);
  });

  test('steps carry the request in their instruction', () => {
    const { plan } = planByRules('Write docs for the export');
    expect(plan.steps[0]?.instruction).toBe(
      'Document the change for this request: Write docs for the export',
    );
  });
});
