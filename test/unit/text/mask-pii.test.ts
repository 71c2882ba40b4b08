import { findPii, maskPii, type PiiKind } from '../../../media/text';

// Secret-shaped fixtures are assembled at run time so that secret scanners do not flag
// this file; none of them is a real credential.
const awsKeyId = 'AKIA' + 'IOSFODNN7' + 'EXAMPLE';
const openAiKey = 'sk-' + 'proj-' + 'Xq3vT9kLm2Np8Rs4Wy6Za1Bc5De7Fg0H';
const githubToken = 'gh' + 'p_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const base64Url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = [
  base64Url({ alg: 'HS256', typ: 'JWT' }),
  base64Url({ sub: '1234567890', name: 'Hong Gildong' }),
  'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
].join('.');
const bearer = 'mF_9.B5f-4.1JqM' + 'a8d7f6e5';
const genericSecret = '9f8e7d6c5b4a3928' + '1706f5e4d3c2b1a0';

/** The value each finding covers in the original text, for assertions. */
function values(text: string, kinds?: PiiKind[]) {
  return findPii(text, kinds ? { kinds } : {}).map(({ kind, start, end }) => [
    kind,
    text.slice(start, end),
  ]);
}

describe('maskPii on mixed Korean/English text', () => {
  const text = [
    '안녕하세요, 홍길동입니다. 메일은 hong.gildong@example.co.kr 이고 휴대폰은 010-1234-5678, 사무실은 02-123-4567 입니다.',
    'Please call +1 (415) 555-2671 or +44 20 7946 0958.',
    '결제 카드 4111 1111 1111 1111 로 결제했고, IBAN은 DE89 3704 0044 0532 0130 00 입니다.',
    `The deploy key ${awsKeyId} and ${openAiKey} leaked, plus ${githubToken}.`,
    `Authorization: Bearer ${bearer}`,
    `세션 토큰 ${jwt} 과 api_key=${genericSecret} 를 폐기하세요.`,
    '서버 주소 192.168.10.24 와 2001:db8:85a3::8a2e:370:7334 에서 접속했습니다.',
    '주민등록번호 900101-1234567 는 마스킹해야 합니다.',
  ].join('\n');

  test('finds every kind at its exact offsets', () => {
    expect(values(text)).toEqual([
      ['email', 'hong.gildong@example.co.kr'],
      ['phone', '010-1234-5678'],
      ['phone', '02-123-4567'],
      ['phone', '+1 (415) 555-2671'],
      ['phone', '+44 20 7946 0958'],
      ['card', '4111 1111 1111 1111'],
      ['iban', 'DE89 3704 0044 0532 0130 00'],
      ['aws-access-key', awsKeyId],
      ['api-key', openAiKey],
      ['github-token', githubToken],
      ['bearer-token', bearer],
      ['jwt', jwt],
      ['secret', genericSecret],
      ['ipv4', '192.168.10.24'],
      ['ipv6', '2001:db8:85a3::8a2e:370:7334'],
      ['kr-rrn', '900101-1234567'],
    ]);
  });

  test('masks with labels and keeps the surrounding Korean text intact', () => {
    const result = maskPii(text);
    expect(result.text).toContain('메일은 [EMAIL] 이고 휴대폰은 [PHONE], 사무실은 [PHONE] 입니다.');
    expect(result.text).toContain('결제 카드 [CARD] 로 결제했고, IBAN은 [IBAN] 입니다.');
    expect(result.text).toContain('Authorization: Bearer [BEARER_TOKEN]');
    expect(result.text).toContain('세션 토큰 [JWT] 과 api_key=[SECRET] 를 폐기하세요.');
    expect(result.text).toContain('주민등록번호 [KR_RRN] 는');
    for (const [, value] of values(text)) expect(result.text).not.toContain(value);
  });

  test('findings hold kinds and offsets only, and map into both texts', () => {
    const result = maskPii(text);
    expect(result.findings).toHaveLength(16);
    for (const finding of result.findings) {
      expect(Object.keys(finding).sort()).toEqual([
        'end',
        'kind',
        'maskedEnd',
        'maskedStart',
        'start',
      ]);
      expect(result.text.slice(finding.maskedStart, finding.maskedEnd)).toBe(
        `[${finding.kind.replace(/-/g, '_').toUpperCase()}]`,
      );
    }
    expect(JSON.stringify(result.findings)).not.toContain('hong.gildong');
  });

  test('partial style keeps only a hint', () => {
    const masked = maskPii(text, { style: 'partial' }).text;
    expect(masked).toContain('h***@example.co.kr');
    expect(masked).toContain('***-****-5678');
    expect(masked).toContain('**** **** **** 1111');
    expect(masked).toContain('DE** **** **** **** **30 00');
    expect(masked).toContain('900101-1******');
    expect(masked).toContain('192.168.*.*');
    expect(masked).toContain('AKIA********');
    expect(masked).toContain('ghp_********');
    expect(masked).not.toContain(githubToken.slice(4));
  });

  test('only the chosen kinds are masked, with custom labels', () => {
    const result = maskPii(text, { kinds: ['email', 'kr-rrn'], labels: { email: '<메일>' } });
    expect(result.findings.map((finding) => finding.kind)).toEqual(['email', 'kr-rrn']);
    expect(result.text).toContain('메일은 <메일> 이고');
    expect(result.text).toContain('010-1234-5678');
  });
});

