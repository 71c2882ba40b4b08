export {
  createMemoryActivities,
  derivedMemoryId,
  sentencesOf,
  type ExtractTurnMemoriesInput,
  type ExtractTurnMemoriesResult,
  type MemoryActivities,
  type MemoryActivityDependencies,
} from './create-memory-activities';
export {
  EXTRACTION_SYSTEM_PROMPT,
  checkExtraction,
  extractTurnMemoriesWith,
  extractionStepId,
  extractedMemoriesSchema,
} from './extract-turn-memories';
