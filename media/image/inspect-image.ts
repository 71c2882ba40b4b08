/**
 * The gate every image passes: byte limit, type by magic bytes (and agreement with what the
 * sender declared), header metadata through sharp, and the pixel limit — all before any
 * full decode. Failures are `MediaInputError`s.
 */
import sharp, { type Sharp } from 'sharp';
import { declaredImageType, detectImageType, type ImageType } from './detect-image-type';
import { resolveImageLimits, type ImageLimits } from '../../core/media/image-limits';
import { MediaInputError } from '../media-input-error';

export interface ImageMetadata {
  /** Detected from the bytes. */
  type: ImageType;
  mimeType: string;
  width: number;
  height: number;
  hasAlpha: boolean;
  /** True when the image carries an EXIF block. */
  hasExif: boolean;
  /** True when the image carries XMP, IPTC or an ICC profile besides EXIF. */
  hasOtherMetadata: boolean;
  /** EXIF orientation (1–8), when present. */
  orientation?: number;
  /** Frames in an animated image (1 otherwise). */
  pages: number;
  size: number;
}

export interface InspectImageOptions {
  limits?: Partial<ImageLimits>;
  /** Content type or file name the sender gave; rejected when it names a different image type. */
  declaredType?: string;
}

/** Returns the image's metadata, or throws `MediaInputError` (too-large, unsupported-type, type-mismatch, corrupt, pixel-limit). */
export async function inspectImage(
  bytes: Uint8Array,
  options: InspectImageOptions = {},
): Promise<ImageMetadata> {
  const limits = resolveImageLimits(options.limits);
  if (bytes.byteLength > limits.maxBytes) {
    throw new MediaInputError(
      'too-large',
      `Image is ${bytes.byteLength} bytes; the limit is ${limits.maxBytes}`,
    );
  }
  const detected = detectImageType(bytes);
  if (detected.kind !== 'image') {
    const what = detected.kind === 'other' ? detected.description : 'not a recognised image';
    throw new MediaInputError('unsupported-type', `Unsupported input: ${what}`);
  }
  if (options.declaredType !== undefined) {
    const declared = declaredImageType(options.declaredType);
    if (declared !== undefined && declared !== detected.type) {
      throw new MediaInputError(
        'type-mismatch',
        `Declared as ${declared} (${JSON.stringify(options.declaredType)}) but the bytes are ${detected.type}`,
      );
    }
  }
  let metadata: sharp.Metadata;
  try {
    // Reading the header decodes no pixels, so it runs without sharp's pixel limit: the
    // check below then reports the dimensions. Every decode goes through `openImage`.
    metadata = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw classifySharpError(error);
  }
  const { width, height } = metadata;
  if (!width || !height) throw new MediaInputError('corrupt', 'Image header has no dimensions');
  if (width * height > limits.maxPixels) {
    throw new MediaInputError(
      'pixel-limit',
      `Image is ${width}×${height} (${width * height} pixels); the limit is ${limits.maxPixels}`,
    );
  }
  return {
    type: detected.type,
    mimeType: detected.mimeType,
    width,
    height,
    hasAlpha: metadata.hasAlpha,
    hasExif: metadata.exif !== undefined,
    hasOtherMetadata:
      metadata.xmp !== undefined || metadata.iptc !== undefined || metadata.icc !== undefined,
    ...(metadata.orientation !== undefined ? { orientation: metadata.orientation } : {}),
    pages: metadata.pages ?? 1,
    size: bytes.byteLength,
  };
}

/**
 * A sharp instance with the pixel limit enforced by libvips too, failing on truncated data and
 * stopping after `limits.timeoutSeconds` of processing.
 */
export function openImage(bytes: Uint8Array, limits: ImageLimits): Sharp {
  return sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: 'truncated' }).timeout({
    seconds: limits.timeoutSeconds,
  });
}

/** Maps a sharp/libvips error to a `MediaInputError`. */
export function classifySharpError(error: unknown): MediaInputError {
  if (error instanceof MediaInputError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new MediaInputError('pixel-limit', `Image exceeds the pixel limit: ${message}`, {
      cause: error,
    });
  }
  if (/^timeout/i.test(message)) {
    return new MediaInputError('timeout', `Image processing timed out: ${message}`, {
      cause: error,
    });
  }
  if (/unsupported image format/i.test(message)) {
    return new MediaInputError('unsupported-type', `Unsupported image: ${message}`, {
      cause: error,
    });
  }
  return new MediaInputError('corrupt', `Image cannot be decoded: ${message}`, { cause: error });
}
