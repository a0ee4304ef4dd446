/**
 * `droidway session …`: a headless session, owned by a detached session host.
 * - `session start [--instance NAME] [--image demo|NAME|PATH] [--preset NAME | --policy FILE]
 *   [--host-display NAME|PATH] [--android-tools DIR] [--json]`: boots the demo guest or an
 *   Android image (a name `image list` shows, or a folder with system.img and vendor.img)
 *   under the policy (default preset `strict` for the demo, `android` for Android) and prints
 *   its state. A host that cannot boot Android (no binder …) is told exactly what it lacks,
 *   before anything is mounted.
 *   The guest's windows reach the host compositor (`--host-display`, default `WAYLAND_DISPLAY`)
 *   through the display bridge; without one the session runs with the bridge off.
 *   `--android-tools DIR` (demo guest only) mounts stand-in `pm`/`am`/`cmd` read-only at
 *   `/system/bin` and the instance's persistent guest data at `/data`.
 * - `session status [--instance NAME] [--json]`: the state (`stopped` when no host answers).
 * - `session stop|freeze|unfreeze [--instance NAME] [--json]`: asks the host; prints the state.
 * Refusals (a bad policy, no session, a wrong state) print the reason and exit 1; stopping a
 * session that is not running is not one (exit 0, saying so).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PRESET_NAMES } from '../../core/policy/preset-names.js';
import type { SessionStatus } from '../../core/runtime/session.js';
import { DEMO_IMAGE, defaultPresetFor } from '../../core/session/default-preset.js';
import type { PolicySource } from '../../core/session/plan.js';
import {
  freezeSession,
  sessionStatus,
  stopSession,
  unfreezeSession,
  type SessionRef,
} from '../../core/runtime/session-client.js';
import type { StartedSession } from '../../core/session/start.js';
import { codeOf, refuse as cliRefuse } from '../cli-errors.js';
import { CliExit, EXIT_FAILURE, outputOf } from '../cli-io.js';

/** Preset of `session start --image demo` when neither `--preset` nor `--policy` is given. */
export const DEFAULT_SESSION_PRESET = defaultPresetFor(DEMO_IMAGE);
/** Preset of `session start` with an Android image when no policy is given. */
export const DEFAULT_ANDROID_PRESET = 'android';

/** One line for a person: `instance default: running (init pid 1234)`. */
export function formatStatus(s: SessionStatus): string {
  const detail: string[] = [];
  if (s.initPid !== null) detail.push(`init pid ${s.initPid}`);
  if (s.state.code !== undefined) detail.push(s.state.code);
  if (s.state.reason !== undefined && s.state.reason !== s.state.name) detail.push(s.state.reason);
  const line = `instance ${s.instance}: ${s.state.name}${detail.length > 0 ? ` (${detail.join('; ')})` : ''}\n`;
  return s.bridge === undefined ? line : `${line}${formatBridge(s.bridge)}`;
}

/** `  display bridge: running on /run/user/1000/wayland-0 (1 client; windows droidway.demo)`. */
export function formatBridge(b: NonNullable<SessionStatus['bridge']>): string {
  const detail: string[] = [];
  if (b.state === 'starting' || b.state === 'running') {
    detail.push(`${b.clients} client${b.clients === 1 ? '' : 's'}`);
    if (b.toplevels.length > 0) detail.push(`windows ${b.toplevels.join(', ')}`);
  }
  if (b.reason !== null) detail.push(b.reason);
  // Older session hosts report no process part.
  const proc = (b as Partial<typeof b>).process;
  if (proc !== undefined && proc.lastEnd !== null && b.reason !== proc.lastEnd)
    detail.push(proc.lastEnd);
  const on = b.hostSocket !== null && b.state !== 'off' ? ` on ${b.hostSocket}` : '';
  return `  display bridge: ${b.state}${on}${detail.length > 0 ? ` (${detail.join('; ')})` : ''}\n`;
}

/** Ends the run for `error` by the CLI's rule (see `cli-errors.ts`), naming `options`' instance. */
function refuse(command: Command, error: unknown, options: RefOptions): never {
  cliRefuse(command, error, { json: options.json === true, instance: options.instance });
}

interface RefOptions {
  instance?: string;
  json?: boolean;
}

function refOf(options: RefOptions): SessionRef {
  return options.instance !== undefined ? { instance: options.instance } : {};
}

