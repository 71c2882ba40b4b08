/**
 * Build step: bundles workflows/ once into dist/workflow-bundle.js (no tracing interceptors) and
 * dist/workflow-bundle.traced.js (with them) so production workers start without webpack.
 * `npm run build` runs it; WORKFLOW_BUNDLE_PATH points workers at the first file, and a worker
 * with tracing on loads its traced sibling (workers/session-worker.ts).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../runtime/temporal/data-converter';
import { TRACING_WORKFLOW_INTERCEPTORS } from '../runtime/tracing';
import { WORKFLOWS_PATH, tracedBundlePath } from './session-worker';

export interface WorkflowBundleOptions {
  /**
   * Bundle the OpenTelemetry workflow interceptors (for a worker with tracing on). Off: the
   * bundle has none, so a worker with tracing off pays nothing for them in each activation.
   */
  tracing?: boolean;
}

/**
 * Bundles `workflowsPath` (the session workflows by default) into `outputPath`; with `tracing`,
 * the OpenTelemetry workflow interceptors are bundled too. The interceptors add no commands, so
 * both bundles replay the same histories.
 */
export async function writeWorkflowBundle(
  outputPath: string,
  workflowsPath: string = WORKFLOWS_PATH,
  options: WorkflowBundleOptions = {},
): Promise<string> {
  // The failure converter runs inside the sandbox too: workflow errors leave with encoded messages.
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: options.tracing ? [TRACING_WORKFLOW_INTERCEPTORS] : [],
    logger: quietLogger,
  });
  await writeFile(outputPath, code);
  return outputPath;
}

/**
 * Writes the bundle without tracing interceptors to `outputPath` and the one with them to
 * `tracedBundlePath(outputPath)`; resolves with `outputPath`.
 */
export async function writeWorkflowBundles(
  outputPath: string,
  workflowsPath: string = WORKFLOWS_PATH,
): Promise<string> {
  await Promise.all([
    writeWorkflowBundle(outputPath, workflowsPath),
    writeWorkflowBundle(tracedBundlePath(outputPath), workflowsPath, { tracing: true }),
  ]);
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

if (require.main === module) {
  const output = process.argv[2] ?? path.resolve(__dirname, '..', 'workflow-bundle.js');
  writeWorkflowBundles(output)
    .then((file) =>
      console.log(`workflow bundles written to ${file} and ${tracedBundlePath(file)}`),
    )
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
