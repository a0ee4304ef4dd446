/**
 * The LXC driver: LXC's command-line tools run with argv arrays (never a shell), each with a
 * timeout and an output cap, always with `-P <lxcPath>` so every instance keeps its containers
 * under its own runtime folder and nothing touches `/var/lib/lxc`.
 *
 * `lxc-start -F` runs as a monitored child: it stays in the foreground for the container's whole
 * life, so its exit is the container's death, seen at once without polling a PID file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RuntimeError } from './runtime-errors.js';

/** Which container, under which LXC path. */
export interface LxcTarget {
  /** Container name (`droidway-NAME`). */
  name: string;
  /** LXC path (`-P`), the instance's own. */
  lxcPath: string;
  /** LXC log file, whose tail errors carry; optional. */
  logFile?: string;
}

/** LXC states as `lxc-info -s` prints them. */
export type LxcState =
  'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

const LXC_STATES: ReadonlySet<string> = new Set([
  'STOPPED',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'ABORTING',
  'FREEZING',
  'FROZEN',
  'THAWED',
]);

/** `PATH` given to attached processes (the attach runs with a cleared environment). */
export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `PATH` of guest commands Droidway runs: Android's tool folders first, then `GUEST_PATH`. */
export const GUEST_COMMAND_PATH = `/system/bin:/system/xbin:/vendor/bin:${GUEST_PATH}`;

/** Default timeout of the short LXC tools (`lxc-info`, `lxc-freeze` …). */
export const TOOL_TIMEOUT_MS = 15_000;

/** Output kept per stream of a tool; more is counted as truncated, not kept. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Lines of the LXC log carried by errors. */
export const LOG_TAIL_LINES = 25;

/** What a finished tool left. */
export interface ToolResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
}

/** Options of `runTool`. */
export interface RunToolOptions {
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** Bytes for stdin, or a stream piped into it; stdin is empty otherwise. */
  stdin?: Buffer | string | Readable;
  /** LXC log whose tail a failure carries. */
  logFile?: string;
  /** Resolve with the result even on a non-zero exit (the caller judges it). */
  allowFailure?: boolean;
}

/**
 * Runs `command` with `args` (no shell), feeding `stdin`, collecting at most `maxOutputBytes` of
 * each output stream. Rejects with `RuntimeError` `LXC_TIMEOUT` (the tool is killed) or
 * `LXC_TOOL_FAILED` (could not run, or a non-zero exit unless `allowFailure`), carrying the
 * tool's stderr and the LXC log's tail.
 */
export function runTool(
  command: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolResult> {
  const timeoutMs = options.timeoutMs ?? TOOL_TIMEOUT_MS;
  const cap = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: toolEnv() });
    const out = collector(cap);
    const errOut = collector(cap);
    child.stdout.on('data', out.push);
    child.stderr.on('data', errOut.push);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // EPIPE when the tool exits before reading all of stdin is the tool's business, not ours.
    child.stdin.on('error', () => {});
    feedStdin(child, options.stdin);

    const fail = async (
      code: 'LXC_TIMEOUT' | 'LXC_TOOL_FAILED',
      message: string,
      cause?: unknown,
    ): Promise<void> => {
      const logTail = options.logFile ? await readLogTail(options.logFile) : undefined;
      reject(new RuntimeError(code, message, { ...(logTail ? { logTail } : {}), cause }));
    };
    child.on('error', (e) => {
      clearTimeout(timer);
      void fail('LXC_TOOL_FAILED', `${command} could not be run: ${e.message}`, e);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      const result: ToolResult = {
        exitCode,
        signal,
        stdout: out.bytes(),
        stderr: errOut.bytes(),
        stdoutTruncated: out.truncated(),
        stderrTruncated: errOut.truncated(),
      };
      if (timedOut) {
        void fail(
          'LXC_TIMEOUT',
          `${describeCommand(command, args)} did not finish within ${timeoutMs} ms`,
        );
      } else if (exitCode !== 0 && !options.allowFailure) {
        const stderr = result.stderr.toString('utf8').trim().slice(-2000);
        const how =
          exitCode === null ? `was killed by ${signal}` : `exited with status ${exitCode}`;
        void fail(
          'LXC_TOOL_FAILED',
          `${describeCommand(command, args)} ${how}${stderr ? `: ${stderr}` : ''}`,
        );
      } else {
        resolve(result);
      }
    });
  });
}

function feedStdin(child: ChildProcess, stdin: RunToolOptions['stdin']): void {
  const sink = child.stdin;
  if (!sink) return;
  if (stdin === undefined) {
    sink.end();
  } else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) {
    sink.end(stdin);
  } else {
    stdin.on('error', () => sink.destroy());
    stdin.pipe(sink);
  }
}

