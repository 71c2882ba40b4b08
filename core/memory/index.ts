export * from './memory-types';
export * from './relevance';
export * from './promotion';
