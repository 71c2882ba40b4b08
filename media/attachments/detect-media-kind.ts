/**
 * Which kind of attachment some bytes are, decided from their first bytes only (never the
 * file name or a declared type). Archives, PDFs and anything unrecognised are refused.
 */
import type { AttachmentKind } from '../../core/media/attachments';
import { detectImageType } from '../image';
import { MediaInputError } from '../media-input-error';

export interface DetectedMedia {
  kind: AttachmentKind;
  /** The content type the bytes show, e.g. `image/png`, `audio/wav`, `text/plain; charset=utf-8`. */
  contentType: string;
}

/** How many leading bytes `detectMediaKind` wants (the tar signature sits at offset 257). */
export const MEDIA_HEAD_BYTES = 4096;

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'latin1',
    start,
    end,
  );
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.byteLength < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

const ARCHIVES: readonly { name: string; matches: (head: Uint8Array) => boolean }[] = [
  { name: 'ZIP', matches: (head) => startsWith(head, [0x50, 0x4b, 0x03, 0x04]) },
  { name: 'gzip', matches: (head) => startsWith(head, [0x1f, 0x8b]) },
  { name: '7-Zip', matches: (head) => startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { name: 'RAR', matches: (head) => latin1(head, 0, 6) === 'Rar!\x1a\x07' },
  { name: 'tar', matches: (head) => latin1(head, 257, 262) === 'ustar' },
];

/** ISO-BMFF brands that are still images rather than movies (AVIF is an image type we read). */
const STILL_IMAGE_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1', 'hevc']);
const AUDIO_BRANDS = new Set(['M4A ', 'M4B ', 'M4P ']);

function isoMedia(head: Uint8Array): DetectedMedia | undefined {
  if (latin1(head, 4, 8) !== 'ftyp' || head.byteLength < 12) return undefined;
  const brand = latin1(head, 8, 12);
  if (STILL_IMAGE_BRANDS.has(brand)) {
    throw new MediaInputError(
      'unsupported-type',
      `HEIF/HEIC images (${brand.trim()}) are not accepted`,
    );
  }
  if (AUDIO_BRANDS.has(brand)) return { kind: 'audio', contentType: 'audio/mp4' };
  if (brand === 'qt  ') return { kind: 'video', contentType: 'video/quicktime' };
  if (brand.startsWith('3g')) return { kind: 'video', contentType: 'video/3gpp' };
  return { kind: 'video', contentType: 'video/mp4' };
}

/** MPEG audio frame sync (11 set bits) with a valid layer, or an ADTS AAC header. */
function mpegAudio(head: Uint8Array): DetectedMedia | undefined {
  const [first, second, third] = [head[0], head[1], head[2]];
  if (first !== 0xff || second === undefined || third === undefined) return undefined;
  if ((second & 0xf6) === 0xf0) return { kind: 'audio', contentType: 'audio/aac' };
  const layer = (second >> 1) & 0x03;
  const version = (second >> 3) & 0x03;
  const bitrateIndex = third >> 4;
  if ((second & 0xe0) === 0xe0 && layer !== 0 && version !== 1 && bitrateIndex !== 0x0f) {
    return { kind: 'audio', contentType: 'audio/mpeg' };
  }
  return undefined;
}

function audioOrVideo(head: Uint8Array): DetectedMedia | undefined {
  const riff = latin1(head, 0, 4) === 'RIFF' ? latin1(head, 8, 12) : undefined;
  if (riff === 'WAVE') return { kind: 'audio', contentType: 'audio/wav' };
  if (riff === 'AVI ') return { kind: 'video', contentType: 'video/x-msvideo' };
  if (latin1(head, 0, 3) === 'ID3') return { kind: 'audio', contentType: 'audio/mpeg' };
  if (latin1(head, 0, 4) === 'OggS') return { kind: 'audio', contentType: 'audio/ogg' };
  if (latin1(head, 0, 4) === 'fLaC') return { kind: 'audio', contentType: 'audio/flac' };
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    const webm = latin1(head, 0, Math.min(head.byteLength, 64)).includes('webm');
    return { kind: 'video', contentType: webm ? 'video/webm' : 'video/x-matroska' };
  }
  return isoMedia(head) ?? mpegAudio(head);
}

/** Valid UTF-8 (a sequence cut at the end of the head is allowed) with no NUL byte. */
function isUtf8Text(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects the kind of an attachment from its first bytes (pass at least `MEDIA_HEAD_BYTES`
 * when the blob is that long). Throws `MediaInputError('unsupported-type')` for archives,
 * PDFs, HEIC/BMP/SVG images and unrecognised binary data, and `corrupt` for empty input.
 */
export function detectMediaKind(head: Uint8Array): DetectedMedia {
  if (head.byteLength === 0) throw new MediaInputError('corrupt', 'The attachment is empty');
  const archive = ARCHIVES.find((candidate) => candidate.matches(head));
  if (archive) {
    throw new MediaInputError(
      'unsupported-type',
      `${archive.name} archives are not accepted; attach the files themselves`,
    );
  }
  if (latin1(head, 0, 5) === '%PDF-') {
    throw new MediaInputError('unsupported-type', 'PDF documents are not accepted');
  }
  const image = detectImageType(head);
  if (image.kind === 'image') return { kind: 'image', contentType: image.mimeType };
  const media = audioOrVideo(head);
  if (media) return media;
  if (image.kind === 'other') {
    throw new MediaInputError('unsupported-type', `${image.description} is not accepted`);
  }
  if (isUtf8Text(head)) return { kind: 'text', contentType: 'text/plain; charset=utf-8' };
  throw new MediaInputError(
    'unsupported-type',
    'Unrecognised binary data: not a supported image, audio, video or UTF-8 text',
  );
}
