/**
 * `droidway app …`: the installed apps of a session's guest. `list` (and every command that
 * changes what is installed) keeps the desktop entries and hicolor icons under
 * `$XDG_DATA_HOME` in step with the catalog; `launch` starts the session first when needed;
 * `pin`/`unpin` edit the tray's pins. `install` is `app-install.ts`'s. Also the top-level
 * `droidway --launch PKG`, `--launch-settings PKG` and `--install FILE…` the desktop entries run.
 */
import type { Command } from 'commander';
import { findRunningGuest, lxcGuestExecutor } from '../../core/android/guest-exec.js';
import { AppsStateStore, defaultAppsStateDir } from '../../core/apps/apps-state.js';
import { AppsError } from '../../core/apps/apps-errors.js';
import type { CatalogApp } from '../../core/apps/catalog.js';
import { checkPackageName, xdgDirs } from '../../core/apps/desktop-entry.js';
import { catalogOf } from '../app-catalog.js';
import { refuse } from '../cli-errors.js';
import { CliExit, EXIT_NEGATIVE, outputOf } from '../cli-io.js';
import { registerAppInstall } from './app-install.js';

interface InstanceOption {
  instance: string;
}

function store(env: NodeJS.ProcessEnv = process.env): AppsStateStore {
  return new AppsStateStore(defaultAppsStateDir(xdgDirs(env).configHome));
}

/** Ends the run for `e` by the CLI's rule (see `cli-errors.ts`). */
function fail(command: Command, e: unknown, json = false, instance?: string): never {
  refuse(command, e, { json, ...(instance !== undefined ? { instance } : {}) });
}

function checkedPackage(command: Command, pkg: string): string {
  try {
    checkPackageName(pkg);
    return pkg;
  } catch (e) {
    fail(command, e);
  }
}

function listLine(app: CatalogApp, pinned: boolean): string {
  const flags = [
    app.system ? 'system' : null,
    app.launcherActivity === null ? 'no launcher' : null,
    pinned ? 'pinned' : null,
  ].filter((f) => f !== null);
  // The label is the APK's: control characters could rewrite the terminal.
  // eslint-disable-next-line no-control-regex
  const label = app.label.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return `${app.packageName}\t${app.versionCode}\t${label}${flags.length > 0 ? `\t(${flags.join(', ')})` : ''}\n`;
}

/** Launches `pkg` with the CLI's defaults and prints what happened. */
async function launchFromCli(command: Command, pkg: string, instance: string): Promise<void> {
  const { out, err } = outputOf(command);
  checkedPackage(command, pkg);
  try {
    const { launchApp } = await import('../../core/apps/launch.js');
    const r = await launchApp(pkg, { instance, store: store() });
    if (r.startedSession) err(`droidway: started the session of instance ${instance}\n`);
    out(`started ${r.component}\n`);
  } catch (e) {
    fail(command, e, false, instance);
  }
}

async function settingsFromCli(command: Command, pkg: string, instance: string): Promise<void> {
  checkedPackage(command, pkg);
  try {
    const { openAppSettings } = await import('../../core/apps/launch.js');
    await openAppSettings(pkg, { instance });
    outputOf(command).out(`opened the Android settings of ${pkg}\n`);
  } catch (e) {
    fail(command, e, false, instance);
  }
}

