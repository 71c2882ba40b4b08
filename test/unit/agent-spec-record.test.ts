import { agentSpecInputSchema } from '../../core/agents/agent-spec';
import { InvalidAgentRecordError, agentSpecFromRecord } from '../../core/agents/agent-spec-record';

const record = () => ({
  name: 'coder',
  version: 3,
  source: 'registry',
  ...agentSpecInputSchema.parse({
    role: 'coder',
    description: 'writes code',
    capabilities: ['code'],
    systemPrompt: 'You write code.',
    taskQueue: 'pool-code',
  }),
  updatedAt: '2026-11-24T12:00:00.000Z',
  updatedBy: 'admin',
  extraAttribute: 'dropped',
});

test('a stored record becomes a frozen spec without unknown attributes', () => {
  const spec = agentSpecFromRecord(record());
  expect(spec).toMatchObject({ name: 'coder', version: 3, taskQueue: 'pool-code', enabled: true });
  expect(spec).not.toHaveProperty('extraAttribute');
  expect(Object.isFrozen(spec)).toBe(true);
  expect(Object.isFrozen(spec.capabilities)).toBe(true);
  expect(Object.isFrozen(spec.retry)).toBe(true);
});

test('a record of the wrong shape is refused', () => {
  expect(() => agentSpecFromRecord({ ...record(), capabilities: 'code' })).toThrow(
    InvalidAgentRecordError,
  );
  expect(() => agentSpecFromRecord({ ...record(), retry: null })).toThrow(
    'stored agent "coder" v3 is not a valid spec',
  );
});
