export * from './encryption-codec';
export * from './key-ring';
export * from './key-source';
export * from './kms-key-source';
export * from './text-sealer';
