import {
  countInSlices,
  createEstimatedTokenCounter,
  loadTokenCounter,
  resolveTokenizerTarget,
} from '../../../models/tokens';

describe('resolveTokenizerTarget', () => {
  test.each([
    ['gpt-4o-mini', { family: 'openai', encoding: 'o200k_base' }],
    ['gpt-5', { family: 'openai', encoding: 'o200k_base' }],
    ['o3-mini', { family: 'openai', encoding: 'o200k_base' }],
    ['gpt-4-turbo', { family: 'openai', encoding: 'cl100k_base' }],
    ['text-embedding-3-small', { family: 'openai', encoding: 'cl100k_base' }],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', { family: 'anthropic' }],
    ['claude-3-5-haiku-latest', { family: 'anthropic' }],
    ['amazon.titan-text-express-v1', { family: 'bedrock-titan' }],
    ['meta.llama3-70b-instruct-v1:0', { family: 'generic' }],
  ])('%s', (model, target) => {
    expect(resolveTokenizerTarget(model)).toEqual(target);
  });
});

describe('OpenAI counters (exact)', () => {
  test('count with the real encodings', async () => {
    const o200k = await loadTokenCounter('gpt-4o');
    const cl100k = await loadTokenCounter('gpt-4');
    expect(o200k).toMatchObject({ family: 'openai', encoding: 'o200k_base', exact: true });
    expect(cl100k).toMatchObject({ family: 'openai', encoding: 'cl100k_base', exact: true });
    expect(o200k.count('')).toBe(0);
    expect(o200k.count('hello world')).toBe(2);
    expect(cl100k.count('hello world')).toBe(2);
    // o200k has far more Korean merges than cl100k.
    const korean = '안녕하세요. 오늘은 결제 서비스에 로그인을 추가합니다.';
    expect(o200k.count(korean)).toBeLessThan(cl100k.count(korean));
  });

  test('the same encoding is loaded once and shared', async () => {
    const [first, second] = await Promise.all([
      loadTokenCounter('gpt-4o'),
      loadTokenCounter({ family: 'openai' }),
    ]);
    expect(first).toBe(second);
  });

  test('counts exactly what gpt-tokenizer counts, on mixed text and character soup', async () => {
    const plain = { disallowedSpecial: new Set<string>() };
    const o200k = await import('gpt-tokenizer/encoding/o200k_base');
    const cl100k = await import('gpt-tokenizer/encoding/cl100k_base');
    const pieces = [
      'a',
      'Z',
      ' ',
      '  ',
      '\n',
      '\r\n',
      '\t',
      '1',
      '1234',
      '.',
      "'s",
      "'LL",
      '’',
      'é',
      'e\u0301',
      '한',
      '글',
      '日本',
      '😀',
      '\ud800',
      '<|endoftext|>',
      '/',
      '//',
      ' \n',
      '!',
      'ß',
      'Ⅻ',
      '٣',
      '\u00a0',
      '\u3000',
      'ǅ',
      'HTTPServer',
      'don’t',
      '---',
      '```ts\n',
    ];
    let state = 11;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 4294967296;
    };
    const texts = Array.from({ length: 3_000 }, () =>
      Array.from(
        { length: 1 + Math.floor(next() * 30) },
        () => pieces[Math.floor(next() * pieces.length)],
      ).join(''),
    );
    texts.push(
      '## Recall\n\nThe `MemoryService.recall()` call — scores = 0.7·similarity + 0.15·recency.\n',
      "결제 서비스에 로그인 기능을 추가해 주세요. 来週までに。 It's done; they're HERE.",
    );
    for (const [model, library] of [
      ['gpt-4o', o200k],
      ['gpt-4', cl100k],
    ] as const) {
      const counter = await loadTokenCounter(model);
      // Twice: the second pass reads the remembered piece counts.
      for (let pass = 0; pass < 2; pass += 1) {
        const wrong = texts.filter(
          (text) => counter.count(text) !== library.countTokens(text, plain),
        );
        expect(wrong).toEqual([]);
      }
    }
  });

  test('countWithin: the exact count up to the limit, a number above it past the limit', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const text = `${'The orders service keeps its rows in PostgreSQL; '.repeat(400)}${'z'.repeat(2_000)}`;
    const total = counter.count(text);
    expect(counter.countWithin?.(text, total)).toBe(total);
    expect(counter.countWithin?.(text, total + 1_000)).toBe(total);
    for (const limit of [0, 1, 100, total - 1]) {
      const within = counter.countWithin?.(text, limit) ?? -1;
      expect(within).toBeGreaterThan(limit);
      expect(within).toBeLessThanOrEqual(total);
    }
  });

  test('special-token text in user input is counted as text, not rejected', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    expect(counter.count('<|endoftext|> hi')).toBeGreaterThan(3);
  });

  test('very long runs are counted in slices: linear time, close to the exact count', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const started = Date.now();
    expect(counter.count('a'.repeat(200_000))).toBeGreaterThan(10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    const run = 'abcdefghij'.repeat(100);
    const slices: string[] = [];
    expect(countInSlices(run, (piece) => slices.push(piece) && piece.length)).toBe(run.length);
    expect(slices.join('')).toBe(run);
    expect(Math.max(...slices.map((slice) => slice.length))).toBeLessThanOrEqual(256);
    const sliced = counter.count(run);
    const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
    const direct = countTokens(run);
    expect(Math.abs(sliced - direct) / direct).toBeLessThan(0.05);
  });
});

