/** Building the demo guest and checking rootfs safety; needs the host's static busybox, not root. */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseElfHeader } from '../../../../electron/core/host/elf-header.js';
import {
  DEMO_GUEST_STAMP_FILE,
  defaultInitScript,
  ensureDemoGuest,
  defaultGuestProgramsDir,
  defaultDemoGuestDir,
  DEMO_GUEST_BUILDER_VERSION,
  hostToolMountEntries,
  parseLddOutput,
} from '../../../../electron/core/runtime/demo-guest.js';
import { checkRootfs } from '../../../../electron/core/runtime/rootfs-check.js';
import { itNeeds } from '../../../helpers/capability.js';

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
      const first = await ensureDemoGuest({ rootfs, programsDir: null, demoClientDir: null });
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
        // Without guest programs or a demo client (passed as null above) these stay empty too.
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
      // The guest gets nothing of the host's /usr or /lib: no mount entries at all.
      expect(first.mountEntries).toEqual([]);
      expect(first.payloadBytes).toBeGreaterThan(busybox.length);
      // Nothing of the build's temporary folders stays beside the rootfs.
      expect(await fs.readdir(path.dirname(rootfs))).toEqual(['demo']);

      const marker = path.join(rootfs, 'etc', 'marker');
      await fs.writeFile(marker, 'kept');
      const again = await ensureDemoGuest({ rootfs, programsDir: null, demoClientDir: null });
      expect(again).toMatchObject({ built: false, stamp: first.stamp });
      expect(existsSync(marker)).toBe(true);

      const changedInit = path.join(tmp, 'init-v2');
      await fs.writeFile(changedInit, `${await fs.readFile(defaultInitScript(), 'utf8')}\n# v2\n`);
      const rebuilt = await ensureDemoGuest({
        rootfs,
        initScript: changedInit,
        programsDir: null,
        demoClientDir: null,
      });
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
    'copies the guest programs and a client with its ldd closure into the tree, mounting nothing',
    missing,
    async () => {
      const rootfs = path.join(tmp, 'programs', 'demo');
      const programs = path.join(tmp, 'guest.d');
      const client = path.join(tmp, 'client-build');
      await fs.mkdir(programs);
      await fs.mkdir(client);
      await fs.writeFile(path.join(programs, '10-hello'), '#!/bin/sh\necho hello\n', {
        mode: 0o755,
      });
      await fs.writeFile(path.join(programs, 'README'), 'not a program\n', { mode: 0o644 });
      // A real dynamic executable stands in for the demo client: the host's /bin/true.
      await fs.copyFile('/bin/true', path.join(client, 'droidway-demo-client'));
      const guest = await ensureDemoGuest({ rootfs, programsDir: programs, demoClientDir: client });
      expect(guest.demoClientDir).toBe(client);
      expect(guest.mountEntries).toEqual([]);
      expect(await fs.readFile(path.join(rootfs, 'opt/droidway/guest.d/10-hello'), 'utf8')).toBe(
        '#!/bin/sh\necho hello\n',
      );
      expect((await fs.stat(path.join(rootfs, 'opt/droidway/guest.d/10-hello'))).mode & 0o777).toBe(
        0o755,
      );
      expect((await fs.stat(path.join(rootfs, 'opt/droidway/guest.d/README'))).mode & 0o777).toBe(
        0o644,
      );
      const copied = await fs.readFile(path.join(rootfs, 'opt/droidway/bin/droidway-demo-client'));
      expect(copied.equals(await fs.readFile('/bin/true'))).toBe(true);
      // Every library ldd names is a regular file at the same path inside, loader included.
      const { execFileSync } = await import('node:child_process');
      const libs = parseLddOutput(execFileSync('ldd', ['/bin/true'], { encoding: 'utf8' }));
      expect(libs.length).toBeGreaterThan(0);
      for (const lib of libs) {
        const inside = await fs.lstat(path.join(rootfs, lib.path));
        expect(inside.isFile(), lib.path).toBe(true);
        expect(inside.size).toBe((await fs.stat(lib.path)).size);
      }
      // A changed program is a changed tree.
      await fs.writeFile(path.join(programs, '10-hello'), '#!/bin/sh\necho changed\n');
      const again = await ensureDemoGuest({ rootfs, programsDir: programs, demoClientDir: client });
      expect(again.built).toBe(true);
      expect(again.stamp).not.toBe(guest.stamp);
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
    "takes an unchanged tree by its inputs' identities, and reads them again when one changes",
    missing,
    async () => {
      const rootfs = path.join(tmp, 'fast', 'demo');
      const programs = path.join(tmp, 'fast-guest.d');
      const client = path.join(tmp, 'fast-client');
      await fs.mkdir(programs);
      await fs.mkdir(client);
      const program = path.join(programs, '10-hello');
      await fs.writeFile(program, '#!/bin/sh\necho hello\n', { mode: 0o755 });
      await fs.copyFile('/bin/true', path.join(client, 'droidway-demo-client'));
      const options = { rootfs, programsDir: programs, demoClientDir: client };
      const readRecord = async (): Promise<{
        stamp: string;
        inputs: { key: string; payloadBytes: number; files: { path: string; id: string }[] };
      }> => JSON.parse(await fs.readFile(path.join(rootfs, DEMO_GUEST_STAMP_FILE), 'utf8'));

      // Files changed in the last 2 s are "racy": recorded as never matching.
      const first = await ensureDemoGuest(options);
      expect(first).toMatchObject({ built: true, checkedBy: 'contents' });
      const racy = await readRecord();
      expect(racy.inputs.files.find((f) => f.path === program)?.id).toBe('racy');
      expect((await ensureDemoGuest(options)).checkedBy).toBe('contents');

      // Once settled, the next full check records every identity, and the one after reads nothing.
      await new Promise((r) => setTimeout(r, 2_100));
      expect(await ensureDemoGuest(options)).toMatchObject({
        built: false,
        checkedBy: 'contents',
        stamp: first.stamp,
      });
      const record = await readRecord();
      const paths = record.inputs.files.map((f) => f.path);
      expect(record.inputs.files.every((f) => /^\d+:\d+:\d+:\d+:\d+$/.test(f.id))).toBe(true);
      // The inputs, the programs folder, the loader's cache and the folders of the libraries.
      expect(paths).toEqual(
        expect.arrayContaining([
          '/bin/busybox',
          programs,
          program,
          path.join(client, 'droidway-demo-client'),
          '/etc/ld.so.cache',
        ]),
      );
      const libs = parseLddOutput(
        (await import('node:child_process')).execFileSync('ldd', ['/bin/true'], {
          encoding: 'utf8',
        }),
      );
      for (const lib of libs) expect(paths).toContain(path.dirname(lib.path));
      const fast = await ensureDemoGuest(options);
      expect(fast).toMatchObject({
        built: false,
        checkedBy: 'identities',
        stamp: first.stamp,
        payloadBytes: first.payloadBytes,
      });

      // Touched, same bytes: a full check, no rebuild.
      const now = new Date();
      await fs.utimes(program, now, now);
      expect(await ensureDemoGuest(options)).toMatchObject({
        built: false,
        checkedBy: 'contents',
        stamp: first.stamp,
      });
      // Same size, other bytes: rebuilt.
      await fs.writeFile(program, '#!/bin/sh\necho HELLO\n');
      const changed = await ensureDemoGuest(options);
      expect(changed).toMatchObject({ built: true, checkedBy: 'contents' });
      expect(changed.stamp).not.toBe(first.stamp);
      // A program added beside it changes the folder: a full check that sees it.
      await new Promise((r) => setTimeout(r, 2_100));
      await ensureDemoGuest(options);
      expect((await ensureDemoGuest(options)).checkedBy).toBe('identities');
      await fs.writeFile(path.join(programs, '20-more'), '#!/bin/sh\n', { mode: 0o755 });
      const added = await ensureDemoGuest(options);
      expect(added).toMatchObject({ built: true, checkedBy: 'contents' });
      expect(existsSync(path.join(rootfs, 'opt/droidway/guest.d/20-more'))).toBe(true);
      // Other options (another busybox, no client) are other inputs, even on the same tree.
      expect((await ensureDemoGuest({ ...options, demoClientDir: null })).checkedBy).toBe(
        'contents',
      );
      // A forged or damaged record is only a lost fast path.
      await fs.writeFile(
        path.join(rootfs, DEMO_GUEST_STAMP_FILE),
        JSON.stringify({ stamp: 'x', inputs: { key: 1, files: 'all' } }),
      );
      expect(await ensureDemoGuest(options)).toMatchObject({ built: true, checkedBy: 'contents' });
    },
    20_000,
  );

  it('names its default folder by builder version, so older builders keep their own tree', () => {
    expect(DEMO_GUEST_BUILDER_VERSION).toBe(2);
    expect(path.basename(defaultDemoGuestDir())).toBe('demo-v2');
  });

  it('gives the host tools read-only, nosuid and nodev, only through hostToolMountEntries', () => {
    const entries = hostToolMountEntries();
    expect(entries).toContain('/usr usr none bind,ro,nosuid,nodev 0 0');
    expect(entries).toContain('/lib lib none bind,ro,nosuid,nodev 0 0');
    for (const e of entries) expect(e).toMatch(/ bind,ro,nosuid,nodev 0 0$/);
  });

  describe('ldd output', () => {
    it('reads libraries and the loader, skipping the vDSO', () => {
      const text = [
        '\tlinux-vdso.so.1 (0x00007ffd4a5f2000)',
        '\tlibwayland-client.so.0 => /lib/x86_64-linux-gnu/libwayland-client.so.0 (0x00007fa197c59000)',
        '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa197a77000)',
        '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa197a77000)',
        '\t/lib64/ld-linux-x86-64.so.2 (0x00007fa197c87000)',
        '',
      ].join('\n');
      expect(parseLddOutput(text)).toEqual([
        { path: '/lib/x86_64-linux-gnu/libwayland-client.so.0' },
        { path: '/lib/x86_64-linux-gnu/libc.so.6' },
        { path: '/lib64/ld-linux-x86-64.so.2' },
      ]);
      expect(parseLddOutput('\tstatically linked\n')).toEqual([]);
    });

    it('refuses a missing library, relative or dot-dot paths, and lines of another shape', () => {
      for (const bad of [
        '\tlibfoo.so.1 => not found',
        '\tlibc.so.6 => lib/libc.so.6 (0x1000)',
        '\tlibc.so.6 => /lib/../etc/shadow (0x1000)',
        '\tlibc.so.6 => /lib/./libc.so.6 (0x1000)',
        '\tlibc.so.6 => /lib/libc.so.6',
        '\tlibc.so.6 => /lib/libc.so.6 (0xZZ)',
        'garbage',
        '\u0000',
        'x'.repeat(300 * 1024),
      ]) {
        expect(() => parseLddOutput(bad), JSON.stringify(bad.slice(0, 60))).toThrow(
          expect.objectContaining({ code: 'GUEST_BUILD_FAILED' }),
        );
      }
    });
  });

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
