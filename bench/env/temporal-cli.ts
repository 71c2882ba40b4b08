/** Facts about the Temporal tooling in use, for the results' metadata. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { toolPath } from '../../infra/stack/paths';

/** `temporal --version` of the CLI that runs the dev server. */
export function temporalCliVersion(): string {
  return execFileSync(toolPath('temporal'), ['--version'], { encoding: 'utf8' }).trim();
}

/** Version of the installed Temporal TypeScript SDK (@temporalio/worker). */
export function temporalSdkVersion(): string {
  const manifest = require.resolve('@temporalio/worker/package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
