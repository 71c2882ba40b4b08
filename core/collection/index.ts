export * from './collection-types';
export * from './collection-rules';
