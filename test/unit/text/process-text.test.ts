import { processText } from '../../../media/text';

describe('processText', () => {
  const input =
    'Ｈｅｌｌｏ！ 홍길동 고객님, 연락처 010-1234-5678 과 hong@example.com 으로 안내드립니다.\r\n' +
    '결제 카드 4111 1111 1111 1111 는 등록되었습니다. 다음 주에 배송될 예정이에요. 감사합니다!';

  test('normalises, masks, detects, counts and chunks in one call', async () => {
    const result = await processText(input, {
      normalize: { form: 'NFKC' },
      model: 'gpt-4o',
      chunking: { maxTokens: 24, overlapTokens: 6 },
    });
    expect(result.text.startsWith('Hello! 홍길동 고객님, 연락처 [PHONE] 과 [EMAIL] 으로')).toBe(
      true,
    );
    expect(result.text).toContain('결제 카드 [CARD] 는');
    expect(result.text).not.toContain('\r');
    expect(result.findings.map((finding) => finding.kind)).toEqual(['phone', 'email', 'card']);
    expect(result.language).toMatchObject({ language: 'ko' });
    expect(result.tokenizer).toEqual({ family: 'openai', encoding: 'o200k_base', exact: true });
    expect(result.tokenCount).toBeGreaterThan(24);
    expect(result.chunks.length).toBeGreaterThan(1);
    for (const chunk of result.chunks) {
      expect(result.text.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.tokenCount).toBeLessThanOrEqual(24);
      expect(chunk.text).not.toContain('010-1234-5678');
    }
  });

  test('defaults: NFC, every PII kind, the generic estimate, no chunks', async () => {
    const result = await processText(input);
    expect(result.text.startsWith('Ｈｅｌｌｏ！')).toBe(true);
    expect(result.findings).toHaveLength(3);
    expect(result.tokenizer).toEqual({ family: 'generic', encoding: 'estimate', exact: false });
    expect(result.chunks).toEqual([]);
  });

  test('steps can be switched off', async () => {
    const result = await processText(input, {
      normalize: false,
      pii: false,
      model: 'claude-sonnet-4',
    });
    expect(result.text).toBe(input);
    expect(result.findings).toEqual([]);
    expect(result.tokenizer).toEqual({ family: 'anthropic', encoding: 'estimate', exact: false });
  });

  test('empty input', async () => {
    const result = await processText('', { chunking: { maxTokens: 10 } });
    expect(result).toMatchObject({ text: '', findings: [], tokenCount: 0, chunks: [] });
    expect(result.language.language).toBe('unknown');
  });

  test('an invalid budget is a RangeError', async () => {
    await expect(processText('text', { chunking: { maxTokens: 0 } })).rejects.toThrow(RangeError);
  });
});
