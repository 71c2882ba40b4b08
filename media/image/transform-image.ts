/**
 * Resize and format conversion. Output never carries EXIF, XMP, IPTC or ICC metadata
 * (the image is auto-oriented first, so dropping the orientation tag changes nothing
 * visible) and is converted to sRGB.
 */
import { inspectImage, classifySharpError, openImage, type ImageMetadata } from './inspect-image';
import { IMAGE_MIME_TYPES } from './detect-image-type';
import { resolveImageLimits, type ImageLimits } from '../../core/media/image-limits';

export type OutputFormat = 'jpeg' | 'png' | 'webp' | 'avif';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['jpeg', 'png', 'webp', 'avif'];

export interface TransformImageOptions {
  /** Fit inside this box, keeping the aspect ratio; never enlarges. */
  resize?: { width?: number; height?: number };
  /** Output format. Default: the input's when it is an output format, else PNG. */
  format?: OutputFormat;
  /** 1–100 for lossy formats. Defaults are sharp's. */
  quality?: number;
  limits?: Partial<ImageLimits>;
  declaredType?: string;
}

export interface TransformedImage {
  data: Buffer;
  format: OutputFormat;
  mimeType: string;
  width: number;
  height: number;
  size: number;
  /** Metadata of the input, as `inspectImage` read it. */
  input: ImageMetadata;
}

/**
 * Validates `bytes` (see `inspectImage`), then resizes and converts them. Throws
 * `MediaInputError` for bad input (including data that fails mid-decode as `corrupt`).
 */
export async function transformImage(
  bytes: Uint8Array,
  options: TransformImageOptions = {},
): Promise<TransformedImage> {
  const limits = resolveImageLimits(options.limits);
  const input = await inspectImage(bytes, { limits, declaredType: options.declaredType });
  const format = options.format ?? (isOutputFormat(input.type) ? input.type : 'png');
  const quality = options.quality === undefined ? {} : { quality: options.quality };
  try {
    let pipeline = openImage(bytes, limits).autoOrient().toColourspace('srgb');
    if (options.resize?.width !== undefined || options.resize?.height !== undefined) {
      pipeline = pipeline.resize({
        width: options.resize.width,
        height: options.resize.height,
        fit: 'inside',
        withoutEnlargement: true,
      });
    }
    pipeline = pipeline.toFormat(format, quality);
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return {
      data,
      format,
      mimeType: IMAGE_MIME_TYPES[format],
      width: info.width,
      height: info.height,
      size: info.size,
      input,
    };
  } catch (error) {
    throw classifySharpError(error);
  }
}

function isOutputFormat(type: string): type is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(type);
}
