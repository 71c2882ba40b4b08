import {
  chunkText,
  detectLanguage,
  maskPii,
  normalizeText,
  type TextChunk,
} from '../../../media/text';
import {
  createEstimatedTokenCounter,
  loadTokenCounter,
  type TokenCounter,
} from '../../../models/tokens';

/** Deterministic pseudo-random text (a linear congruential generator, fixed seed). */
function pseudoRandom(length: number, alphabet: string, seed = 42): string {
  let state = seed;
  let text = '';
  for (let index = 0; index < length; index += 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    text += alphabet[state % alphabet.length];
  }
  return text;
}

function expectWithinBudget(
  source: string,
  chunks: TextChunk[],
  counter: TokenCounter,
  maxTokens: number,
) {
  for (const chunk of chunks) {
    expect(source.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunk.tokenCount).toBeLessThanOrEqual(maxTokens);
    expect(counter.count(chunk.text)).toBe(chunk.tokenCount);
    expect(chunk.text).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  }
  const covered = chunks.reduce((end, chunk) => {
    expect(source.slice(end, Math.max(end, chunk.start)).trim()).toBe('');
    return Math.max(end, chunk.end);
  }, 0);
  expect(source.slice(covered).trim()).toBe('');
}

function graphemeBoundaries(text: string): Set<number> {
  const boundaries = new Set([text.length]);
  for (const { index } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(
    text,
  )) {
    boundaries.add(index);
  }
  return boundaries;
}

describe('hostile inputs', () => {
  let o200k: TokenCounter;
  beforeAll(async () => {
    o200k = await loadTokenCounter('gpt-4o');
  });

  test.each([
    ['300,000 letters without a space', 'a'.repeat(300_000)],
    [
      '100,000 Hangul syllables without a space',
      pseudoRandom(100_000, '가나다라마바사아자차카타파하결제서비스'),
    ],
    [
      '100,000 base64 characters',
      pseudoRandom(100_000, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'),
    ],
    [
      '50,000 Chinese characters without punctuation',
      '我们计划下周之前完成所有测试并且提交代码审查'.repeat(2_300),
    ],
  ])('%s: chunked within budget in bounded time', (_name, source) => {
    const started = Date.now();
    const chunks = chunkText(source, { maxTokens: 512, overlapTokens: 32, counter: o200k });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(chunks.length).toBeGreaterThan(10);
    expectWithinBudget(source, chunks, o200k, 512);
  });

  test('empty and whitespace-only text give no chunks', () => {
    for (const source of ['', ' ', '\n\n\t  \u3000 \n']) {
      expect(chunkText(source, { maxTokens: 10, overlapTokens: 2, counter: o200k })).toEqual([]);
    }
  });

  test('emoji sequences and flags are never cut, not even through a surrogate pair', () => {
    const source = '👨‍👩‍👧‍👦🇰🇷👍🏽'.repeat(40) + ' 끝! ' + '🏳️‍🌈'.repeat(20);
    const boundaries = graphemeBoundaries(source);
    for (const counter of [o200k, createEstimatedTokenCounter()]) {
      const chunks = chunkText(source, { maxTokens: 24, overlapTokens: 8, counter });
      expectWithinBudget(source, chunks, counter, 24);
      for (const chunk of chunks) {
        expect(boundaries.has(chunk.start)).toBe(true);
        expect(boundaries.has(chunk.end)).toBe(true);
      }
    }
  });

  test('a single grapheme cluster over the budget is cut into code points', () => {
    const zalgo = 'a' + '\u0301\u0316\u0317'.repeat(100) + ' ok';
    const chunks = chunkText(zalgo, { maxTokens: 8, counter: o200k });
    expectWithinBudget(zalgo, chunks, o200k, 8);
  });

  test('a budget below one character is a clear error', () => {
    const counter = createEstimatedTokenCounter();
    expect(counter.count('😀')).toBeGreaterThan(2);
    expect(() => chunkText('😀', { maxTokens: 2, counter })).toThrow(
      /below the \d+ tokens of one character/,
    );
  });

  test('special-token text is chunked as plain text', () => {
    const source = '<|endoftext|> <|im_start|>system '.repeat(50);
    const chunks = chunkText(source, { maxTokens: 30, counter: o200k });
    expectWithinBudget(source, chunks, o200k, 30);
  });

  test('PII masking stays fast on long adversarial runs', () => {
    const inputs = [
      '1'.repeat(1_000_000),
      '1 '.repeat(300_000),
      'a@'.repeat(300_000),
      '1.1.1.'.repeat(150_000),
      ':a'.repeat(300_000),
      'AB12 '.repeat(150_000),
      'key='.repeat(200_000),
      pseudoRandom(500_000, '0123456789-@.:abcdefABCDEF '),
    ];
    for (const input of inputs) {
      const started = Date.now();
      maskPii(input);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });

  test('normalisation and detection survive lone surrogates and control characters', () => {
    const input = 'a\uD83D b\u0000c\uDE00 안녕하세요\r\n';
    const normalized = normalizeText(input);
    expect(normalized).toBe('a\uFFFD bc\uFFFD 안녕하세요\n');
    expect(detectLanguage(normalized).language).toBe('ko');
    expect(maskPii(normalized).text).toBe(normalized);
  });
});
