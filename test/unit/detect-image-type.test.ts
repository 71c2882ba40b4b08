import { declaredImageType, detectImageType, parseTesseractTsv } from '../../media/image';

const bytes = (...parts: (number[] | string)[]): Buffer =>
  Buffer.concat(
    parts.map((part) => Buffer.from(typeof part === 'string' ? Buffer.from(part, 'latin1') : part)),
  );

/** An ISO-BMFF `ftyp` box with a major brand and compatible brands. */
function ftyp(major: string, ...compatible: string[]): Buffer {
  const size = 16 + compatible.length * 4;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(size);
  return bytes([...header], 'ftyp', major, [0, 0, 0, 0], compatible.join(''));
}

describe('detectImageType', () => {
  test.each([
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0])],
    ['png', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['webp', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')],
    ['gif', bytes('GIF89a')],
    ['tiff', bytes([0x49, 0x49, 0x2a, 0x00])],
    ['avif', ftyp('avif', 'mif1', 'miaf')],
    ['avif', ftyp('mif1', 'miaf', 'avif')],
  ])('%s by magic bytes', (type, input) => {
    expect(detectImageType(input)).toEqual({
      kind: 'image',
      type,
      mimeType: `image/${type}`,
    });
  });

  test.each([
    ['PDF document', bytes('%PDF-1.7\n')],
    ['ZIP archive', bytes([0x50, 0x4b, 0x03, 0x04])],
    ['gzip archive', bytes([0x1f, 0x8b, 0x08])],
    ['ISO media (heic)', ftyp('heic', 'mif1')],
    ['SVG document', bytes('  <svg xmlns="http://www.w3.org/2000/svg"/>')],
  ])('names %s as not an image', (description, input) => {
    expect(detectImageType(input)).toEqual({ kind: 'other', description });
  });

  test('empty, short and text input are unknown', () => {
    expect(detectImageType(Buffer.alloc(0))).toEqual({ kind: 'unknown' });
    expect(detectImageType(bytes([0xff]))).toEqual({ kind: 'unknown' });
    expect(detectImageType(bytes('hello.png'))).toEqual({ kind: 'unknown' });
  });
});

describe('declaredImageType', () => {
  test('reads content types and file names, or nothing', () => {
    expect(declaredImageType('image/PNG; charset=binary')).toBe('png');
    expect(declaredImageType('image/jpg')).toBe('jpeg');
    expect(declaredImageType('Holiday.JPEG')).toBe('jpeg');
    expect(declaredImageType('scan.tif')).toBe('tiff');
    expect(declaredImageType('application/octet-stream')).toBeUndefined();
    expect(declaredImageType('notes.txt')).toBeUndefined();
  });
});

describe('parseTesseractTsv', () => {
  const header =
    'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
  const word = (block: number, paragraph: number, line: number, conf: number, text: string) =>
    `5\t1\t${block}\t${paragraph}\t${line}\t1\t0\t0\t10\t10\t${conf}\t${text}`;

  test('joins words into lines and paragraphs and averages word confidence', () => {
    const tsv = [
      header,
      '1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t',
      word(1, 1, 1, 90, 'Hello'),
      word(1, 1, 1, 80, 'world'),
      word(1, 1, 2, 70, '안녕하세요'),
      word(2, 1, 1, 60, 'Next'),
      word(2, 1, 1, -1, ''),
    ].join('\n');
    const result = parseTesseractTsv(tsv);
    expect(result.text).toBe('Hello world\n안녕하세요\n\nNext');
    expect(result.meanConfidence).toBe(75);
    expect(result.words).toHaveLength(4);
  });

  test('no words gives empty text and zero confidence', () => {
    expect(parseTesseractTsv(`${header}\n`)).toEqual({ text: '', meanConfidence: 0, words: [] });
  });
});
