/**
 * Runs a media CLI (ffmpeg, ffprobe, pocketsphinx) as a child process: no shell, an
 * argument array, stdout collected up to a cap, the tail of stderr kept for error
 * messages. The process is killed (SIGKILL) on timeout or when `signal` aborts.
 */
import { spawn } from 'node:child_process';
import { MediaInputError } from '../media-input-error';

export interface RunMediaToolOptions {
  /** Kill the tool after this long; rejects with `MediaInputError('timeout')`. */
  timeoutMs: number;
  /** Kill the tool when aborted; rejects with the abort reason. */
  signal?: AbortSignal;
  /** Most stdout bytes kept; more kills the tool (plain `Error`). Default 16 MiB. */
  maxStdoutBytes?: number;
  env?: NodeJS.ProcessEnv;
}

export interface MediaToolResult {
  exitCode: number;
  stdout: Buffer;
  /** The last 4 KiB of stderr. */
  stderr: string;
}

const STDERR_TAIL = 4096;

/**
 * Resolves with the exit code, stdout and stderr tail whatever the exit code (callers
 * classify failures). Rejects with a plain `Error` when the binary cannot be started
 * (missing tool: retryable, an operations problem) or exits on a signal it was not sent.
 */
export function runMediaTool(
  binary: string,
  args: readonly string[],
  options: RunMediaToolOptions,
): Promise<MediaToolResult> {
  const maxStdoutBytes = options.maxStdoutBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted === true) {
      reject(asError(options.signal.reason));
      return;
    }
    const child = spawn(binary, args, {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let failure: Error | undefined;
    const kill = (reason: Error): void => {
      failure ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        kill(
          new MediaInputError('timeout', `${binary} did not finish within ${options.timeoutMs} ms`),
        ),
      options.timeoutMs,
    );
    const onAbort = (): void => kill(asError(options.signal?.reason));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) {
        kill(new Error(`${binary} wrote more than ${maxStdoutBytes} bytes to stdout`));
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    const finish = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      finish();
      reject(new Error(`Could not run ${binary}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      finish();
      if (failure !== undefined) {
        reject(failure);
      } else if (code === null) {
        reject(new Error(`${binary} was killed by ${signal ?? 'a signal'}; ${lastLine(stderr)}`));
      } else {
        resolve({ exitCode: code, stdout: Buffer.concat(stdout), stderr });
      }
    });
  });
}

/** The last non-empty line of a tool's stderr, for error messages. */
export function lastLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim().slice(0, 500);
}

/** An abort reason as an `Error` (it usually is one: `AbortError` or the caller's). */
export function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
