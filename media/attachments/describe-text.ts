/** Text attachments: normalised, PII-masked, language and token count. */
import type { AttachmentInsight } from '../../core/media/attachments';
import { MediaInputError } from '../media-input-error';
import { insightTextFields, toInsightText } from './insight-text';
import { DEFAULT_MAX_TEXT_BYTES, type AttachmentWork } from './media-options';

/**
 * Describes a UTF-8 text attachment: `text 1,204 chars, 310 tokens (ko), 2 PII masked`.
 * Throws `MediaInputError` `too-large` over the text limit and `corrupt` when the whole
 * file is not valid UTF-8 (only its head was checked at detection).
 */
export async function describeText(work: AttachmentWork): Promise<AttachmentInsight> {
  const { attachment } = work;
  const maxBytes = work.limits.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  if (attachment.size > maxBytes) {
    throw new MediaInputError(
      'too-large',
      `Text is ${attachment.size} bytes; the limit is ${maxBytes}`,
    );
  }
  work.stage('text');
  const bytes = await work.blobs.getBytes(attachment);
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new MediaInputError('corrupt', 'The text is not valid UTF-8', { cause: error });
  }
  if (decoded.includes('\0')) {
    throw new MediaInputError('unsupported-type', 'The file holds binary data (NUL bytes)');
  }
  const text = await toInsightText(decoded);
  const parts = [
    `text ${text.characters.toLocaleString('en-US')} chars`,
    `${text.tokenCount} tokens${text.language ? ` (${text.language})` : ''}`,
    ...(text.piiMasked > 0 ? [`${text.piiMasked} PII masked`] : []),
  ];
  return {
    sha256: attachment.sha256,
    ...(attachment.name === undefined ? {} : { name: attachment.name }),
    kind: 'text',
    summary: parts.join(', '),
    ...insightTextFields(text),
    confidence: 1,
    facts: {
      characters: text.characters,
      tokens: text.tokenCount,
      lines: decoded.split('\n').length,
      piiMasked: text.piiMasked,
    },
  };
}
