/** Facts about the machine and the software of a run, for the results' metadata header. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { REPO_ROOT } from '../../infra/stack/paths';

export function machineFacts() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
  };
}

/** The checked-out commit and whether the tree has changes; null outside a git checkout. */
export function gitState(): { commit: string; dirty: boolean } | null {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain') !== '' };
  } catch {
    return null;
  }
}
