import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runAttach, type GuestExecutor } from '../../../../electron/core/android/guest-exec.js';
import { requirePackageManager } from '../../../../electron/core/android/package-manager.js';

/**
 * A "guest" that is a shell on this host with `bin` as its only PATH: the argv runs through
 * `sh -c 'exec "$0" "$@"'`, as lxc-attach execs it, so a missing `cmd` fails as it does in a
 * demo guest (exit 127, "not found").
 */
function shellGuest(bin: string): GuestExecutor {
  return (argv, options) =>
    runAttach('/bin/sh', ['-c', `PATH=${bin}; exec "$0" "$@"`, ...argv], options);
}

const dirs: string[] = [];
function binDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'droidway-pm-test-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files))
    writeFileSync(path.join(dir, name), body, { mode: 0o755 });
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('requirePackageManager', () => {
  it('refuses a guest without cmd, in plain words naming what to do', async () => {
    const error = await requirePackageManager(shellGuest(binDir({}))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GUEST_NOT_ANDROID' });
    const message = (error as Error).message;
    expect(message).toMatch(/^this guest has no Android package manager/);
    expect(message).toContain('Android image');
    expect(message).not.toMatch(/lxc-attach|exec|not found/);
  });

  it('refuses a cmd that is not Android’s (it answers, but not with the android package)', async () => {
    const bin = binDir({ cmd: '#!/bin/sh\necho "Can\'t find service: package"\nexit 20\n' });
    await expect(requirePackageManager(shellGuest(bin))).rejects.toMatchObject({
      code: 'GUEST_NOT_ANDROID',
    });
    const quiet = binDir({ cmd: '#!/bin/sh\nexit 0\n' });
    await expect(requirePackageManager(shellGuest(quiet))).rejects.toMatchObject({
      code: 'GUEST_NOT_ANDROID',
    });
  });

  it('accepts a guest whose package manager lists the android package', async () => {
    // Android's own output of `cmd package list packages android`: every package whose name
    // contains "android", one per line.
    const bin = binDir({
      cmd: '#!/bin/sh\n[ "$*" = "package list packages android" ] || exit 1\nprintf "package:com.android.shell\\npackage:android\\n"\n',
    });
    await expect(requirePackageManager(shellGuest(bin))).resolves.toBeUndefined();
  });

  it('passes on a cancellation instead of calling it "no Android"', async () => {
    const bin = binDir({ cmd: '#!/bin/sh\nexec /bin/sleep 30\n' });
    const controller = new AbortController();
    const pending = requirePackageManager(shellGuest(bin), { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
