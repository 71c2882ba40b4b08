export { extractAudio } from './extract-audio';
export {
  extractKeyFrames,
  parseFrameMetadata,
  type ExtractKeyFramesOptions,
  type KeyFrame,
  type KeyFrameFormat,
} from './extract-key-frames';
