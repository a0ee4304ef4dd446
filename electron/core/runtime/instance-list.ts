/**
 * Which instances the caller has: the names the instance picker offers. An instance exists once
 * something was kept for it, so the list is the union of
 *
 * - the folders of the caller's data root (`/var/lib/droidway/instances` for root; a desktop
 *   user's belongs to root, mode 0700, so for them it usually adds nothing), and
 * - for a desktop user, the folders of `$XDG_STATE_HOME/droidway/instances` (`userStateDir`),
 *   where each start (the CLI's and the Session page's) and each applied policy leaves the
 *   instance's options.
 *
 * Both are the caller's own: another user's instances are in neither, so a desktop user sees
 * only theirs. Entries that are not folders or whose names break the instance-name rule (a
 * stray file, `lost+found`, a half-written `.tmp`) are left out.
 */
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  INSTANCE_NAME_PATTERN,
  callerUid,
  defaultDataRoot,
  userStateDir,
  type InstanceRoots,
} from './instance-paths.js';

/** At most this many names are returned (sorted, the first ones kept). */
export const MAX_LISTED_INSTANCES = 256;

/** The caller's instance names, sorted; `[]` when none was ever made (see the module doc). */
export async function listInstances(roots: InstanceRoots = {}): Promise<string[]> {
  const owner = roots.owner ?? callerUid();
  const dataRoot = roots.dataRoot ?? defaultDataRoot(owner);
  // Where `userStateDir` puts a desktop user's files: its parent, found through the function
  // itself so the two cannot disagree.
  const stateRoot = path.dirname(
    userStateDir({ name: 'default', dataDir: path.join(dataRoot, 'default') }, roots),
  );
  const folders = stateRoot === dataRoot ? [dataRoot] : [dataRoot, stateRoot];
  const names = new Set<string>();
  for (const folder of folders)
    for (const entry of await subfolders(folder))
      if (INSTANCE_NAME_PATTERN.test(entry)) names.add(entry);
  return [...names].sort().slice(0, MAX_LISTED_INSTANCES);
}

/** The names of `dir`'s folders; none when it is missing or unreadable. */
async function subfolders(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}