describe('maskPii negatives and edge cases', () => {
  test('card-like digit runs that fail Luhn are not masked', () => {
    expect(values('주문번호 4111 1111 1111 1112 와 1234567890123 는 카드가 아닙니다')).toEqual([]);
    expect(values('Amex 378282246310005, Visa 4111-1111-1111-1111 2024')).toEqual([
      ['card', '378282246310005'],
      ['card', '4111-1111-1111-1111'],
    ]);
  });

  test('IBANs with a wrong check digit or length are not masked', () => {
    expect(values('GB82 WEST 1234 5698 7654 33 and DE89 3704 0044 0532 0130 0')).toEqual([]);
    expect(values('GB82WEST12345698765432 and FR14 2004 1010 0505 0001 3M02 606.')).toEqual([
      ['iban', 'GB82WEST12345698765432'],
      ['iban', 'FR14 2004 1010 0505 0001 3M02 606'],
    ]);
  });

  test('dates and invalid dates are not resident registration numbers', () => {
    const text =
      '날짜 2024-01-15, 20240115-1234567, 991332-1234567, 990230-2345678, 010229-3123456, 900101-9234567';
    expect(values(text, ['kr-rrn'])).toEqual([]);
    expect(values('000229-3123456 (윤년) 0102154123456', ['kr-rrn'])).toEqual([
      ['kr-rrn', '000229-3123456'],
      ['kr-rrn', '0102154123456'],
    ]);
  });

  test('the RRN checksum is optional', () => {
    const text = '900101-1234567 900101-1234568';
    expect(findPii(text, { kinds: ['kr-rrn'] })).toHaveLength(2);
    expect(findPii(text, { kinds: ['kr-rrn'], verifyRrnChecksum: true })).toEqual([
      { kind: 'kr-rrn', start: 15, end: 29 },
    ]);
  });

  test('low-entropy values after key= and version numbers are left alone', () => {
    const text =
      'token: placeholder-value-here, key=value, secret=aaaaaaaaaaaaaaaaaaaa, v1.2.3.4, 10.0.0.256, 12:30:45, ::1, 00:1A:2B:3C:4D:5E';
    expect(values(text)).toEqual([]);
  });

  test('passwords are masked whatever their entropy, asterisks are not', () => {
    expect(values('password=hunter22 pwd: ******')).toEqual([['secret', 'hunter22']]);
  });

  test('IPv6 forms accepted by the platform, trailing punctuation excluded', () => {
    expect(values('fe80::1%eth0, [2001:db8::1]:8080 and ::ffff:192.0.2.128.')).toEqual([
      ['ipv6', 'fe80::1%eth0'],
      ['ipv6', '2001:db8::1'],
      ['ipv6', '::ffff:192.0.2.128'],
    ]);
  });

  test('Korean and international phone formats', () => {
    expect(
      values('010 9876 5432, 01098765432, 031-123-4567, 070-1234-5678, +82 10-9876-5432'),
    ).toEqual([
      ['phone', '010 9876 5432'],
      ['phone', '01098765432'],
      ['phone', '031-123-4567'],
      ['phone', '070-1234-5678'],
      ['phone', '+82 10-9876-5432'],
    ]);
    expect(values('1999-2024, 2024-01-15, +12 3', ['phone'])).toEqual([]);
  });

  test('empty and PII-free text come back unchanged', () => {
    expect(maskPii('')).toEqual({ text: '', findings: [] });
    expect(maskPii('평범한 문장입니다. Nothing here.')).toEqual({
      text: '평범한 문장입니다. Nothing here.',
      findings: [],
    });
  });
});
