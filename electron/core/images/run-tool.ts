/**
 * Running the host tools the image code needs (debugfs, dump.erofs, mount, umount, losetup): an
 * argv array (never a shell), stdin closed, a timeout, and a cap on what is kept of stdout so a
 * hostile image cannot make a tool flood the process.
 */
import { spawn } from 'node:child_process';
import { ImageError } from './image-errors.js';

/** How a tool run ended. */
export interface ToolRun {
  /** Exit status, or null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** stderr as text, at most 64 KiB. */
  stderr: string;
  /** stdout exceeded `maxStdoutBytes`; the tool was killed and `stdout` holds only the cap. */
  truncated: boolean;
  timedOut: boolean;
}

/** Options of `runTool`. */
export interface RunToolOptions {
  timeoutMs?: number;
  /** Most stdout bytes kept; the tool is killed when it writes more. Default 1 MiB. */
  maxStdoutBytes?: number;
}

const MAX_STDERR_BYTES = 64 * 1024;

/**
 * Runs `argv` and resolves with how it ended, whatever the exit status. Rejects with
 * `ImageError` `TOOL_FAILED` only when the program cannot be started (not installed …).
 */
export function runTool(argv: readonly string[], options: RunToolOptions = {}): Promise<ToolRun> {
  const [file, ...args] = argv;
  if (file === undefined) throw new ImageError('TOOL_FAILED', 'no program to run');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxStdout = options.maxStdoutBytes ?? 1024 * 1024;
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    const child = spawn(file, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (truncated) return;
      if (outBytes + chunk.length > maxStdout) {
        out.push(chunk.subarray(0, maxStdout - outBytes));
        outBytes = maxStdout;
        truncated = true;
        child.kill('SIGKILL');
        return;
      }
      outBytes += chunk.length;
      out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes >= MAX_STDERR_BYTES) return;
      err.push(chunk.subarray(0, MAX_STDERR_BYTES - errBytes));
      errBytes += chunk.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(
        new ImageError('TOOL_FAILED', `cannot run ${file}: ${error.message}`, { cause: error }),
      );
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString('utf8'),
        truncated,
        timedOut,
      });
    });
  });
}

/** The last non-empty line of a tool's stderr, for an error message. */
export function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}

/**
 * Runs `argv` and throws `ImageError` `TOOL_FAILED` (naming `what`, with the tool's last stderr
 * line) unless it exits 0 in time. Returns the run.
 */
export async function runToolChecked(
  argv: readonly string[],
  what: string,
  options: RunToolOptions = {},
): Promise<ToolRun> {
  const run = await runTool(argv, options);
  if (run.timedOut) {
    throw new ImageError(
      'TOOL_FAILED',
      `${what}: ${argv[0]} did not finish within ${options.timeoutMs ?? 30_000} ms`,
    );
  }
  if (run.exitCode !== 0) {
    const how = run.signal !== null ? `was killed by ${run.signal}` : `exited ${run.exitCode}`;
    const detail = lastLine(run.stderr);
    throw new ImageError(
      'TOOL_FAILED',
      `${what}: ${argv[0]} ${how}${detail !== '' ? `: ${detail}` : ''}`,
    );
  }
  return run;
}
