/**
 * Build step: bundles workflows/ once into dist/workflow-bundle.js so production workers start
 * without webpack. `npm run build` runs it; WORKFLOW_BUNDLE_PATH points workers at the file.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../runtime/temporal/data-converter';
import { TRACING_WORKFLOW_INTERCEPTORS } from '../runtime/tracing';
import { WORKFLOWS_PATH } from './session-worker';

/**
 * Bundles `workflowsPath` (the session workflows by default) into `outputPath`, with the
 * OpenTelemetry workflow interceptors: a worker with tracing on exports workflow spans, one with
 * tracing off drops them (session-worker.ts registers the sink either way).
 */
export async function writeWorkflowBundle(
  outputPath: string,
  workflowsPath: string = WORKFLOWS_PATH,
): Promise<string> {
  // The failure converter runs inside the sandbox too: workflow errors leave with encoded messages.
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    workflowInterceptorModules: [TRACING_WORKFLOW_INTERCEPTORS],
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

if (require.main === module) {
  const output = process.argv[2] ?? path.resolve(__dirname, '..', 'workflow-bundle.js');
  writeWorkflowBundle(output)
    .then((file) => console.log(`workflow bundle written to ${file}`))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
