/** Bundles the baseline's workflow code (raw-workflows.ts) into one file for the bench worker. */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';

export const RAW_WORKFLOWS_PATH = require.resolve('./raw-workflows');

export async function writeRawWorkflowBundle(outputPath: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: RAW_WORKFLOWS_PATH,
    logger: quietLogger,
  });
  await writeFile(outputPath, code);
  return outputPath;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
