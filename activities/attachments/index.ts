export {
  createMediaActivities,
  type MediaActivities,
  type MediaActivityDependencies,
  type ProcessAttachmentInput,
  type TranslateTextInput,
  type TranslateTextResult,
} from './create-attachment-activities';
