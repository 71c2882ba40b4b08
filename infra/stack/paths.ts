import path from 'node:path';

/** Folders of the local stack, all under the repository and git-ignored. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_BIN = path.join(REPO_ROOT, '.tools', 'bin');
export const DATA_DIR = path.join(REPO_ROOT, '.data');

export const toolPath = (
  name: 'temporal' | 'tctl' | 'temporal-server' | 'temporal-sql-tool' | 'local-kms' | 'jaeger',
): string => path.join(TOOLS_BIN, name);
