export * from './memory-service';
export * from './recall-for-step';
export * from './short-term-store';
export * from './vector-index';
export { openLanceMemoryIndex } from './lance-memory-index';
export { createMemoryService, type MemoryWiring } from './memory-from-config';