/** Adds the `app` commands (and `app install`) to the program. */
export function register(program: Command): void {
  const app =
    program.commands.find((c) => c.name() === 'app') ??
    program.command('app').description('install, list, launch and remove Android apps');
  if (!app.commands.some((c) => c.name() === 'install')) registerAppInstall(app);

  app
    .command('list')
    .description('list the apps installed in the running guest (and sync their desktop entries)')
    .option('--instance <name>', 'instance name', 'default')
    .option('--json', 'print the apps as JSON')
    .option('--no-desktop', 'do not write or remove desktop entries')
    .action(
      async (options: InstanceOption & { json?: boolean; desktop: boolean }, command: Command) => {
        const { out, err } = outputOf(command);
        const json = options.json === true;
        const catalog = catalogOf(options.instance, options.desktop);
        let apps: CatalogApp[];
        let pinned: string[];
        try {
          apps = await catalog.refresh();
          pinned = (await store().read()).pinned;
        } catch (e) {
          fail(command, e, json, options.instance);
        }
        if (json) {
          out(
            `${JSON.stringify(
              {
                ok: true,
                apps: apps.map((a) => ({ ...a, pinned: pinned.includes(a.packageName) })),
                notes: catalog.notes,
              },
              null,
              2,
            )}\n`,
          );
          return;
        }
        for (const a of apps) out(listLine(a, pinned.includes(a.packageName)));
        for (const n of catalog.notes) err(`droidway: note: ${n}\n`);
      },
    );

  app
    .command('launch')
    .description('start an app (starting the session first when it is stopped)')
    .argument('<package>', 'Android package name')
    .option('--instance <name>', 'instance name', 'default')
    .action(async (pkg: string, options: InstanceOption, command: Command) =>
      launchFromCli(command, pkg, options.instance),
    );

  app
    .command('settings')
    .description("open an app's page in Android's settings")
    .argument('<package>', 'Android package name')
    .option('--instance <name>', 'instance name', 'default')
    .action(async (pkg: string, options: InstanceOption, command: Command) =>
      settingsFromCli(command, pkg, options.instance),
    );

  app
    .command('remove')
    .description('uninstall an app, with its desktop entry and icons')
    .argument('<package>', 'Android package name')
    .option('--instance <name>', 'instance name', 'default')
    .action(async (pkg: string, options: InstanceOption, command: Command) => {
      checkedPackage(command, pkg);
      try {
        const { removeApp } = await import('../../core/apps/remove.js');
        const exec = lxcGuestExecutor(await findRunningGuest({ instance: options.instance }));
        await removeApp(exec, pkg, { desktop: { dirs: xdgDirs() }, store: store() });
        // The catalog's cache and the other entries follow the guest.
        await catalogOf(options.instance)
          .refresh()
          .catch(() => undefined);
      } catch (e) {
        fail(command, e, false, options.instance);
      }
      outputOf(command).out(`removed ${pkg}\n`);
    });

  app
    .command('pin')
    .description('pin an installed app to the tray menu')
    .argument('<package>', 'Android package name')
    .option(
      '--instance <name>',
      'the instance the app is installed in (default $DROIDWAY_INSTANCE, else default)',
    )
    .action(async (pkg: string, options: { instance?: string }, command: Command) => {
      checkedPackage(command, pkg);
      const instance = options.instance ?? (process.env.DROIDWAY_INSTANCE || 'default');
      // A pin of a package the guest does not have would be a tray entry that cannot launch.
      let installed: boolean;
      try {
        installed = (await catalogOf(instance, false).refresh()).some((a) => a.packageName === pkg);
      } catch (e) {
        refuse(command, e, { instance, prefix: `cannot check that ${pkg} is installed: ` });
      }
      if (!installed)
        refuse(
          command,
          new AppsError(
            'APP_NOT_INSTALLED',
            `${pkg} is not installed in instance ${instance}; droidway app list shows what is`,
          ),
          { instance },
        );
      const state = await store().pin(pkg);
      outputOf(command).out(`pinned ${pkg}\n`);
      if (!state.pinned.includes(pkg)) throw new CliExit(EXIT_NEGATIVE);
    });

  app
    .command('unpin')
    .description('unpin an app from the tray menu')
    .argument('<package>', 'Android package name')
    .action(async (pkg: string, _options: unknown, command: Command) => {
      checkedPackage(command, pkg);
      await store().unpin(pkg);
      outputOf(command).out(`unpinned ${pkg}\n`);
    });
}

/**
 * Reports `command.args[0]` as an unknown command the way commander does for subcommands (with
 * its suggestion of a similar name), falling back to the bare error if commander's method moved.
 */
function reportUnknownCommand(command: Command): never {
  const commander = command as unknown as { unknownCommand?: () => never };
  if (typeof commander.unknownCommand === 'function') commander.unknownCommand();
  command.error(`error: unknown command '${command.args[0]}'`, {
    code: 'commander.unknownCommand',
  });
}

/**
 * Adds the top-level `--launch PKG`, `--launch-settings PKG` and `--install FILE…` options
 * (what desktop entries run): handled directly here, as the app's second instance would. They
 * act on the instance `--instance` names (desktop entries name the one the app was installed
 * in), else `$DROIDWAY_INSTANCE`, else `default`.
 */
export function registerLaunchOptions(program: Command): void {
  program
    .option('--launch <package>', 'launch an installed Android app')
    .option('--launch-settings <package>', "open an app's page in Android's settings")
    .option('--install <file...>', 'install APK files or bundles into the running guest')
    .option(
      '--instance <name>',
      'with --launch, --launch-settings or --install: the instance (default $DROIDWAY_INSTANCE, else default)',
    )
    .allowExcessArguments()
    .action(
      async (
        options: {
          launch?: string;
          launchSettings?: string;
          install?: string[];
          instance?: string;
        },
        command: Command,
      ) => {
        // Excess arguments are allowed so that a mistyped command is reported as one, with
        // commander's own "(Did you mean …?)" over the program's commands.
        if (command.args.length > 0) reportUnknownCommand(command);
        // Program options are positional (see createProgram), so this `--instance` never takes a
        // subcommand's own.
        const instance = options.instance ?? (process.env.DROIDWAY_INSTANCE || 'default');
        if (options.launch !== undefined) await launchFromCli(command, options.launch, instance);
        if (options.launchSettings !== undefined)
          await settingsFromCli(command, options.launchSettings, instance);
        if (options.install !== undefined && options.install.length > 0) {
          const install = command.commands
            .find((c) => c.name() === 'app')
            ?.commands.find((c) => c.name() === 'install');
          if (install === undefined) throw new Error('app install is not available');
          await install.parseAsync([...options.install, '--instance', instance], {
            from: 'user',
          });
        }
        if (
          options.launch === undefined &&
          options.launchSettings === undefined &&
          options.install === undefined
        )
          command.help({ error: true });
      },
    );
}
