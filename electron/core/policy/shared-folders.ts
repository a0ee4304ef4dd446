/**
 * Host-side checks of a policy's shared folders, run before a session starts (by the privileged
 * helper with the requesting user's uid): each host path must be a directory that is what it says
 * (no symlink anywhere along it, so `realpath` gives back the same path) and belongs to the user.
 *
 * Symlinks *inside* a shared folder are not followed on the host: the guest resolves them in its
 * own root after the bind mount, so they cannot reach host files.
 */
import { promises as fsp } from 'node:fs';
import { POLICY_HOST_REFUSED, PolicyError, type PolicyIssue } from './policy-errors.js';
import type { SharedFolder } from './policy-document.js';

/** The file-system calls the checks make; injectable so tests can simulate any host. */
export interface SharedFolderFs {
  realpath(path: string): Promise<string>;
  /** `lstat`-free `stat`: follows links (the realpath comparison has already refused them). */
  stat(path: string): Promise<{ uid: number; isDirectory(): boolean }>;
}

/** The real file system. */
export const nodeSharedFolderFs: SharedFolderFs = {
  realpath: (p) => fsp.realpath(p),
  stat: (p) => fsp.stat(p),
};

export interface SharedFolderCheckOptions {
  /** The user the session runs for; every shared folder must be owned by this uid. */
  uid: number;
  fs?: SharedFolderFs;
}

/**
 * Checks every shared folder against the host and returns the issues found (empty = all fine);
 * paths in issues point into the policy (`/sharedFolders/1/host`).
 */
export async function checkSharedFolders(
  folders: readonly SharedFolder[],
  options: SharedFolderCheckOptions,
): Promise<PolicyIssue[]> {
  const fs = options.fs ?? nodeSharedFolderFs;
  const issues: PolicyIssue[] = [];
  for (const [i, folder] of folders.entries()) {
    const path = `/sharedFolders/${i}/host`;
    let real: string;
    try {
      real = await fs.realpath(folder.host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      issues.push({ path, message: `cannot be resolved (${code})` });
      continue;
    }
    if (real !== folder.host) {
      issues.push({
        path,
        message: `goes through a symbolic link and leaves the chosen folder (resolves to ${real})`,
      });
      continue;
    }
    let st: { uid: number; isDirectory(): boolean };
    try {
      st = await fs.stat(real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      issues.push({ path, message: `cannot be read (${code})` });
      continue;
    }
    if (!st.isDirectory()) {
      issues.push({ path, message: 'is not a directory' });
    } else if (st.uid !== options.uid) {
      issues.push({
        path,
        message: `belongs to another user (uid ${st.uid}, expected ${options.uid})`,
      });
    }
  }
  return issues;
}

/** Like `checkSharedFolders`, but throws a `PolicyError` (code `POLICY_HOST_REFUSED`) on any issue. */
export async function assertSharedFoldersAllowed(
  folders: readonly SharedFolder[],
  options: SharedFolderCheckOptions,
): Promise<void> {
  const issues = await checkSharedFolders(folders, options);
  if (issues.length > 0) throw new PolicyError(POLICY_HOST_REFUSED, issues);
}