function printStatus(command: Command, status: SessionStatus, json: boolean): void {
  const { out } = outputOf(command);
  out(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}

/** Adds the `session` command group to `program`. */
export function register(program: Command): void {
  const session = program
    .command('session')
    .description('start, stop and inspect a headless Droidway session');

  session
    .command('start')
    .description('boot the guest under an isolation policy; returns once its init runs')
    .option('--instance <name>', 'instance name', 'default')
    .option(
      '--image <image>',
      `${DEMO_IMAGE}, an Android image name (droidway image list) or a folder holding system.img and vendor.img`,
      DEMO_IMAGE,
    )
    .option(
      '--preset <name>',
      `isolation preset (${PRESET_NAMES.join(', ')}; default ${DEFAULT_SESSION_PRESET} for the demo, ${DEFAULT_ANDROID_PRESET} for Android)`,
    )
    .option('--policy <file>', 'isolation policy file (see droidway policy check)')
    .option(
      '--host-display <name|path>',
      'host Wayland display the guest windows go to (default: WAYLAND_DISPLAY under XDG_RUNTIME_DIR)',
    )
    .option(
      '--android-tools <dir>',
      'demo guest only: mount stand-in Android tools (pm, am, cmd) at /system/bin and a persistent /data',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (
        options: RefOptions & {
          image: string;
          preset?: string;
          policy?: string;
          androidTools?: string;
          hostDisplay?: string;
        },
        command: Command,
      ) => {
        const json = options.json === true;
        if (options.preset !== undefined && options.policy !== undefined) {
          outputOf(command).err('droidway: give either --preset or --policy, not both\n');
          throw new CliExit(EXIT_FAILURE);
        }
        const source: PolicySource =
          options.policy !== undefined
            ? { file: options.policy }
            : { preset: options.preset ?? defaultPresetFor(options.image) };
        // Starting loads the planner, the policy validator and the session host's code: only
        // here, so `session status` and the other subcommands never load them.
        const [{ startSessionAsUser }, { rememberStartOptions }] = await Promise.all([
          import('../../core/privileged/user-session.js'),
          import('../../core/apps/last-start.js'),
        ]);
        let started: StartedSession;
        try {
          started = await startSessionAsUser({
            ...refOf(options),
            image: options.image,
            policy: source,
            ...(options.androidTools !== undefined ? { androidTools: options.androidTools } : {}),
            ...(options.hostDisplay !== undefined ? { hostDisplay: options.hostDisplay } : {}),
            onWarning: (message) => outputOf(command).err(`droidway: warning: ${message}\n`),
          });
        } catch (e) {
          refuse(command, e, options);
        }
        // A later `app launch` while stopped starts the session the same way.
        const remembered = await rememberStartOptions(refOf(options), {
          image: options.image,
          policy: 'file' in source ? { file: resolve(source.file) } : source,
          ...(options.androidTools !== undefined
            ? { androidTools: resolve(options.androidTools) }
            : {}),
        }).then(
          () => null,
          (e: unknown) => `could not remember the start options: ${(e as Error).message}`,
        );
        if (remembered !== null) started.notes.push({ field: '', message: remembered });
        const { out } = outputOf(command);
        if (json) {
          out(
            `${JSON.stringify({ ok: true, policy: started.policyName, notes: started.notes, status: started.status }, null, 2)}\n`,
          );
          return;
        }
        out(formatStatus(started.status));
        out(`  policy ${started.policyName}; logs in ${started.paths.logDir}\n`);
        for (const n of started.notes) out(`  note: ${n.field || '(policy)'}: ${n.message}\n`);
      },
    );

  session
    .command('status')
    .description('print the session state (stopped when no session host runs)')
    .option('--instance <name>', 'instance name', 'default')
    .option('--json', 'print the status as JSON')
    .action(async (options: RefOptions, command: Command) => {
      const json = options.json === true;
      let status: SessionStatus;
      try {
        status = await sessionStatus(refOf(options));
      } catch (e) {
        refuse(command, e, options);
      }
      printStatus(command, status, json);
    });

  const simple: Array<{
    name: string;
    description: string;
    run: (ref: SessionRef) => Promise<SessionStatus>;
  }> = [
    {
      name: 'stop',
      description: 'stop the session; returns once the host is clean',
      run: (ref) => stopSession(ref),
    },
    { name: 'freeze', description: 'freeze every process of the guest', run: freezeSession },
    { name: 'unfreeze', description: 'thaw a frozen guest', run: unfreezeSession },
  ];
  for (const c of simple) {
    session
      .command(c.name)
      .description(c.description)
      .option('--instance <name>', 'instance name', 'default')
      .option('--json', 'print the status as JSON')
      .action(async (options: RefOptions, command: Command) => {
        const json = options.json === true;
        let status: SessionStatus;
        try {
          status = await c.run(refOf(options));
        } catch (e) {
          if (c.name !== 'stop' || codeOf(e) !== 'SESSION_NOT_RUNNING') refuse(command, e, options);
          // What the person wanted is already true.
          status = await sessionStatus(refOf(options));
          if (!json)
            outputOf(command).err(
              `droidway: instance ${options.instance ?? 'default'} was not running\n`,
            );
        }
        printStatus(command, status, json);
      });
  }
}