describe('estimated counters', () => {
  test('are labelled estimates and err on the high side of cl100k for ko/ja/zh/en', async () => {
    const cl100k = await loadTokenCounter('gpt-4');
    const anthropic = await loadTokenCounter('us.anthropic.claude-sonnet-4-20250514-v1:0');
    expect(anthropic).toMatchObject({ family: 'anthropic', encoding: 'estimate', exact: false });
    const samples = [
      '결제 서비스에 로그인 기능을 추가해 주세요. 다음 주까지 테스트를 완료할 예정입니다.',
      'ログイン機能を追加してください。来週までにテストを完了する予定です。',
      '为账单服务添加登录功能。我们计划下周之前完成所有测试。',
      'Add OAuth login to the billing service and write the tests for it.',
    ];
    for (const sample of samples) {
      expect(anthropic.count(sample)).toBeGreaterThanOrEqual(cl100k.count(sample));
      expect(anthropic.count(sample)).toBeLessThan(cl100k.count(sample) * 2);
    }
  });

  test('are subadditive, so summed sentence counts bound the chunk count', () => {
    const counter = createEstimatedTokenCounter('generic');
    const parts = ['다음 주까지 완료합니다. ', 'Then we ship it! ', '来週です。', '😀 42'];
    const sum = parts.reduce((total, part) => total + counter.count(part), 0);
    expect(counter.count(parts.join(''))).toBeLessThanOrEqual(sum);
    expect(counter.count('')).toBe(0);
  });

  test('countWithin: the same count up to the limit (emoji across block edges too), above it past the limit', () => {
    const counter = createEstimatedTokenCounter('anthropic');
    // 2,047 letters, then emoji: surrogate pairs straddle the 2,048-character blocks.
    const text = `${'a'.repeat(2_047)}${'😀'.repeat(3_000)} 다음 주까지 완료합니다.`;
    const total = counter.count(text);
    expect(counter.countWithin?.(text, total)).toBe(total);
    expect(counter.countWithin?.(text, Infinity)).toBe(total);
    for (const limit of [0, 500, total - 1]) {
      const within = counter.countWithin?.(text, limit) ?? -1;
      expect(within).toBeGreaterThan(limit);
      expect(within).toBeLessThanOrEqual(total);
    }
  });
});
