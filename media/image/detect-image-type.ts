/**
 * Type detection by magic bytes, never by file name or declared content type. Also names
 * common non-image types (PDF, archives) so their rejection message is clear.
 */

export type ImageType = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff';

export const IMAGE_MIME_TYPES: Readonly<Record<ImageType, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

const EXTENSIONS: Readonly<Record<string, ImageType>> = {
  jpg: 'jpeg',
  jpeg: 'jpeg',
  jpe: 'jpeg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
  gif: 'gif',
  tif: 'tiff',
  tiff: 'tiff',
};

export type DetectedType =
  | { kind: 'image'; type: ImageType; mimeType: string }
  | { kind: 'other'; description: string }
  | { kind: 'unknown' };

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.byteLength < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'latin1',
    start,
    end,
  );
}

function image(type: ImageType): DetectedType {
  return { kind: 'image', type, mimeType: IMAGE_MIME_TYPES[type] };
}

/** ISO-BMFF (`ftyp` box) brands: AVIF when the major or a compatible brand is avif/avis. */
function isoBrands(bytes: Uint8Array): string[] {
  if (ascii(bytes, 4, 8) !== 'ftyp' || bytes.byteLength < 16) return [];
  const boxSize = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(0);
  const end = Math.min(boxSize, bytes.byteLength, 256);
  const brands = [ascii(bytes, 8, 12)];
  for (let offset = 16; offset + 4 <= end; offset += 4)
    brands.push(ascii(bytes, offset, offset + 4));
  return brands;
}

/** Detects the type of `bytes` from their first bytes. Never throws. */
export function detectImageType(bytes: Uint8Array): DetectedType {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return image('jpeg');
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image('png');
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return image('webp');
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return image('gif');
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return image('tiff');
  }
  const brands = isoBrands(bytes);
  if (brands.includes('avif') || brands.includes('avis')) return image('avif');
  if (brands.length > 0) return { kind: 'other', description: `ISO media (${brands[0]})` };
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'other', description: 'PDF document' };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]))
    return { kind: 'other', description: 'ZIP archive' };
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'other', description: 'gzip archive' };
  if (startsWith(bytes, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) {
    return { kind: 'other', description: '7-Zip archive' };
  }
  if (ascii(bytes, 257, 262) === 'ustar') return { kind: 'other', description: 'tar archive' };
  if (startsWith(bytes, [0x42, 0x4d])) return { kind: 'other', description: 'BMP image' };
  const head = ascii(bytes, 0, 256).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) {
    return { kind: 'other', description: 'SVG document' };
  }
  return { kind: 'unknown' };
}

/**
 * The image type a content type (`image/png; charset=…`) or file name (`shot.PNG`) claims,
 * or `undefined` when it names none. Used only to catch spoofing, never to decide the type.
 */
export function declaredImageType(declared: string): ImageType | undefined {
  const value = declared.trim().toLowerCase();
  const mime = value.split(';')[0]?.trim() ?? '';
  if (mime.includes('/')) {
    if (mime === 'image/jpg' || mime === 'image/pjpeg') return 'jpeg';
    const entry = Object.entries(IMAGE_MIME_TYPES).find(([, mimeType]) => mimeType === mime);
    return entry ? (entry[0] as ImageType) : undefined;
  }
  const extension = value.includes('.') ? value.slice(value.lastIndexOf('.') + 1) : value;
  return EXTENSIONS[extension];
}
