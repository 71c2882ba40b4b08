export * from './session-types';
export * from './messages';
export * from './phases';
export * from './session-index';
export * from './activity-contracts';
export * from './step-stream-events';
export * from './budget';
export * from './validate-input';
