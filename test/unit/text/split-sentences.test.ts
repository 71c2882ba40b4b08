import { splitSentences, wordSpans } from '../../../media/text';

const sentences = (text: string) =>
  splitSentences(text).map(({ start, end }) => text.slice(start, end).trim());

describe('splitSentences', () => {
  test('English: abbreviations, initials and decimals do not end a sentence', () => {
    expect(
      sentences(
        'Dr. Smith paid $3.50 today. See e.g. The docs, i.e. The manual. It works! Does it? J. R. R. Tolkien wrote it.',
      ),
    ).toEqual([
      'Dr. Smith paid $3.50 today.',
      'See e.g. The docs, i.e. The manual.',
      'It works!',
      'Does it?',
      'J. R. R. Tolkien wrote it.',
    ]);
  });

  test('Korean: 다. 요. ? ! end sentences, decimals do not', () => {
    expect(
      sentences('배포를 시작합니다. 괜찮을까요? 좋아요! 버전은 3.14입니다.다음 단계로 가요.'),
    ).toEqual([
      '배포를 시작합니다.',
      '괜찮을까요?',
      '좋아요!',
      '버전은 3.14입니다.',
      '다음 단계로 가요.',
    ]);
  });

  test('Japanese: 。！？ end sentences without spaces', () => {
    expect(sentences('今日は晴れです。散歩に行きましょう！本当ですか？はい')).toEqual([
      '今日は晴れです。',
      '散歩に行きましょう！',
      '本当ですか？',
      'はい',
    ]);
  });

  test('Chinese: 。！？ and the full-width semicolon end sentences', () => {
    expect(sentences('今天天气很好。我们去散步吧！真的吗？是的；我们走。')).toEqual([
      '今天天气很好。',
      '我们去散步吧！',
      '真的吗？',
      '是的；',
      '我们走。',
    ]);
  });

  test('a line break ends a sentence; an abbreviation before a line break does too', () => {
    expect(sentences('제목 없음\n두 번째 줄\nSee Dr.\nNext')).toEqual([
      '제목 없음',
      '두 번째 줄',
      'See Dr.',
      'Next',
    ]);
  });

  test('spans tile the text; empty text has none', () => {
    const text = '  Hello there.  Next one.\n\n끝.  ';
    const spans = splitSentences(text);
    expect(spans[0]!.start).toBe(0);
    expect(spans[spans.length - 1]!.end).toBe(text.length);
    for (let index = 1; index < spans.length; index += 1) {
      expect(spans[index]!.start).toBe(spans[index - 1]!.end);
    }
    expect(splitSentences('')).toEqual([]);
  });

  test('long texts are segmented in windows with the same result as one pass', () => {
    const text = 'Short one. Another, longer sentence follows here! 한국어 문장입니다. '.repeat(
      400,
    );
    const spans = splitSentences(text);
    const reference = [...new Intl.Segmenter('en', { granularity: 'sentence' }).segment(text)];
    expect(spans.map(({ start }) => start)).toEqual(reference.map(({ index }) => index));
  });
});

describe('wordSpans', () => {
  test('Chinese is cut into dictionary words; spaces and punctuation stay with the word before', () => {
    const text = '我们去散步吧，好吗 OK?';
    expect(
      wordSpans(text, { start: 0, end: text.length }).map(({ start, end }) =>
        text.slice(start, end),
      ),
    ).toEqual(['我们', '去', '散步', '吧，', '好', '吗 ', 'OK?']);
  });
});
