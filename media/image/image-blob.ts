/**
 * The activity-facing form of the pipeline: images go in and come out as blob refs, so no
 * pixel ever travels in a Temporal payload. The byte limit is checked against the ref
 * before the blob is read.
 */
import type { BlobRef, BlobStore } from '../blob';
import { resolveImageLimits, type ImageLimits } from '../../core/media/image-limits';
import { inspectImage, type ImageMetadata } from './inspect-image';
import { MediaInputError } from '../media-input-error';
import { recognizeText, type RecognizeTextOptions, type RecognizedText } from './recognize-text';
import {
  transformImage,
  type TransformImageOptions,
  type TransformedImage,
} from './transform-image';

export interface TransformedImageBlob extends Omit<TransformedImage, 'data'> {
  output: BlobRef;
}

/** Reads the image a ref names, after checking its size against the byte limit. */
export async function readImageBlob(
  store: BlobStore,
  ref: BlobRef,
  maxBytes?: number,
): Promise<Buffer> {
  const limit = resolveImageLimits(maxBytes === undefined ? {} : { maxBytes }).maxBytes;
  if (ref.size > limit) {
    throw new MediaInputError('too-large', `Image is ${ref.size} bytes; the limit is ${limit}`);
  }
  return store.getBytes(ref);
}

/** `inspectImage` on a blob; the ref's content type is checked as declared. */
export async function inspectImageBlob(
  store: BlobStore,
  ref: BlobRef,
  limits: Partial<ImageLimits> = {},
): Promise<ImageMetadata> {
  const bytes = await readImageBlob(store, ref, limits.maxBytes);
  return inspectImage(bytes, { limits, declaredType: ref.contentType });
}

/** `transformImage` from a blob to a blob; the ref's content type is checked as declared. */
export async function transformImageBlob(
  store: BlobStore,
  ref: BlobRef,
  options: Omit<TransformImageOptions, 'declaredType'> = {},
): Promise<TransformedImageBlob> {
  const bytes = await readImageBlob(store, ref, options.limits?.maxBytes);
  const { data, ...result } = await transformImage(bytes, {
    ...options,
    declaredType: ref.contentType,
  });
  const output = await store.put(data, { contentType: result.mimeType });
  return { ...result, output };
}

/** `recognizeText` on a blob. */
export async function recognizeTextBlob(
  store: BlobStore,
  ref: BlobRef,
  options: Omit<RecognizeTextOptions, 'declaredType'> = {},
): Promise<RecognizedText> {
  const bytes = await readImageBlob(store, ref, options.limits?.maxBytes);
  return recognizeText(bytes, { ...options, declaredType: ref.contentType });
}
