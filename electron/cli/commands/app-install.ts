/**
 * `droidway app install FILE... [--instance NAME] [--json]`: installs APKs and split bundles
 * (`.apks`, `.xapk`) into the running session's guest, one after another. Progress goes to
 * stderr (a line per stage, and every 10 % of a copy or stream); one result per file goes to
 * stdout. Exit 0 when every file installed, 1 when any failed or no session runs, 2 when
 * nothing could start for another reason (not root, a bad instance name). Ctrl-C cancels, and the staging files go with it.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { findRunningGuest, lxcGuestExecutor } from '../../core/android/guest-exec.js';
import { refreshOnInstall } from '../../core/apps/install-refresh.js';
import { InstallQueue, type QueueOutcome } from '../../core/install/install-queue.js';
import { stagingRootFor, type InstallProgress } from '../../core/install/install-pipeline.js';
import { sessionPaths } from '../../core/runtime/session-client.js';
import { catalogOf } from '../app-catalog.js';
import { refuse } from '../cli-errors.js';
import { CliExit, EXIT_NEGATIVE, outputOf } from '../cli-io.js';

/**
 * A failure's message for a person; its code (in `--json` anyway) only under `DROIDWAY_DEBUG=1`.
 */
function withCode(error: { code: string; message: string }, env = process.env): string {
  return env.DROIDWAY_DEBUG === '1' ? `${error.code}: ${error.message}` : error.message;
}

/** One progress line, or null when `event` adds nothing worth a line. */
export function progressLine(
  event: InstallProgress,
  last: Map<string, string>,
  count: number,
): string | null {
  const pct =
    event.totalBytes > 0 ? Math.min(100, Math.floor((event.bytes * 100) / event.totalBytes)) : 0;
  const step =
    event.stage === 'copying' || event.stage === 'installing'
      ? `${event.stage} ${Math.floor(pct / 10) * 10}%`
      : event.stage;
  const key = `${event.id}`;
  if (last.get(key) === step) return null;
  last.set(key, step);
  const name = path.basename(event.file);
  const tail = event.error !== undefined ? `: ${withCode(event.error)}` : '';
  return `[${event.id}/${count}] ${name}: ${step}${tail}\n`;
}

function resultLine(o: QueueOutcome): string {
  const name = path.basename(o.file);
  if (o.ok)
    return `${name}: installed ${o.value.packageName} (version code ${o.value.versionCode})\n`;
  return `${name}: not installed: ${withCode(o.error)}\n`;
}

/** Adds `install` to the `app` command group. */
export function registerAppInstall(app: Command): void {
  app
    .command('install')
    .description('install APK files or split bundles (.apks, .xapk) into the running guest')
    .argument('<file...>', 'APK or bundle files, installed in order')
    .option('--instance <name>', 'instance name', 'default')
    .option('--json', 'print the results as JSON')
    .action(
      async (files: string[], options: { instance: string; json?: boolean }, command: Command) => {
        const { out, err } = outputOf(command);
        const json = options.json === true;
        let queue: InstallQueue;
        try {
          const guest = await findRunningGuest({ instance: options.instance });
          queue = new InstallQueue({
            exec: lxcGuestExecutor(guest),
            stagingRoot: stagingRootFor(sessionPaths(options.instance)),
          });
        } catch (e) {
          refuse(command, e, { json, instance: options.instance });
        }
        const last = new Map<string, string>();
        queue.on('progress', (e) => {
          const line = progressLine(e, last, files.length);
          if (line !== null) err(line);
        });
        if (!json) queue.on('result', (o) => out(resultLine(o)));
        // Each installed file refreshes the catalog, which writes its desktop entry and icons.
        const catalog = catalogOf(options.instance);
        const refreshes = refreshOnInstall(queue, () => catalog);
        const onSignal = (): void => queue.cancelAll();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        let outcomes: QueueOutcome[];
        try {
          for (const f of files) queue.add(f);
          outcomes = await queue.settled();
          await refreshes.settled();
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        const allOk = outcomes.every((o) => o.ok);
        if (json) out(`${JSON.stringify({ ok: allOk, results: outcomes }, null, 2)}\n`);
        if (!allOk) throw new CliExit(EXIT_NEGATIVE);
      },
    );
}

/**
 * Registers `app install` on the program's `app` group, creating the group when no other module
 * has (the `app` group's own module adds its commands to the same group).
 */
export function register(program: Command): void {
  const app =
    program.commands.find((c) => c.name() === 'app') ??
    program.command('app').description('install, list, launch and remove Android apps');
  registerAppInstall(app);
}
