export {
  createMemoryActivities,
  derivedMemoryId,
  sentencesOf,
  type ExtractTurnMemoriesInput,
  type ExtractTurnMemoriesResult,
  type MemoryActivities,
  type MemoryActivityDependencies,
} from './create-memory-activities';
