import { describe, expect, it } from 'vitest';
import {
  instancePaths,
  validateInstanceName,
} from '../../../../electron/core/runtime/instance-paths.js';
import { parseLxcInfo } from '../../../../electron/core/runtime/lxc.js';
import {
  configRootIds,
  configRootfs,
  parseLxcConfig,
  withRuntimeAdditions,
} from '../../../../electron/core/runtime/lxc-config-text.js';
import { classifyExit } from '../../../../electron/core/runtime/session.js';

describe('lxc-info output', () => {
  it('reads labelled and bare output', () => {
    expect(parseLxcInfo('State:          RUNNING\nPID:            13970\n')).toEqual({
      state: 'RUNNING',
      initPid: 13970,
    });
    expect(parseLxcInfo('FROZEN\n4242\n')).toEqual({ state: 'FROZEN', initPid: 4242 });
    expect(parseLxcInfo('State:          STOPPED\n')).toEqual({ state: 'STOPPED', initPid: null });
  });

  it('refuses output it does not understand', () => {
    expect(() => parseLxcInfo('')).toThrow(/printed no state/);
    expect(() => parseLxcInfo('PID: 12\n')).toThrow(/printed no state/);
    expect(() => parseLxcInfo('RUNNING\nsomething else\n')).toThrow(
      expect.objectContaining({
        code: 'LXC_TOOL_FAILED',
        message: expect.stringMatching(/unexpected lxc-info output/),
      }),
    );
  });
});

describe('judging a container end', () => {
  const log = (line: string): string =>
    `lxc-start x 2026 DEBUG start - noise\nlxc-start x 2026 INFO error - ${line}\nmore`;
  it('calls a guest that exited 0 a clean shutdown', () => {
    expect(
      classifyExit(
        { exitCode: 0, signal: null },
        'lxc-start x DEBUG Container init process 12 exited',
      ),
    ).toEqual({
      clean: true,
      reason: 'the guest shut down',
    });
  });
  it('reads a killed or failed init from the LXC log even when lxc-start exited 0', () => {
    expect(
      classifyExit({ exitCode: 0, signal: null }, log('Child <14180> ended on signal Killed(9)')),
    ).toEqual({
      clean: false,
      reason: "the container's init was killed by signal Killed(9)",
    });
    expect(
      classifyExit({ exitCode: 0, signal: null }, log('Child <7> ended on error (3)')),
    ).toEqual({
      clean: false,
      reason: "the container's init exited with status 3",
    });
  });
  it('blames lxc-start itself when it failed or was killed', () => {
    expect(classifyExit({ exitCode: 1, signal: null }, '')).toMatchObject({
      clean: false,
      reason: 'lxc-start exited with status 1',
    });
    expect(classifyExit({ exitCode: null, signal: 'SIGKILL' }, '')).toMatchObject({
      clean: false,
      reason: 'lxc-start was killed by SIGKILL',
    });
  });
});

