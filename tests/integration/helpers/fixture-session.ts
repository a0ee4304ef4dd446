/**
 * A fixture session for the integration tests: a guest started through the built CLI
 * (`droidway session start`) under an instance name of its own, from a clean instance folder, and
 * always stopped and removed again. The caller builds the CLI first (`buildCli`).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { guestDataPathToHost } from '../../../electron/core/android/guest-data.js';
import {
  instancePaths,
  type InstancePaths,
} from '../../../electron/core/runtime/instance-paths.js';
import { droidway, repoRoot, type CliRun } from './cli.js';

/** The fixture Android tools (`pm`, `am` … as shell scripts) a demo guest can be given. */
export const FIXTURE_ANDROID_TOOLS = path.join(repoRoot, 'tests/fixtures/android-guest');

/** How to start a fixture session. */
export interface FixtureSessionOptions {
  /** The instance, a name of this test's own (`fixtureInstanceName`). */
  instance: string;
  /** `--image` (default the CLI's, the demo guest). */
  image?: string;
  /** `--preset` (default the CLI's, strict). */
  preset?: string;
  /** `--policy`, a policy file (instead of `preset`). */
  policyFile?: string;
  /** `--android-tools`: true for `FIXTURE_ANDROID_TOOLS`, or a folder. */
  androidTools?: boolean | string;
  /** `--host-display`, a Wayland socket the display bridge shows the guest's windows on. */
  hostDisplay?: string;
  /**
   * Resolve with the run when `session start` fails (for a test of its output); by default a
   * failed start throws with the CLI's error and the session host's log.
   */
  allowFailure?: boolean;
}

/** A started fixture session. */
export interface FixtureSession {
  instance: string;
  paths: InstancePaths;
  /** What `session start` printed and its exit status. */
  started: CliRun;
  /** Where a path of the guest's `/data` is on the host. */
  guestPath(guestPath: string): Promise<string>;
  /** The session host's log so far ('' before there is one). */
  log(): Promise<string>;
  /** Stops the session and removes the instance's folder; safe to call more than once. */
  stop(): Promise<void>;
}

let counter = 0;

/** A fresh instance name starting with `prefix`: the pid and a counter keep runs apart. */
export function fixtureInstanceName(prefix: string): string {
  return `${prefix}-${process.pid % 100_000}-${counter++}`;
}

/** Stops whatever runs as `instance` and removes its folder. */
export async function cleanInstance(instance: string): Promise<void> {
  await droidway('session', 'stop', '--instance', instance);
  await fs.rm(instancePaths(instance).dataDir, { recursive: true, force: true });
}

/** The `session start` arguments for `options`. */
function startArgs(instance: string, options: FixtureSessionOptions): string[] {
  const args = ['session', 'start', '--instance', instance];
  if (options.image !== undefined) args.push('--image', options.image);
  if (options.preset !== undefined) args.push('--preset', options.preset);
  if (options.policyFile !== undefined) args.push('--policy', options.policyFile);
  if (options.androidTools !== undefined && options.androidTools !== false)
    args.push(
      '--android-tools',
      options.androidTools === true ? FIXTURE_ANDROID_TOOLS : options.androidTools,
    );
  if (options.hostDisplay !== undefined) args.push('--host-display', options.hostDisplay);
  return args;
}

/** Starts a fixture session (see the module doc); the CLI returns once the guest is ready. */
export async function startFixtureSession(options: FixtureSessionOptions): Promise<FixtureSession> {
  const { instance } = options;
  const paths = instancePaths(instance);
  const log = (): Promise<string> => fs.readFile(paths.hostLog, 'utf8').catch(() => '');
  await cleanInstance(instance);
  const started = await droidway(...startArgs(instance, options));
  const session: FixtureSession = {
    instance,
    paths,
    started,
    guestPath: (guestPath) => guestDataPathToHost(instance, guestPath),
    log,
    stop: () => cleanInstance(instance),
  };
  if (started.code !== 0 && options.allowFailure !== true) {
    const hostLog = await log();
    await session.stop();
    throw new Error(
      `session start --instance ${instance} failed (${started.code}): ${started.stderr}` +
        (hostLog !== '' ? `\nsession host log:\n${hostLog.slice(-4000)}` : ''),
    );
  }
  return session;
}

/**
 * Starts a fixture session in `beforeAll` of the surrounding `describe` (after the hooks
 * registered before this call, so `options` may use what they set up) and stops and removes it in
 * `afterAll`, even when a test failed; nothing when `missing` names a missing capability.
 * `current` is the session once started.
 */
export function useFixtureSession(
  missing: string | null,
  options: FixtureSessionOptions | (() => FixtureSessionOptions),
): { readonly current: FixtureSession } {
  let session: FixtureSession | null = null;
  beforeAll(async () => {
    if (missing) return;
    session = await startFixtureSession(typeof options === 'function' ? options() : options);
  }, 300_000);
  afterAll(async () => {
    await session?.stop();
    session = null;
  });
  return {
    get current(): FixtureSession {
      if (session === null) throw new Error('the fixture session is not running');
      return session;
    },
  };
}