function collector(cap: number): {
  push: (chunk: Buffer) => void;
  bytes: () => Buffer;
  truncated: () => boolean;
} {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push: (chunk: Buffer) => {
      const room = cap - kept;
      if (room <= 0) {
        dropped = true;
        return;
      }
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (piece.length < chunk.length) dropped = true;
      chunks.push(piece);
      kept += piece.length;
    },
    bytes: () => Buffer.concat(chunks),
    truncated: () => dropped,
  };
}

function toolEnv(): NodeJS.ProcessEnv {
  // Only what the tools need: a locale-independent output and a PATH that finds LXC's helpers.
  return { PATH: process.env.PATH ?? GUEST_PATH, LANG: 'C', LC_ALL: 'C' };
}

function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

/**
 * The last `lines` lines of an LXC log (reads at most the last 64 KiB); `''` when the file is
 * missing or unreadable, since a missing log must not hide the error being reported.
 */
export async function readLogTail(file: string, lines = LOG_TAIL_LINES): Promise<string> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    const text = buf.toString('utf8').split('\n');
    if (text.at(-1) === '') text.pop();
    return text.slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}

/** A running `lxc-start -F`. */
export interface LxcMonitor {
  /** The `lxc-start` child; its exit is the container's death. */
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once `lxc-start` exited (never rejects). */
  readonly exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
}

/** Options of `spawnLxcStart`. */
export interface LxcStartOptions {
  /** Config file for `-f`. */
  configFile: string;
  /** Log file for `-o` (LXC appends). */
  logFile: string;
  /** `-l`; default `INFO`: enough for a failed start to explain itself and for the exit classification (`Child <pid> ended on signal`), without DEBUG's cost on every start. */
  logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'NOTICE' | 'WARN' | 'ERROR';
  /**
   * Where the container console and lxc-start's own output go: an fd, `'pipe'` (read them from
   * the child's `stdout`/`stderr`), or `/dev/null` when absent. With `lxc.console.path = none`
   * the guest's init inherits it.
   */
  outputFd?: number | 'pipe';
}

/**
 * Starts `lxc-start -F -n NAME -P PATH -f CONFIG -l LEVEL -o LOG` as a child and resolves once it
 * has been spawned (not once the guest is up: see `Session`). Rejects with `LXC_START_FAILED`
 * when the binary cannot be run.
 */
export function spawnLxcStart(target: LxcTarget, options: LxcStartOptions): Promise<LxcMonitor> {
  const args = [
    '-F',
    '-n',
    target.name,
    '-P',
    target.lxcPath,
    '-f',
    options.configFile,
    '-l',
    options.logLevel ?? 'INFO',
    '-o',
    options.logFile,
  ];
  const out = options.outputFd ?? 'ignore';
  return new Promise((resolve, reject) => {
    const child = spawn('lxc-start', args, { stdio: ['ignore', out, out], env: toolEnv() });
    const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>(
      (done) => {
        child.once('exit', (exitCode, signal) => done({ exitCode, signal }));
      },
    );
    child.once('error', (e) => {
      reject(
        new RuntimeError('LXC_START_FAILED', `lxc-start could not be run: ${e.message}`, {
          cause: e,
        }),
      );
    });
    child.once('spawn', () => {
      if (child.pid === undefined) {
        reject(new RuntimeError('LXC_START_FAILED', 'lxc-start has no pid after spawn'));
        return;
      }
      resolve({ child, pid: child.pid, exited });
    });
  });
}

/** What `lxc-info` reports. */
export interface LxcInfo {
  state: LxcState;
  /** Host pid of the container's init; null when not running. */
  initPid: number | null;
}

/**
 * Parses `lxc-info -s -p -H` output. LXC prints `State: X` / `PID: N` lines when asked for
 * several fields and bare values for one; both are accepted. Throws `LXC_TOOL_FAILED` on
 * anything else.
 */
