/**
 * The image activities, built from their dependencies (the blob store, limits, OCR
 * settings). Inputs and outputs are blob refs and small results: no pixels in payloads.
 * Bad input fails with a non-retryable `ApplicationFailure` of type `InvalidInput` whose
 * `details[0].code` is the `MediaInputErrorCode`; other failures stay retryable.
 */
import type { BlobRef, BlobStore } from '../../media/blob';
import {
  inspectImageBlob,
  recognizeTextBlob,
  transformImageBlob,
  type TransformedImageBlob,
} from '../../media/image/image-blob';
import type { ImageLimits } from '../../core/media/image-limits';
import type { ImageMetadata } from '../../media/image/inspect-image';
import { toApplicationFailure } from '../../media/media-input-error';
import type { RecognizeTextOptions } from '../../media/image/recognize-text';
import type { OutputFormat } from '../../media/image/transform-image';

export interface ImageActivityDependencies {
  store: BlobStore;
  limits?: Partial<ImageLimits>;
  /** Tesseract settings; languages default to eng+kor. */
  ocr?: Pick<RecognizeTextOptions, 'languages' | 'timeoutMs' | 'tesseractPath'>;
}

export interface TransformImageInput {
  image: BlobRef;
  format?: OutputFormat;
  resize?: { width?: number; height?: number };
  quality?: number;
}

export interface RecognizeTextInput {
  image: BlobRef;
  languages?: string[];
}

export interface RecognizeTextResult {
  text: string;
  meanConfidence: number;
  wordCount: number;
}

async function failingAsActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toApplicationFailure(error);
  }
}

export function createImageActivities(dependencies: ImageActivityDependencies) {
  const { store, limits = {}, ocr = {} } = dependencies;
  return {
    /** Reads the image's metadata (format, size, alpha, EXIF presence). */
    async inspectImage(input: { image: BlobRef }): Promise<ImageMetadata> {
      return failingAsActivity(() => inspectImageBlob(store, input.image, limits));
    },
    /** Resizes/converts the image and stores the result, without metadata. */
    async transformImage(input: TransformImageInput): Promise<TransformedImageBlob> {
      return failingAsActivity(() =>
        transformImageBlob(store, input.image, {
          limits,
          ...(input.format === undefined ? {} : { format: input.format }),
          ...(input.resize === undefined ? {} : { resize: input.resize }),
          ...(input.quality === undefined ? {} : { quality: input.quality }),
        }),
      );
    },
    /** OCR with tesseract; returns the text and the mean word confidence. */
    async recognizeText(input: RecognizeTextInput): Promise<RecognizeTextResult> {
      return failingAsActivity(async () => {
        const result = await recognizeTextBlob(store, input.image, {
          ...ocr,
          limits,
          ...(input.languages === undefined ? {} : { languages: input.languages }),
        });
        return {
          text: result.text,
          meanConfidence: result.meanConfidence,
          wordCount: result.words.length,
        };
      });
    },
  };
}

export type ImageActivities = ReturnType<typeof createImageActivities>;
