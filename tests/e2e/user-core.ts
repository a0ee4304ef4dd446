/**
 * The app's core services in a process of their own, run as a desktop user (`runuser`), for e2e
 * tests of what that user can do: the page's calls go to `user-core-child.mjs`, which runs the
 * real `dispatch(createCoreApi(…))` from the built `out/` as that user.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { IpcEventSink } from '../../electron/shared/ipc-contract.js';
import { userEnv, type TestUser } from '../integration/helpers/desktop-user.js';
import { repoRoot } from './test-host.js';

/** A running user core: its dispatcher for `TestHost.open`, and its uid as it reported it. */
export interface UserCore {
  uid: number;
  dispatcher: (channel: unknown, args: unknown) => Promise<unknown>;
  close(): void;
}

/** Starts the core as `user` with its settings in `settingsDir`; events go to `emit`. */
export async function startUserCore(
  user: TestUser,
  settingsDir: string,
  emit: IpcEventSink,
  extraEnv: Record<string, string> = {},
): Promise<UserCore> {
  const child: ChildProcessWithoutNullStreams = spawn(
    'runuser',
    [
      '-u',
      user.name,
      '--',
      'env',
      '-i',
      ...userEnv(user, extraEnv),
      process.execPath,
      path.join(repoRoot, 'tests/e2e/user-core-child.mjs'),
      repoRoot,
      settingsDir,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const pending = new Map<number, (result: unknown) => void>();
  let next = 1;
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`user core exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as {
        ready?: number;
        id?: number;
        result?: unknown;
        event?: string;
        payload?: unknown;
      };
      if (message.ready !== undefined) resolve(message.ready);
      else if (message.id !== undefined) pending.get(message.id)?.(message.result);
      else if (message.event !== undefined)
        emit(message.event as Parameters<IpcEventSink>[0], message.payload as never);
    });
  });
  const uid = await ready;
  return {
    uid,
    dispatcher: (channel, args) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, channel, args })}\n`);
      }),
    close: () => child.kill(),
  };
}