export function parseLxcInfo(text: string): LxcInfo {
  let state: LxcState | null = null;
  let initPid: number | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const labelled = /^([A-Za-z ]+):\s*(\S+)$/.exec(line);
    const key = labelled ? labelled[1]!.toLowerCase() : null;
    const value = labelled ? labelled[2]! : line;
    if ((key === 'state' || key === null) && LXC_STATES.has(value)) {
      state = value as LxcState;
    } else if ((key === 'pid' || key === null) && /^[1-9][0-9]{0,9}$/.test(value)) {
      initPid = Number(value);
    } else if (key === null) {
      throw new RuntimeError(
        'LXC_TOOL_FAILED',
        `unexpected lxc-info output line: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
  }
  if (state === null) throw new RuntimeError('LXC_TOOL_FAILED', 'lxc-info printed no state');
  return { state, initPid: state === 'STOPPED' ? null : initPid };
}

function targetArgs(target: LxcTarget): string[] {
  return ['-n', target.name, '-P', target.lxcPath];
}

/** `lxc-info -s -p -H`: the container's state and init pid. */
export async function lxcInfo(target: LxcTarget): Promise<LxcInfo> {
  const r = await runTool('lxc-info', [...targetArgs(target), '-s', '-p', '-H'], {
    logFile: target.logFile,
  });
  return parseLxcInfo(r.stdout.toString('utf8'));
}

/** `lxc-freeze`: freezes every process of the container. */
export async function lxcFreeze(target: LxcTarget): Promise<void> {
  await runTool('lxc-freeze', targetArgs(target), { logFile: target.logFile });
}

/** `lxc-unfreeze`: thaws the container. */
export async function lxcUnfreeze(target: LxcTarget): Promise<void> {
  await runTool('lxc-unfreeze', targetArgs(target), { logFile: target.logFile });
}

/**
 * `lxc-wait -s STATES -t SECONDS`: resolves once the container is in one of `states`; rejects
 * with `LXC_TOOL_FAILED` when it is not within the timeout.
 */
export async function lxcWait(
  target: LxcTarget,
  states: readonly LxcState[],
  timeoutSeconds: number,
): Promise<void> {
  await runTool(
    'lxc-wait',
    [...targetArgs(target), '-s', states.join('|'), '-t', String(timeoutSeconds)],
    {
      timeoutMs: (timeoutSeconds + 5) * 1000,
      logFile: target.logFile,
    },
  );
}

/**
 * Stops the container: `lxc-stop -t SECONDS` (init gets SIGPWR and may shut down cleanly), then
 * `lxc-stop -k` (SIGKILL) when that fails or times out. Resolves with how it ended.
 */
export async function lxcStop(
  target: LxcTarget,
  timeoutSeconds: number,
): Promise<'clean' | 'killed'> {
  const clean = await runTool('lxc-stop', [...targetArgs(target), '-t', String(timeoutSeconds)], {
    timeoutMs: (timeoutSeconds + 5) * 1000,
    allowFailure: true,
    logFile: target.logFile,
  }).catch(() => null);
  if (clean?.exitCode === 0) return 'clean';
  await runTool('lxc-stop', [...targetArgs(target), '-k'], {
    logFile: target.logFile,
    allowFailure: true,
  });
  return 'killed';
}

/** `lxc-stop -k`: kills the container's init (SIGKILL) without a clean shutdown. */
export async function lxcKill(target: LxcTarget): Promise<void> {
  await runTool('lxc-stop', [...targetArgs(target), '-k'], { logFile: target.logFile });
}

/** Options of `lxcAttach`. */
export interface AttachOptions {
  /** Variables set in the attached process; the rest of its environment is cleared. */
  env?: Readonly<Record<string, string>>;
  /** Bytes for the program's stdin, or a stream piped into it. */
  stdin?: Buffer | string | Readable;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

/** Names allowed for variables passed into the guest. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Runs `argv` inside the container through `lxc-attach --clear-env` (PATH set to `GUEST_PATH`
 * unless `env` sets it). Resolves with the program's exit status and output: a non-zero status
 * is the program's answer, not an error. Rejects with `LXC_TOOL_FAILED` for a bad argv or env
 * name, and `LXC_TIMEOUT` when the program outlives `timeoutMs`.
 */
export async function lxcAttach(
  target: LxcTarget,
  argv: readonly string[],
  options: AttachOptions = {},
): Promise<ToolResult> {
  if (argv.length === 0 || argv.some((a) => a.includes('\0'))) {
    throw new RuntimeError(
      'LXC_TOOL_FAILED',
      'attach needs a non-empty argv without NUL characters',
    );
  }
  const env: Record<string, string> = { PATH: GUEST_PATH, ...options.env };
  const envArgs: string[] = [];
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME_PATTERN.test(key) || value.includes('\0')) {
      throw new RuntimeError(
        'LXC_TOOL_FAILED',
        `invalid environment variable for attach: ${JSON.stringify(key.slice(0, 40))}`,
      );
    }
    envArgs.push('-v', `${key}=${value}`);
  }
  return runTool('lxc-attach', [...targetArgs(target), '--clear-env', ...envArgs, '--', ...argv], {
    timeoutMs: options.timeoutMs ?? 60_000,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    stdin: options.stdin,
    allowFailure: true,
    logFile: target.logFile,
  });
}
