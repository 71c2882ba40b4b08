/**
 * The operations tools (helm, actionlint, promtool) for the ops-* tests: built once, pinned,
 * into .tools/bin by infra/tools/install.sh (a cold build takes minutes; a cached one returns
 * at once), then run with a deadline.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Cold builds on a loaded 2-core machine: helm ~5-10 min, promtool longer. */
export const TOOL_BUILD_TIMEOUT_MS = 40 * 60_000;

export type OpsTool = 'helm' | 'actionlint' | 'promtool';

/** Builds the tool when missing or stale and returns its path. */
export function ensureTool(tool: OpsTool): string {
  const started = Date.now();
  const result = spawnSync(
    'bash',
    [path.join(REPO_ROOT, 'infra/tools/install.sh'), '--print-path', tool],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: TOOL_BUILD_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    throw new Error(`infra/tools/install.sh ${tool} failed:\n${result.stderr}\n${result.stdout}`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (Date.now() - started > 5_000) console.log(`${tool}: ready after ${seconds} s`);
  return result.stdout.trim().split('\n').pop()!;
}

/** Runs a tool synchronously (a minute at most) and returns what it printed. */
export function run(
  binary: string,
  args: string[],
  options: { cwd?: string; input?: string } = {},
): SpawnSyncReturns<string> {
  return spawnSync(binary, args, {
    cwd: options.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}
