export * from './plan-types';
export * from './validate-plan';
export * from './plan-schema';
export * from './condition-expression';
