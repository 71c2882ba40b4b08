export * from './connection-options';
export * from './data-converter';
