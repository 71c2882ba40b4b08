export * from './plan-types';
export * from './validate-plan';
export * from './plan-schema';
export * from './condition-expression';
export * from './priority';
export * from './input-references';
export * from './decision-types';
export * from './amend-plan';
