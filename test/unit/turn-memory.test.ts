/** A session's working memory of its earlier turns (core/session/turn-memory.ts). */
import {
  MAX_DIGEST_CHARS,
  MAX_MEMORY_TURNS,
  MAX_RECAP_CHARS,
  RULE_RECAP_BANNER,
  VERBATIM_TURNS,
  decisionText,
  digestOf,
  ruleBasedRecap,
  turnMemoryOf,
  turnsToSummarise,
  type TurnSummary,
} from '../../core/session';
import { summarizeTurnWith } from '../../activities/session/summarize-turn';
import type { ModelProvider, ModelRequest } from '../../models/model-provider';
import { createOfflineProvider } from '../../models/offline-provider';

const record = (turn: number, extra: Partial<TurnSummary> = {}): TurnSummary => ({
  turn,
  request: `request ${turn}`,
  outcome: 'succeeded',
  steps: 2,
  succeededSteps: 2,
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:00.000Z',
  summary: `a (code): succeeded — line ${turn}`,
  digest: `### a (code)\ndesign of turn ${turn}`,
  ...extra,
});

test('a digest keeps every step under its heading and stays within MAX_DIGEST_CHARS', () => {
  const digest = digestOf([
    { stepId: 'design', agent: 'architect', output: 'orders service on MySQL '.repeat(400) },
    { stepId: 'code', agent: 'code', output: 'short' },
    { stepId: 'empty', agent: 'test', output: '  ' },
  ]);
  expect(digest.length).toBeLessThanOrEqual(MAX_DIGEST_CHARS);
  expect(digest).toContain('### design (architect)\norders service on MySQL');
  expect(digest).toContain('### code (code)\nshort');
  expect(digest).not.toContain('### empty');
  expect(digestOf([])).toBe('');
});

test('the rule-based summary says no model wrote it and keeps request, decision and outcome', () => {
  const recap = ruleBasedRecap(
    record(2, { decision: 'approved by ada: ship it', digest: 'x'.repeat(5_000) }),
  );
  expect(recap.startsWith(RULE_RECAP_BANNER)).toBe(true);
  expect(recap).toContain('Turn 2 asked: "request 2"');
  expect(recap).toContain('Plan approved by ada: ship it.');
  expect(recap).toContain('Outcome: succeeded (2/2 steps succeeded).');
  expect(recap.length).toBeLessThanOrEqual(MAX_RECAP_CHARS);
  expect(decisionText({ approved: false, by: 'bo', at: 'now' })).toBe('rejected by bo');
});

test('the recent turns go verbatim, older ones as summaries, at most MAX_MEMORY_TURNS', () => {
  const history = Array.from({ length: 30 }, (_, index) =>
    index < 25
      ? record(index + 1, {
          digest: undefined,
          recap: { text: `recap ${index + 1}`, by: 'model' },
        })
      : record(index + 1),
  );
  const memory = turnMemoryOf(history);
  expect(memory).toHaveLength(MAX_MEMORY_TURNS);
  expect(memory[0]?.turn).toBe(30 - MAX_MEMORY_TURNS + 1);
  const verbatim = memory.filter((item) => !item.summarised);
  expect(verbatim.map((item) => item.turn)).toEqual([28, 29, 30]);
  expect(verbatim[2]?.text).toBe('### a (code)\ndesign of turn 30');
  expect(memory.find((item) => item.turn === 20)?.text).toBe('recap 20');
  // A turn without a summary yet gets the rules' one (never its whole digest).
  expect(memory.find((item) => item.turn === 26)?.text).toContain(RULE_RECAP_BANNER);
});

test('turns are summarised once, when they leave the verbatim window', () => {
  const history = [
    record(1, { digest: undefined, recap: { text: 'done', by: 'rules' } }),
    record(2),
    record(3),
    record(4),
    record(5),
  ];
  expect(turnsToSummarise(history).map((item) => item.turn)).toEqual([2]);
  expect(turnsToSummarise(history.slice(0, VERBATIM_TURNS))).toEqual([]);
});

test('summarizeTurn: the model writes the summary; the offline model gets the rules’ one, which says so', async () => {
  const turn = record(4, { decision: 'approved by ada' });
  const offline = await summarizeTurnWith(createOfflineProvider(), { sessionId: 's-1', turn });
  expect(offline).toEqual({ text: ruleBasedRecap(turn), by: 'rules' });
  expect(offline.text.startsWith(RULE_RECAP_BANNER)).toBe(true);
  const requests: ModelRequest[] = [];
  const model: ModelProvider = {
    name: 'bedrock',
    model: 'm-1',
    generate: async (request) => {
      requests.push(request);
      return {
        text: `  ${'The orders service moved to PostgreSQL. '.repeat(40)}`,
        provider: 'bedrock',
        model: 'm-1',
        usage: { inputTokens: 10, outputTokens: 10 },
        stopReason: 'end_turn',
        latencyMs: 1,
        offline: false,
      };
    },
  };
  const written = await summarizeTurnWith(model, { sessionId: 's-1', turn });
  expect(written.by).toBe('model');
  expect(written.model).toBe('bedrock:m-1');
  expect(written.text.startsWith('The orders service moved to PostgreSQL.')).toBe(true);
  expect(written.text.length).toBe(MAX_RECAP_CHARS);
  expect(requests[0]?.messages[0]?.text).toContain('Session: s-1 · turn 4 · step memory-turn-4');
  expect(requests[0]?.messages[0]?.text).toContain('Decision on the plan: approved by ada');
  expect(requests[0]?.messages[0]?.text).toContain('design of turn 4');
});
