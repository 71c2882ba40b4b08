export {
  createCollectionActivities,
  type CollectionActivities,
} from './create-collection-activities';
export type { CollectionActivityDependencies } from './collection-dependencies';
export { namespaceRetentionSeconds } from './session-index-collection';
export { payloadsIn, referencesInPayloads } from './session-references';
