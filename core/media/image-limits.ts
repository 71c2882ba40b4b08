/** Limits every image entry point enforces before any pixel is decoded. */
export interface ImageLimits {
  /** Largest input in bytes. Default 25 MiB. */
  maxBytes: number;
  /** Largest width × height. Default 40 megapixels (e.g. 8000 × 5000). */
  maxPixels: number;
  /** Longest sharp may process one image (resize, encode), in whole seconds. Default 60. */
  timeoutSeconds: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 40_000_000,
  timeoutSeconds: 60,
};

export function resolveImageLimits(limits: Partial<ImageLimits> = {}): ImageLimits {
  return { ...DEFAULT_IMAGE_LIMITS, ...limits };
}
