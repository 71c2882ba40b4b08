import { analyzeText } from '../../activities/session/analyze-request';

describe('analyzeText', () => {
  test('normalises Unicode and whitespace', () => {
    expect(analyzeText('  Ｆｉｘ   the\tlogin\n').normalizedText).toBe('Fix the login');
  });

  test('detects the language by dominant script', () => {
    expect(analyzeText('Add OAuth login to billing').language).toBe('en');
    expect(analyzeText('결제 서비스에 로그인을 추가').language).toBe('ko');
    expect(analyzeText('ログイン機能を追加してください').language).toBe('ja');
    expect(analyzeText('为账单服务添加登录').language).toBe('zh');
    expect(analyzeText('1234 !!').language).toBe('und');
  });

  test('extracts frequent content words and the rule intents', () => {
    const analysis = analyzeText('Test the export, then test the export again and review it');
    expect(analysis.keywords.slice(0, 2)).toEqual(['export', 'test']);
    expect(analysis.intents).toEqual(['test', 'review']);
    expect(analysis.wordCount).toBe(11);
  });
});
