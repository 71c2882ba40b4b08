export {
  createImageActivities,
  type ImageActivities,
  type ImageActivityDependencies,
  type RecognizeTextInput,
  type RecognizeTextResult,
  type TransformImageInput,
} from './create-image-activities';
