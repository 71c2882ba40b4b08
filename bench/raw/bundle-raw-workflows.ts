/** Bundles the baseline's workflow code (raw-workflows.ts) into one file for the bench worker. */
import { writeWorkflowBundle } from '../../workers/bundle-workflows';

export const RAW_WORKFLOWS_PATH = require.resolve('./raw-workflows');

export function writeRawWorkflowBundle(outputPath: string): Promise<string> {
  return writeWorkflowBundle(outputPath, RAW_WORKFLOWS_PATH);
}
