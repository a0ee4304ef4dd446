/**
 * The instance picker's list as a desktop user sees it (`listInstances`, run from the built
 * `out/` as a real non-root user): the instances the user's own state folder holds, and none of
 * root's, nor another folder's under the users' root that the user cannot read. Needs root (to
 * make the user and root's folders) and the built TypeScript (`npm run build:ts`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { defaultDataRoot } from '../../electron/core/runtime/instance-paths.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { repoRoot } from './helpers/cli.js';
import { ensureUser, openCheckoutToUsers, runAs, type TestUser } from './helpers/desktop-user.js';

const built = path.join(repoRoot, 'out/electron/core/runtime/instance-list.js');
const reason =
  needRoot() ??
  missingTool(['runuser', 'useradd']) ??
  (existsSync(built) ? null : 'not built (npm run build:ts)');
const TAG = `il${process.pid % 100000}`;

describe('listInstances as a desktop user', () => {
  let user: TestUser;
  let state = '';
  let closeCheckout: (() => Promise<void>) | null = null;
  const made: string[] = [];

  beforeAll(async () => {
    if (reason !== null) return;
    user = ensureUser('droidway-it-a');
    closeCheckout = await openCheckoutToUsers();
    state = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-il-state-'));
    for (const name of [`${TAG}-mine`, `${TAG}-work`])
      await fs.mkdir(path.join(state, 'droidway', 'instances', name), { recursive: true });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, state]);
    // Root's own instance, and one under the user's (root-only) data root.
    for (const dir of [
      path.join(defaultDataRoot(0), `${TAG}-root`),
      path.join(defaultDataRoot(user.uid), `${TAG}-hidden`),
    ]) {
      await fs.mkdir(dir, { recursive: true });
      made.push(dir);
    }
    await fs.chmod(defaultDataRoot(user.uid), 0o700);
  });
  afterAll(async () => {
    for (const dir of made) await fs.rm(dir, { recursive: true, force: true });
    if (state !== '') await fs.rm(state, { recursive: true, force: true });
    await closeCheckout?.();
  });

  itNeeds('lists the user state folder instances, and none of root’s', reason, async () => {
    const run = await runAs(
      user,
      [
        process.execPath,
        '--input-type=module',
        '-e',
        `const { listInstances } = await import(${JSON.stringify(built)});
         process.stdout.write(JSON.stringify(await listInstances()));`,
      ],
      { XDG_STATE_HOME: state },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const names = JSON.parse(run.stdout) as string[];
    expect(names.filter((n) => n.startsWith(TAG))).toEqual([`${TAG}-mine`, `${TAG}-work`]);
    // Root, listing its own, sees its instance and not the user's.
    const { listInstances } = await import('../../electron/core/runtime/instance-list.js');
    const roots = await listInstances();
    expect(roots).toContain(`${TAG}-root`);
    expect(roots).not.toContain(`${TAG}-mine`);
  });
});
