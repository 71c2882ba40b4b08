/**
 * Image attachments: header metadata, OCR (tesseract eng+kor) of the text in them, and a
 * caption with the objects seen when a vision model is at hand.
 */
import type { AttachmentInsight } from '../../core/media/attachments';
import { inspectImage, readImageBlob, recognizeText } from '../image';
import { insightTextFields, toInsightText } from './insight-text';
import type { AttachmentWork } from './media-options';
import { imageCaptionFacts } from './model-insights';

const SUMMARY_CAPTION_CHARS = 200;

/**
 * Describes the image: `PNG 640×200, 7 words of text (en)`, followed by ` — <caption>` when
 * `work.model` captioned it (`facts.caption`, `facts.objects`: comma-separated names; left
 * out when the model fails, see `imageCaptionFacts`). Throws `MediaInputError` (too-large,
 * corrupt, pixel-limit, timeout, …) for bad images; a missing or crashing tesseract is a
 * plain (retryable) `Error`.
 */
export async function describeImage(work: AttachmentWork): Promise<AttachmentInsight> {
  const { attachment, limits } = work;
  work.stage('inspect');
  const bytes = await readImageBlob(work.blobs, attachment, limits.image?.maxBytes);
  const metadata = await inspectImage(bytes, {
    limits: limits.image ?? {},
    declaredType: attachment.contentType,
  });
  work.stage('ocr');
  const recognized = await recognizeText(bytes, {
    limits: limits.image ?? {},
    declaredType: attachment.contentType,
    ...(limits.ocrLanguages ? { languages: limits.ocrLanguages } : {}),
    ...(limits.ocrTimeoutMs !== undefined ? { timeoutMs: limits.ocrTimeoutMs } : {}),
    ...(work.tools.tesseractPath ? { tesseractPath: work.tools.tesseractPath } : {}),
  });
  const text = await toInsightText(recognized.text);
  const captioned = await imageCaptionFacts(work, bytes);
  const words = recognized.words.length;
  const format = metadata.type.toUpperCase();
  const wordsPart =
    words === 0
      ? 'no text found'
      : `${words} word${words === 1 ? '' : 's'} of text${text.language ? ` (${text.language})` : ''}`;
  return {
    sha256: attachment.sha256,
    ...(attachment.name === undefined ? {} : { name: attachment.name }),
    kind: 'image',
    summary: `${format} ${metadata.width}×${metadata.height}, ${wordsPart}${captioned ? ` — ${shorten(captioned.caption)}` : ''}`,
    ...insightTextFields(text),
    confidence: Math.round(recognized.meanConfidence) / 100,
    facts: {
      format: metadata.type,
      width: metadata.width,
      height: metadata.height,
      ...(metadata.pages > 1 ? { pages: metadata.pages } : {}),
      words,
      piiMasked: text.piiMasked,
      ...captioned,
    },
  };
}

function shorten(caption: string): string {
  return caption.length > SUMMARY_CAPTION_CHARS
    ? `${caption.slice(0, SUMMARY_CAPTION_CHARS - 1)}…`
    : caption;
}
