import { chunkText, splitSentences, type TextChunk } from '../../../media/text';
import {
  createEstimatedTokenCounter,
  loadTokenCounter,
  type TokenCounter,
} from '../../../models/tokens';
import { splitsCountsAt } from '../../../models/tokens/openai-token-counter';

const samples = {
  ko: [
    '오늘 회의에서는 결제 서비스에 OAuth 로그인을 추가하는 방안을 논의했습니다.',
    '보안팀은 토큰 저장 방식을 다시 검토해 달라고 요청했어요.',
    '일정이 괜찮을까요?',
    '다음 주 수요일까지 설계 문서를 마무리하겠습니다!',
    '테스트 환경은 이미 준비되어 있습니다.',
    '배포 전에 성능 측정을 한 번 더 해야 해요.',
    '고객 데이터는 암호화된 상태로만 저장됩니다.',
    '질문이 있으면 언제든지 말씀해 주세요.',
  ].join(' '),
  ja: [
    '本日の会議では決済サービスへのログイン機能の追加について話し合いました。',
    'セキュリティチームはトークンの保存方法を見直すよう求めています！',
    'スケジュールは大丈夫でしょうか？',
    '来週の水曜日までに設計書を仕上げます。',
    'テスト環境はすでに準備できています。',
    'リリース前にもう一度性能を測定する必要があります。',
    '顧客データは暗号化された状態でのみ保存されます。',
  ].join(''),
  zh: [
    '今天的会议讨论了为支付服务添加登录功能的方案。',
    '安全团队要求重新审查令牌的存储方式；我们同意了。',
    '时间安排可以吗？',
    '下周三之前我们会完成设计文档！',
    '测试环境已经准备好了。',
    '发布之前还需要再做一次性能测试。',
    '客户数据只会以加密的形式保存。',
  ].join(''),
  en: [
    'Dr. Kim opened the meeting at 9.30 with a short review of the billing service.',
    'The team agreed to add OAuth login, e.g. Google and GitHub, before the next release.',
    'Is the schedule realistic?',
    'Security asked for a second look at how tokens are stored!',
    'The test environment is ready, and the staging data is anonymised.',
    'Before the release we will measure performance once more.',
    'Customer data is only ever stored encrypted.',
  ].join(' '),
};

function expectValidChunks(
  source: string,
  chunks: TextChunk[],
  counter: TokenCounter,
  maxTokens: number,
  overlapTokens: number,
  requireOverlap = overlapTokens > 0,
) {
  expect(chunks.length).toBeGreaterThan(1);
  chunks.forEach((chunk, index) => {
    expect(chunk.index).toBe(index);
    expect(source.slice(chunk.start, chunk.end)).toBe(chunk.text);
    expect(chunk.text).toBe(chunk.text.trim());
    expect(counter.count(chunk.text)).toBe(chunk.tokenCount);
    expect(chunk.tokenCount).toBeLessThanOrEqual(maxTokens);
    const previous = chunks[index - 1];
    if (previous === undefined) {
      expect(chunk.overlapEnd).toBe(chunk.start);
      return;
    }
    expect(chunk.start).toBeGreaterThan(previous.start);
    expect(chunk.end).toBeGreaterThan(previous.end);
    // No text is skipped between neighbours.
    expect(source.slice(previous.end, Math.max(previous.end, chunk.start)).trim()).toBe('');
    if (requireOverlap) expect(chunk.start).toBeLessThan(previous.end);
    if (chunk.start >= previous.end) {
      expect(chunk.overlapEnd).toBe(chunk.start);
    } else {
      expect(chunk.overlapEnd).toBe(previous.end);
      const overlap = source.slice(chunk.start, chunk.overlapEnd);
      expect(previous.text.endsWith(overlap)).toBe(true);
      expect(counter.count(overlap.trim())).toBeLessThanOrEqual(overlapTokens);
    }
  });
  expect(source.slice(0, chunks[0]!.start).trim()).toBe('');
  expect(source.slice(chunks[chunks.length - 1]!.end).trim()).toBe('');
}

/** Offsets where sentences end (after trimming), to check chunks end on them. */
function sentenceEnds(text: string): Set<number> {
  return new Set(splitSentences(text).map(({ end }) => text.slice(0, end).trimEnd().length));
}

