export {
  IMAGE_MIME_TYPES,
  declaredImageType,
  detectImageType,
  type DetectedType,
  type ImageType,
} from './detect-image-type';
export {
  DEFAULT_IMAGE_LIMITS,
  resolveImageLimits,
  type ImageLimits,
} from '../../core/media/image-limits';
export { inspectImage, type ImageMetadata, type InspectImageOptions } from './inspect-image';
export {
  OUTPUT_FORMATS,
  transformImage,
  type OutputFormat,
  type TransformImageOptions,
  type TransformedImage,
} from './transform-image';
export {
  parseTesseractTsv,
  recognizeText,
  type RecognizeTextOptions,
  type RecognizedText,
  type RecognizedWord,
} from './recognize-text';
export {
  inspectImageBlob,
  readImageBlob,
  recognizeTextBlob,
  transformImageBlob,
  type TransformedImageBlob,
} from './image-blob';