describe('LXC config text', () => {
  const base =
    '# comment\nlxc.uts.name = demo\nlxc.rootfs.path = dir:/var/lib/droidway/guest/demo\n\n';

  it('finds the rootfs and refuses configs without a usable one', () => {
    expect(configRootfs(parseLxcConfig(base))).toBe('/var/lib/droidway/guest/demo');
    expect(configRootfs(parseLxcConfig('lxc.rootfs.path = /srv/root\n'))).toBe('/srv/root');
    expect(() => configRootfs(parseLxcConfig('lxc.uts.name = x\n'))).toThrow(
      /exactly once, found 0/,
    );
    expect(() => configRootfs(parseLxcConfig(`${base}lxc.rootfs.path = /other\n`))).toThrow(
      /found 2/,
    );
    expect(() => configRootfs(parseLxcConfig('lxc.rootfs.path = overlay:/a:/b\n'))).toThrow(
      /not a dir: rootfs path/,
    );
    expect(() => configRootfs(parseLxcConfig('lxc.rootfs.path = dir:relative\n'))).toThrow(
      expect.objectContaining({ code: 'LXC_CONFIG_INVALID' }),
    );
  });

  it('refuses lines that are not config, NULs and oversize text', () => {
    expect(() => parseLxcConfig('lxc.uts.name = a\nrm -rf /\n')).toThrow(
      /line 2 is not "lxc.KEY = VALUE"/,
    );
    expect(() => parseLxcConfig('lxc.uts.name = a\0b\n')).toThrow(/NUL/);
    expect(() => parseLxcConfig('#'.repeat(1024 * 1024 + 1))).toThrow(/longer than/);
  });

  it('maps container root through lxc.idmap', () => {
    expect(configRootIds(parseLxcConfig(base))).toEqual({ uid: 0, gid: 0 });
    const mapped = `${base}lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 200000 65536\n`;
    expect(configRootIds(parseLxcConfig(mapped))).toEqual({ uid: 100000, gid: 200000 });
    expect(() => configRootIds(parseLxcConfig(`${base}lxc.idmap = u zero 1 2\n`))).toThrow(
      /lxc.idmap on line 5/,
    );
  });

  it('appends the runtime mounts and seccomp profile, refusing line injection and double profiles', () => {
    const lines = parseLxcConfig(base);
    const text = withRuntimeAdditions(base, lines, {
      guestRunDir: '/run/droidway/instances/a/guest-run',
      extraMountEntries: ['/usr usr none bind,ro 0 0'],
      seccompFile: '/run/droidway/instances/a/lxc/droidway-a/seccomp.profile',
    });
    expect(text.startsWith(base)).toBe(true);
    expect(text).toContain('lxc.mount.entry = tmpfs run tmpfs');
    expect(text).toContain(
      'lxc.mount.entry = /run/droidway/instances/a/guest-run run/droidway none bind,create=dir',
    );
    expect(text).toContain('lxc.mount.entry = /usr usr none bind,ro 0 0\n');
    expect(text).toContain(
      'lxc.seccomp.profile = /run/droidway/instances/a/lxc/droidway-a/seccomp.profile\n',
    );
    // The result is itself a valid config.
    expect(() => parseLxcConfig(text)).not.toThrow();

    const add = { guestRunDir: '/r', extraMountEntries: [] as string[] };
    expect(() =>
      withRuntimeAdditions(base, lines, {
        ...add,
        extraMountEntries: ['/a a none bind 0 0\nlxc.cap.drop ='],
      }),
    ).toThrow(/holds a line break/);
    expect(() => withRuntimeAdditions(base, lines, { ...add, guestRunDir: '/r x' })).toThrow(
      /whitespace/,
    );
    const withProfile = `${base}lxc.seccomp.profile = /etc/p\n`;
    expect(() =>
      withRuntimeAdditions(withProfile, parseLxcConfig(withProfile), { ...add, seccompFile: '/s' }),
    ).toThrow(/already sets lxc.seccomp.profile/);
  });

  it("adds the guest init's environment after the mounts, refusing unsafe names and values", () => {
    const lines = parseLxcConfig(base);
    const add = { guestRunDir: '/r', extraMountEntries: ['/x run/xdg none bind 0 0'] };
    const text = withRuntimeAdditions(base, lines, {
      ...add,
      environment: { XDG_RUNTIME_DIR: '/run/xdg', WAYLAND_DISPLAY: 'wayland-0' },
    });
    expect(text).toContain('lxc.environment = XDG_RUNTIME_DIR=/run/xdg\n');
    expect(text).toContain('lxc.environment = WAYLAND_DISPLAY=wayland-0\n');
    // /run/xdg must be mounted after the runtime's /run tmpfs, or the tmpfs hides it.
    expect(text.indexOf('tmpfs run tmpfs')).toBeLessThan(text.indexOf('run/xdg'));
    expect(() => parseLxcConfig(text)).not.toThrow();
    expect(() =>
      withRuntimeAdditions(base, lines, { ...add, environment: { 'A=B': 'c' } }),
    ).toThrow(/not a safe name=value/);
    expect(() =>
      withRuntimeAdditions(base, lines, { ...add, environment: { A: 'x\nlxc.cap.drop =' } }),
    ).toThrow(/not a safe name=value/);
  });
});

describe('instance names and paths', () => {
  it('accepts short lowercase names', () => {
    for (const name of ['default', 'a', '0', 'work-2', 'a'.repeat(32)])
      expect(validateInstanceName(name)).toBe(name);
  });
  it('refuses everything else with INSTANCE_NAME_INVALID', () => {
    for (const name of [
      '',
      '-a',
      'A',
      'a_b',
      'a.b',
      '../x',
      'a/b',
      'a'.repeat(33),
      'é',
      'a\n',
      5,
      null,
    ]) {
      expect(() => validateInstanceName(name)).toThrow(
        expect.objectContaining({ code: 'INSTANCE_NAME_INVALID' }),
      );
    }
  });
  it('derives every path from the roots and the name', () => {
    const p = instancePaths('work', { dataRoot: '/d', runtimeRoot: '/r' });
    expect(p).toMatchObject({
      containerName: 'droidway-work',
      dataDir: '/d/work',
      runtimeDir: '/r/work',
      lxcPath: '/r/work/lxc',
      lxcConfigFile: '/r/work/lxc/droidway-work/config',
      controlSocket: '/r/work/control/control.sock',
      readyMarker: '/r/work/guest-run/ready',
      lxcLog: '/d/work/logs/lxc.log',
    });
    expect(() => instancePaths('../etc', { dataRoot: '/d', runtimeRoot: '/r' })).toThrow(/invalid/);
  });
});
