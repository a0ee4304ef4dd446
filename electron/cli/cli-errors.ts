/**
 * The CLI's one exit-status rule and the one way it prints a refusal. 0: success. 1: the
 * command's answer is no (a check failed, a policy is invalid, a session cannot start or is not
 * running, an APK is refused, an app is not installed). 2: a usage error (a bad option value,
 * an invalid instance or package name; commander's own usage errors) or anything unexpected.
 * A person reads a line that starts with words; the internal code is in `--json` output and,
 * with `DROIDWAY_DEBUG=1`, in the line too.
 */
import type { Command } from 'commander';
import { PolicyError, formatIssues } from '../core/policy/policy-errors.js';
import { EXIT_FAILURE, EXIT_NEGATIVE, outputOf } from './cli-io.js';

/** Codes whose error is an answer ("no"), not a usage error or a crash: exit 1. */
export const NEGATIVE_CODES: ReadonlySet<string> = new Set([
  // Sessions: not running, wrong state, cannot start.
  'SESSION_NOT_RUNNING',
  'GUEST_NOT_RUNNING',
  'GUEST_NOT_ANDROID',
  'SESSION_BAD_STATE',
  'SESSION_ALREADY_RUNNING',
  'SESSION_RECORD_INVALID',
  'IMAGE_UNSUPPORTED',
  'POLICY_UNSUITABLE',
  'IMAGE_MOUNTS_STALE',
  'ANDROID_NOT_READY',
  'IMAGE_NOT_FOUND',
  'IMAGE_INVALID',
  'IMAGE_IN_USE',
  'MOUNT_FAILED',
  'BINDER_UNAVAILABLE',
  'PROPS_INVALID',
  'TOOL_FAILED',
  'POLICY_SOURCE_INVALID',
  'POLICY_INVALID',
  'POLICY_HOST_REFUSED',
  'LXC_START_FAILED',
  'ROOTFS_UNSAFE',
  'GUEST_BUILD_FAILED',
  'HOST_ENTRY_MISSING',
  'ANDROID_TOOLS_INVALID',
  'HELPER_MISSING',
  'HELPER_REFUSED',
  'HELPER_PATH_REFUSED',
  'HELPER_IMAGE_REFUSED',
  'CONTROL_PEER_REFUSED',
  'BRIDGE_OFF',
  'PROBE_UNAVAILABLE',
  // Apps and APKs.
  'APP_NOT_INSTALLED',
  'APP_NOT_LAUNCHABLE',
  'ACTIVITY_NOT_FOUND',
]);

/** Codes of a command line that cannot be right (exit 2), listed so no table claims them. */
export const USAGE_CODES: ReadonlySet<string> = new Set([
  'INSTANCE_NAME_INVALID',
  'PACKAGE_NAME_INVALID',
  'IMAGE_NAME_INVALID',
  'POLICY_UNKNOWN_PRESET',
]);

/** The code of `error`, or `INTERNAL` when it carries none. */
export function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** The exit status the rule gives `error`: 1 for an answer, 2 for anything else. */
export function exitStatusOf(error: unknown): number {
  const code = codeOf(error);
  if (USAGE_CODES.has(code)) return EXIT_FAILURE;
  // A refused APK is the reader's answer about the file (`APK_*`), not a crash of the CLI.
  return NEGATIVE_CODES.has(code) || code.startsWith('APK_') ? EXIT_NEGATIVE : EXIT_FAILURE;
}

/** What the message is about, so it can use the person's words. */
export interface RefusalContext {
  /** The instance the command acted on. */
  instance?: string;
}

/**
 * The message of `error` for a person: the core's own text, except where that text names an
 * internal path a person never gave (the session's control socket).
 */
export function humanMessage(error: unknown, context: RefusalContext = {}): string {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (
    (code === 'SESSION_NOT_RUNNING' || code === 'GUEST_NOT_RUNNING') &&
    /^no session host listens on /.test(message)
  ) {
    const name = context.instance ?? 'default';
    return `no session is running for instance ${name}; start one with droidway session start${name === 'default' ? '' : ` --instance ${name}`}`;
  }
  if (error instanceof PolicyError) {
    // A refusal about the whole document (an unknown preset, an unreadable file) is one sentence.
    const only = error.issues.length === 1 ? error.issues[0] : undefined;
    if (only !== undefined && only.path === '') return only.message;
    return `policy refused\n${formatIssues(error.issues).replace(/^/gm, '  ')}`;
  }
  return message;
}

/**
 * Thrown once a command has decided how a run ends with an error: `runCli` prints `message`
 * (prefixed with `code` under `DROIDWAY_DEBUG=1`) unless `printed`, and returns `exitCode`.
 */
export class CliRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
    /** True when the command already printed the refusal (as JSON on stdout). */
    readonly printed: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliRefusal';
  }
}

/**
 * Ends the run for `error` by the rule: with `json`, prints `{ ok: false, error: { code,
 * message } }` on stdout; otherwise `runCli` prints the message on stderr. Always throws.
 */
export function refuse(
  command: Command,
  error: unknown,
  options: RefusalContext & { json?: boolean; prefix?: string } = {},
): never {
  const code = codeOf(error);
  const message = `${options.prefix ?? ''}${humanMessage(error, options)}`;
  const json = options.json === true;
  if (json) {
    const issues = error instanceof PolicyError ? error.issues : undefined;
    outputOf(command).out(
      `${JSON.stringify({ ok: false, error: { code, message: error instanceof Error ? error.message : String(error), issues } }, null, 2)}\n`,
    );
  }
  throw new CliRefusal(code, message, exitStatusOf(error), json, { cause: error });
}
