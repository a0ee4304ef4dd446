/** Building the demo guest and checking rootfs safety; needs the host's static busybox, not root. */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { parseElfHeader } from '../../../electron/core/doctor/elf-header.js';
import {
  DEMO_GUEST_STAMP_FILE,
  defaultInitScript,
  ensureDemoGuest,
  defaultGuestProgramsDir,
  guestProgramMountEntries,
} from '../../../electron/core/runtime/demo-guest.js';
import { checkRootfs } from '../../../electron/core/runtime/rootfs-check.js';
import { itNeeds } from '../../helpers/capability.js';

const missing = existsSync('/bin/busybox') ? null : 'no /bin/busybox (Debian: busybox-static)';
let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-guest-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('demo guest', () => {
  itNeeds(
    'builds a bootable tree once, and rebuilds when the init script changes',
    missing,
    async () => {
      const rootfs = path.join(tmp, 'cache', 'demo');
      const first = await ensureDemoGuest({ rootfs });
      expect(first).toMatchObject({ rootfs, init: '/sbin/init', built: true });
      const busybox = await fs.readFile(path.join(rootfs, 'bin/busybox'));
      expect(parseElfHeader(busybox.subarray(0, 65536)).interpreter).toBeNull();
      for (const applet of [
        'sh',
        'mount',
        'sleep',
        'cat',
        'ls',
        'ps',
        'hostname',
        'ip',
        'echo',
        'kill',
        'mkdir',
      ]) {
        expect(await fs.readlink(path.join(rootfs, 'bin', applet))).toBe('busybox');
      }
      // Mountpoints and the guest programs folder are empty; etc and var hold the few files written.
      for (const dir of [
        'proc',
        'sys',
        'dev',
        'run',
        'tmp',
        'usr',
        'lib',
        'lib64',
        'opt/droidway/guest.d',
        'opt/droidway/bin',
      ]) {
        expect((await fs.lstat(path.join(rootfs, dir))).isDirectory()).toBe(true);
        expect(await fs.readdir(path.join(rootfs, dir))).toEqual([]);
      }
      for (const dir of ['etc', 'var'])
        expect((await fs.lstat(path.join(rootfs, dir))).isDirectory()).toBe(true);
      expect((await fs.stat(path.join(rootfs, 'tmp'))).mode & 0o7777).toBe(0o1777);
      expect(await fs.readFile(path.join(rootfs, 'sbin/init'), 'utf8')).toBe(
        await fs.readFile(defaultInitScript(), 'utf8'),
      );
      expect((await fs.stat(path.join(rootfs, 'sbin/init'))).mode & 0o777).toBe(0o755);
      expect(await fs.readFile(path.join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
      expect(first.mountEntries).toContain('/usr usr none bind,ro,nosuid,nodev 0 0');
      expect(first.mountEntries).toContain('/lib lib none bind,ro,nosuid,nodev 0 0');
      // Nothing of the build's temporary folders stays beside the rootfs.
      expect(await fs.readdir(path.dirname(rootfs))).toEqual(['demo']);

      const marker = path.join(rootfs, 'etc', 'marker');
      await fs.writeFile(marker, 'kept');
      const again = await ensureDemoGuest({ rootfs });
      expect(again).toMatchObject({ built: false, stamp: first.stamp });
      expect(existsSync(marker)).toBe(true);

      const changedInit = path.join(tmp, 'init-v2');
      await fs.writeFile(changedInit, `${await fs.readFile(defaultInitScript(), 'utf8')}\n# v2\n`);
      const rebuilt = await ensureDemoGuest({ rootfs, initScript: changedInit });
      expect(rebuilt.built).toBe(true);
      expect(rebuilt.stamp).not.toBe(first.stamp);
      expect(existsSync(marker)).toBe(false);
      expect(
        JSON.parse(await fs.readFile(path.join(rootfs, DEMO_GUEST_STAMP_FILE), 'utf8')),
      ).toMatchObject({
        stamp: rebuilt.stamp,
      });
      expect(await fs.readdir(path.dirname(rootfs))).toEqual(['demo']);
    },
  );

  itNeeds(
    'mounts the guest programs and the demo client read-only, and adds the mountpoint to older builds',
    missing,
    async () => {
      const rootfs = path.join(tmp, 'programs', 'demo');
      const programs = path.join(tmp, 'guest.d');
      const client = path.join(tmp, 'client-build');
      await fs.mkdir(programs);
      await fs.mkdir(client);
      const guest = await ensureDemoGuest({ rootfs, programsDir: programs, demoClientDir: client });
      expect(guest.demoClientDir).toBe(client);
      expect(guest.mountEntries).toContain(
        `${programs} opt/droidway/guest.d none bind,ro,nosuid,nodev,create=dir 0 0`,
      );
      expect(guest.mountEntries).toContain(
        `${client} opt/droidway/bin none bind,ro,nosuid,nodev,create=dir 0 0`,
      );
      // A build from before the mountpoint existed gets it without a rebuild.
      await fs.rmdir(path.join(rootfs, 'opt/droidway/bin'));
      const again = await ensureDemoGuest({ rootfs, programsDir: programs, demoClientDir: client });
      expect(again.built).toBe(false);
      expect((await fs.lstat(path.join(rootfs, 'opt/droidway/bin'))).isDirectory()).toBe(true);
      const none = await ensureDemoGuest({ rootfs, programsDir: null, demoClientDir: null });
      expect(none.mountEntries.some((e) => e.includes('opt/droidway'))).toBe(false);
      expect(() => guestProgramMountEntries('/a b', null)).toThrow(/whitespace/);
      // The launcher the default programs folder holds waits for the bridge socket.
      const launcher = path.join(defaultGuestProgramsDir()!, '50-demo-client');
      expect((await fs.stat(launcher)).mode & 0o111).not.toBe(0);
      const text = await fs.readFile(launcher, 'utf8');
      // Waits for the socket and runs the client again whenever it ends (a restarted bridge).
      expect(text).toMatch(/if \[ ! -S "\$SOCKET" \]/);
      expect(text).toMatch(/"\$CLIENT" &\n {2}client=\$!\n {2}wait "\$client"/);
    },
  );

  itNeeds(
    'refuses a dynamic busybox and a folder that is not its own build, changing nothing',
    missing,
    async () => {
      const rootfs = path.join(tmp, 'refused', 'demo');
      await expect(ensureDemoGuest({ rootfs, busybox: process.execPath })).rejects.toMatchObject({
        code: 'GUEST_BUILD_FAILED',
        message: expect.stringMatching(/dynamically linked .*busybox-static/),
      });
      await expect(
        ensureDemoGuest({ rootfs, busybox: path.join(tmp, 'absent') }),
      ).rejects.toMatchObject({
        code: 'GUEST_BUILD_FAILED',
      });
      expect(existsSync(rootfs)).toBe(false);

      const foreign = path.join(tmp, 'foreign');
      await fs.mkdir(foreign);
      await fs.writeFile(path.join(foreign, 'precious'), 'x');
      await expect(ensureDemoGuest({ rootfs: foreign })).rejects.toThrow(
        /is not a demo guest build/,
      );
      expect(await fs.readdir(foreign)).toEqual(['precious']);
      expect(await fs.readdir(tmp)).not.toContainEqual(expect.stringMatching(/\.tmp-/));
    },
  );
});

describe('rootfs check', () => {
  itNeeds(
    'refuses a symlinked or missing proc, sys or dev, and a relative or symlinked rootfs',
    missing,
    async () => {
      const good = path.join(tmp, 'check');
      for (const d of ['proc', 'sys', 'dev'])
        await fs.mkdir(path.join(good, d), { recursive: true });
      expect(await checkRootfs(good)).toBe(good);

      for (const entry of ['proc', 'sys', 'dev']) {
        const bad = path.join(tmp, `bad-${entry}`);
        await fs.cp(good, bad, { recursive: true });
        await fs.rmdir(path.join(bad, entry));
        await fs.symlink('/', path.join(bad, entry));
        await expect(checkRootfs(bad)).rejects.toMatchObject({
          code: 'ROOTFS_UNSAFE',
          message: expect.stringContaining(
            `/${entry} of the rootfs (${bad}/${entry}) is a symlink`,
          ),
        });
        await fs.unlink(path.join(bad, entry));
        await expect(checkRootfs(bad)).rejects.toThrow(/does not exist/);
        await fs.writeFile(path.join(bad, entry), '');
        await expect(checkRootfs(bad)).rejects.toThrow(/is not a directory/);
      }
      await fs.symlink(good, path.join(tmp, 'link-to-good'));
      await expect(checkRootfs(path.join(tmp, 'link-to-good'))).rejects.toThrow(
        /the rootfs .* is a symlink/,
      );
      await expect(checkRootfs('relative/root')).rejects.toThrow(/not an absolute path/);
    },
  );
});
