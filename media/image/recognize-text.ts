/**
 * OCR with Debian's `tesseract` CLI (tesseract-ocr + -eng, -kor). The image is validated
 * and normalised (grey PNG) with sharp first; tesseract reads it from stdin and writes TSV,
 * from which the text and the mean word confidence are taken.
 */
import { execFile } from 'node:child_process';
import { classifySharpError, inspectImage, openImage } from './inspect-image';
import { resolveImageLimits, type ImageLimits } from '../../core/media/image-limits';
import { MediaInputError } from '../media-input-error';

export interface RecognizeTextOptions {
  /** Tesseract language codes. Default `['eng', 'kor']`. */
  languages?: readonly string[];
  /** Kill tesseract after this long. Default 60 s. */
  timeoutMs?: number;
  /** Path of the tesseract binary. Default `tesseract` on PATH. */
  tesseractPath?: string;
  /** Page segmentation mode (tesseract `--psm`). Default 3 (automatic). */
  pageSegmentationMode?: number;
  limits?: Partial<ImageLimits>;
  declaredType?: string;
}

export interface RecognizedWord {
  text: string;
  /** 0–100. */
  confidence: number;
}

export interface RecognizedText {
  /** Lines joined by `\n`, paragraphs separated by a blank line. */
  text: string;
  /** Mean confidence of the recognised words, 0–100 (0 when there are none). */
  meanConfidence: number;
  words: RecognizedWord[];
}

const LANGUAGE_CODE = /^[a-z]{3}(_[a-z]+)?$/i;

/**
 * Recognises the text in an image. Throws `MediaInputError` for bad input or a timeout
 * (`timeout`); a missing or crashing tesseract is a plain `Error` (retryable).
 */
export async function recognizeText(
  bytes: Uint8Array,
  options: RecognizeTextOptions = {},
): Promise<RecognizedText> {
  const languages = options.languages ?? ['eng', 'kor'];
  if (languages.length === 0 || !languages.every((code) => LANGUAGE_CODE.test(code))) {
    throw new TypeError(`Invalid tesseract languages: ${JSON.stringify(languages)}`);
  }
  const limits = resolveImageLimits(options.limits);
  await inspectImage(bytes, { limits, declaredType: options.declaredType });
  let grey: Buffer;
  try {
    grey = await openImage(bytes, limits)
      .autoOrient()
      .flatten({ background: '#ffffff' })
      .greyscale()
      .png()
      .toBuffer();
  } catch (error) {
    throw classifySharpError(error);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  const tsv = await runTesseract(options.tesseractPath ?? 'tesseract', grey, timeoutMs, [
    '-l',
    languages.join('+'),
    '--psm',
    String(options.pageSegmentationMode ?? 3),
    'tsv',
  ]);
  return parseTesseractTsv(tsv);
}

function runTesseract(
  binary: string,
  image: Buffer,
  timeoutMs: number,
  extraArguments: string[],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      ['stdin', 'stdout', ...extraArguments],
      {
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 32 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, OMP_THREAD_LIMIT: '1' },
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve(stdout);
          return;
        }
        if (error.killed && error.signal === 'SIGKILL') {
          reject(new MediaInputError('timeout', `OCR did not finish within ${timeoutMs} ms`));
          return;
        }
        reject(
          new Error(`tesseract failed: ${error.message}; ${stderr.trim().slice(0, 500)}`, {
            cause: error,
          }),
        );
      },
    );
    child.stdin?.on('error', () => {
      // tesseract exited before reading all input; its exit status reports the failure.
    });
    child.stdin?.end(image);
  });
}

/** Parses tesseract's TSV output (level 5 rows are words). Exported for tests. */
export function parseTesseractTsv(tsv: string): RecognizedText {
  const words: RecognizedWord[] = [];
  const lines: string[] = [];
  let currentLineKey = '';
  let currentParagraphKey = '';
  let currentLine: string[] = [];
  const flush = (): void => {
    if (currentLine.length > 0) lines.push(currentLine.join(' '));
    currentLine = [];
  };
  for (const row of tsv.split('\n').slice(1)) {
    const columns = row.split('\t');
    if (columns.length < 12 || columns[0] !== '5') continue;
    const [, page, block, paragraph, line] = columns;
    const confidence = Number(columns[10]);
    const text = (columns[11] ?? '').trim();
    if (text === '' || !(confidence >= 0)) continue;
    const paragraphKey = `${page}/${block}/${paragraph}`;
    const lineKey = `${paragraphKey}/${line}`;
    if (lineKey !== currentLineKey) {
      flush();
      if (currentParagraphKey !== '' && paragraphKey !== currentParagraphKey) lines.push('');
      currentLineKey = lineKey;
      currentParagraphKey = paragraphKey;
    }
    currentLine.push(text);
    words.push({ text, confidence });
  }
  flush();
  const meanConfidence =
    words.length === 0 ? 0 : words.reduce((sum, word) => sum + word.confidence, 0) / words.length;
  return { text: lines.join('\n'), meanConfidence, words };
}
