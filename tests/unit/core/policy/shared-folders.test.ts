import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../../../electron/core/policy/policy-errors.js';
import type { SharedFolder } from '../../../../electron/core/policy/policy-document.js';
import {
  assertSharedFoldersAllowed,
  checkSharedFolders,
  type SharedFolderFs,
} from '../../../../electron/core/policy/shared-folders.js';

const folder = (host: string): SharedFolder => ({ host, guest: '/mnt/shared', mode: 'ro' });

describe('shared folders on a simulated host', () => {
  // A small host: /home/ann (uid 1000), /home/bob (uid 1001), /home/ann/link -> /etc, a file.
  const fs: SharedFolderFs = {
    async realpath(p) {
      if (p.startsWith('/home/ann/link')) return p.replace('/home/ann/link', '/etc');
      if (p === '/home/ann/missing') throw Object.assign(new Error('no'), { code: 'ENOENT' });
      return p;
    },
    async stat(p) {
      if (p === '/home/ann/notes.txt') return { uid: 1000, isDirectory: () => false };
      if (p.startsWith('/home/bob')) return { uid: 1001, isDirectory: () => true };
      if (p.startsWith('/home/ann')) return { uid: 1000, isDirectory: () => true };
      return { uid: 0, isDirectory: () => true };
    },
  };

  it("accepts the user's own directory", async () => {
    expect(await checkSharedFolders([folder('/home/ann/music')], { uid: 1000, fs })).toEqual([]);
  });

  it('refuses each bad folder with its index and reason', async () => {
    const issues = await checkSharedFolders(
      [
        folder('/home/bob/docs'),
        folder('/home/ann/link/ssh'),
        folder('/home/ann/notes.txt'),
        folder('/home/ann/missing'),
      ],
      { uid: 1000, fs },
    );
    expect(issues).toEqual([
      {
        path: '/sharedFolders/0/host',
        message: 'belongs to another user (uid 1001, expected 1000)',
      },
      {
        path: '/sharedFolders/1/host',
        message: expect.stringMatching(/symbolic link .* \(resolves to \/etc\/ssh\)/),
      },
      { path: '/sharedFolders/2/host', message: 'is not a directory' },
      { path: '/sharedFolders/3/host', message: 'cannot be resolved (ENOENT)' },
    ]);
  });

  it('assertSharedFoldersAllowed throws POLICY_HOST_REFUSED', async () => {
    await expect(
      assertSharedFoldersAllowed([folder('/home/bob')], { uid: 1000, fs }),
    ).rejects.toMatchObject({
      code: 'POLICY_HOST_REFUSED',
      issues: [{ path: '/sharedFolders/0/host' }],
    });
    await expect(
      assertSharedFoldersAllowed([folder('/home/bob')], { uid: 1000, fs }),
    ).rejects.toBeInstanceOf(PolicyError);
  });
});

describe('shared folders on the real file system', () => {
  let root: string;
  const uid = process.getuid?.() ?? 0;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'droidway-shared-'));
    mkdirSync(join(root, 'share', 'inner'), { recursive: true });
    mkdirSync(join(root, 'outside'));
    symlinkSync(join(root, 'outside'), join(root, 'share', 'escape'));
    symlinkSync(join(root, 'share'), join(root, 'alias'));
    writeFileSync(join(root, 'file'), 'x');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a real directory of the user', async () => {
    expect(await checkSharedFolders([folder(join(root, 'share'))], { uid })).toEqual([]);
  });

  it('refuses a symlink that leaves the folder, a symlinked parent, a file, a missing path', async () => {
    const issues = await checkSharedFolders(
      [
        folder(join(root, 'share', 'escape')),
        folder(join(root, 'alias', 'inner')),
        folder(join(root, 'file')),
        folder(join(root, 'nothing')),
      ],
      { uid },
    );
    expect(issues.map((i) => [i.path, i.message.split(' (')[0]])).toEqual([
      ['/sharedFolders/0/host', 'goes through a symbolic link and leaves the chosen folder'],
      ['/sharedFolders/1/host', 'goes through a symbolic link and leaves the chosen folder'],
      ['/sharedFolders/2/host', 'is not a directory'],
      ['/sharedFolders/3/host', 'cannot be resolved'],
    ]);
  });

  it('refuses a real directory that belongs to another user', async () => {
    const issues = await checkSharedFolders([folder(join(root, 'share'))], { uid: uid + 4242 });
    expect(issues).toEqual([
      {
        path: '/sharedFolders/0/host',
        message: `belongs to another user (uid ${uid}, expected ${uid + 4242})`,
      },
    ]);
  });
});
