import { detectLanguage } from '../../../media/text';

describe('detectLanguage', () => {
  test.each([
    ['결제 서비스에 로그인 기능을 추가해 주세요. 다음 주까지 완료할 예정입니다.', 'ko'],
    ['ログイン機能を追加してください。来週までにテストを完了する予定です。', 'ja'],
    ['为账单服务添加登录功能。我们计划下周之前完成所有测试。', 'zh'],
    ['Add OAuth login to the billing service and write the tests for it.', 'en'],
  ] as const)('%s → %s', (text, language) => {
    const detection = detectLanguage(text);
    expect(detection.language).toBe(language);
    expect(detection.mixed).toBe(false);
    expect(detection.confidence).toBeGreaterThan(0.9);
  });

  test('Korean with English terms is Korean and mixed', () => {
    const detection = detectLanguage('결제 서비스에 OAuth login 기능을 추가');
    expect(detection.language).toBe('ko');
    expect(detection.mixed).toBe(true);
    expect(detection.scripts.latin).toBeGreaterThan(0.2);
  });

  test('Japanese kanji with a little kana is still Japanese', () => {
    expect(detectLanguage('東京都千代田区の会議室で打ち合わせ').language).toBe('ja');
  });

  test('text without letters, or Latin text that is not English, is unknown', () => {
    for (const text of ['', '   ', '1234 !! 😀 ...', '2024-01-15']) {
      expect(detectLanguage(text)).toMatchObject({ language: 'unknown', confidence: 0 });
    }
    expect(detectLanguage('Der schnelle braune Fuchs springt über den faulen Hund.').language).toBe(
      'unknown',
    );
    expect(detectLanguage('Быстрая коричневая лиса прыгает').language).toBe('unknown');
  });
});