describe.each(['o200k_base', 'estimate'] as const)('chunkText with the %s counter', (encoding) => {
  let counter: TokenCounter;
  beforeAll(async () => {
    counter =
      encoding === 'estimate'
        ? createEstimatedTokenCounter('anthropic')
        : await loadTokenCounter({ family: 'openai', encoding });
  });

  test.each(Object.keys(samples) as Array<keyof typeof samples>)(
    '%s: budget respected, cuts on sentence ends, overlap in tokens',
    (language) => {
      const source = samples[language];
      const maxTokens = encoding === 'estimate' ? 80 : 50;
      const chunks = chunkText(source, { maxTokens, overlapTokens: 12, counter });
      expectValidChunks(source, chunks, counter, maxTokens, 12);
      const ends = sentenceEnds(source);
      for (const chunk of chunks) expect(ends.has(chunk.end)).toBe(true);
    },
  );

  test('without overlap the chunks partition the text', () => {
    const source = samples.en;
    const chunks = chunkText(source, { maxTokens: 40, counter });
    expectValidChunks(source, chunks, counter, 40, 0);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(source);
  });

  test('a text within the budget is one chunk', () => {
    const chunks = chunkText(`  ${samples.en}\n`, { maxTokens: 4000, overlapTokens: 100, counter });
    expect(chunks).toEqual([
      {
        index: 0,
        text: samples.en,
        start: 2,
        end: 2 + samples.en.length,
        tokenCount: counter.count(samples.en),
        overlapEnd: 2,
      },
    ]);
  });

  test('a sentence over the budget is cut at clauses, then words', () => {
    const clauses =
      '첫 번째 조건을 확인하고, 두 번째 조건도 확인하고, 세 번째 조건까지 확인한 다음, 마지막으로 결과를 기록합니다.';
    // A budget every clause fits in, but no two clauses together.
    const clauseBudget = Math.max(
      ...clauses.split(', ').map((clause) => counter.count(`${clause},`)),
    );
    const clauseChunks = chunkText(clauses, { maxTokens: clauseBudget, counter });
    expectValidChunks(clauses, clauseChunks, counter, clauseBudget, 0);
    expect(clauseChunks).toHaveLength(4);
    for (const chunk of clauseChunks.slice(0, -1)) expect(chunk.text.endsWith(',')).toBe(true);

    const words = Array.from({ length: 60 }, (_, index) => `word${index}`).join(' ');
    const wordChunks = chunkText(words, { maxTokens: 20, overlapTokens: 5, counter });
    expectValidChunks(words, wordChunks, counter, 20, 5);
    for (const chunk of wordChunks) {
      expect(words[chunk.start - 1] ?? ' ').toBe(' ');
      expect(words[chunk.end] ?? ' ').toBe(' ');
    }
  });

  test('Chinese without punctuation is cut between words, not inside them', () => {
    const source = '我们计划下周之前完成所有测试并且提交代码审查然后发布新版本'.repeat(4);
    const chunks = chunkText(source, { maxTokens: 20, overlapTokens: 4, counter });
    expectValidChunks(source, chunks, counter, 20, 4);
    const words = new Set(
      [...new Intl.Segmenter('zh', { granularity: 'word' }).segment(source)].map(
        ({ index }) => index,
      ),
    );
    for (const chunk of chunks) expect(words.has(chunk.start)).toBe(true);
  });

  test('offsets stay exact after emoji (surrogate pairs)', () => {
    const source = '😀 배포 완료! 🚀 Next step is review. 👨‍👩‍👧 가족 여행은 다음 달이에요. 끝.';
    const chunks = chunkText(source, { maxTokens: 12, overlapTokens: 3, counter });
    expectValidChunks(source, chunks, counter, 12, 3, false);
  });
});

describe('chunkText options', () => {
  const counter = createEstimatedTokenCounter();

  test.each([
    [{ maxTokens: 0 }],
    [{ maxTokens: 1.5 }],
    [{ maxTokens: 10, overlapTokens: 10 }],
    [{ maxTokens: 10, overlapTokens: -1 }],
  ])('rejects %j', (options) => {
    expect(() => chunkText('text', { ...options, counter })).toThrow(RangeError);
  });
});

describe("exact counts split at the chunker's cut positions", () => {
  // Characters chosen to stress the pre-tokenizer rules: contractions, marks, digits, CJK,
  // line breaks, exotic whitespace, symbols and surrogate pairs.
  const alphabet = [
    ...`aZé'’ s.,!?\n\r\t\u3000\u00A0/0123٣²-—(<|>)_#@결제가の日本。、！？ー\u0301\u3099AB`,
    '😀',
    '𠀀',
    'e\u0301',
    "'s",
    "'ll",
    '  ',
    '\r\n',
    'a'.repeat(300),
    ' '.repeat(300),
  ];

  test.each(['o200k_base', 'cl100k_base'] as const)(
    '%s: count(a, b) = count(a, p) + count(p, b) wherever splitsCountsAt(p)',
    async (encoding) => {
      const counter = await loadTokenCounter({ family: 'openai', encoding });
      let state = 7;
      const random = () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return state / 2 ** 31;
      };
      let checked = 0;
      for (let round = 0; round < 400; round += 1) {
        let text = '';
        const length = 2 + Math.floor(random() * 24);
        for (let index = 0; index < length; index += 1) {
          text += alphabet[Math.floor(random() * alphabet.length)];
        }
        for (let position = 1; position < text.length; position += 1) {
          if (!splitsCountsAt(text, position)) continue;
          const start = Math.floor(random() * position);
          const end = position + 1 + Math.floor(random() * (text.length - position));
          for (const [a, b] of [
            [0, text.length],
            [start, end],
          ] as const) {
            checked += 1;
            expect(counter.count(text.slice(a, b))).toBe(
              counter.count(text.slice(a, position)) + counter.count(text.slice(position, b)),
            );
          }
        }
      }
      expect(checked).toBeGreaterThan(1000);
    },
  );

  test('mixed paragraphs: every chunk count is the exact count, within the budget', async () => {
    const counter = await loadTokenCounter('gpt-4o');
    const source = Array.from(
      { length: 12 },
      (_, index) => [samples.en, samples.ko, samples.ja, samples.zh][index % 4],
    ).join('\n\n');
    for (const [maxTokens, overlapTokens] of [
      [60, 16],
      [200, 40],
      [45, 0],
    ] as const) {
      const chunks = chunkText(source, { maxTokens, overlapTokens, counter });
      expectValidChunks(source, chunks, counter, maxTokens, overlapTokens);
    }
  });
});
