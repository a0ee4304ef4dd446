import { describe, expect, it } from 'vitest';
import type { DoctorCheck } from '../../../../electron/shared/doctor.js';
import { checkAndroidImages } from '../../../../electron/core/doctor/check-android.js';
import {
  checkRenderNodes,
  checkWayland,
  waylandSocketPath,
} from '../../../../electron/core/doctor/check-display.js';
import {
  checkCgroups,
  checkNamespaces,
  checkSeccomp,
} from '../../../../electron/core/doctor/check-kernel.js';
import {
  checkBusybox,
  checkLxc,
  checkPrivileges,
  checkSharedMemory,
} from '../../../../electron/core/doctor/check-runtime.js';
import {
  execOk,
  fakeHost,
  fixture,
  healthyHostSpec,
  makeElf,
  type FakeHostSpec,
} from '../../../fixtures/host/fake-host.js';

function host(change: (spec: FakeHostSpec) => void = () => undefined) {
  const spec = healthyHostSpec();
  change(spec);
  return fakeHost(spec);
}

function byId(checks: DoctorCheck[], id: string): DoctorCheck {
  const check = checks.find((c) => c.id === id);
  if (check === undefined) throw new Error(`no check ${id}`);
  return check;
}

/** Every failing check carries a fix and every passing one none. */
function expectWellFormed(check: DoctorCheck): void {
  if (check.ok) expect(check.fix).toBeUndefined();
  else expect(check.fix).toMatch(/\S/);
}

describe('checkNamespaces', () => {
  it('passes every namespace with the link it saw', async () => {
    const checks = await checkNamespaces(host());
    expect(checks.map((c) => c.id)).toEqual([
      'kernel.namespaces.pid',
      'kernel.namespaces.mnt',
      'kernel.namespaces.net',
      'kernel.namespaces.ipc',
      'kernel.namespaces.uts',
      'kernel.namespaces.cgroup',
      'kernel.namespaces.user',
    ]);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(byId(checks, 'kernel.namespaces.pid').seen).toBe('/proc/self/ns/pid → pid:[4026531836]');
    expect(byId(checks, 'kernel.namespaces.user')).toMatchObject({
      impact: 'optional',
      seen: expect.stringContaining('user.max_user_namespaces = 63338'),
    });
    checks.forEach(expectWellFormed);
  });

  it('fails a missing namespace with the kernel option to enable', async () => {
    const checks = await checkNamespaces(host((s) => delete s.links['/proc/self/ns/net']));
    expect(byId(checks, 'kernel.namespaces.net')).toMatchObject({
      ok: false,
      impact: 'demo',
      seen: 'no /proc/self/ns/net',
      fix: expect.stringContaining('CONFIG_NET_NS=y'),
    });
  });

  it('shows the user-namespace sysctls that exist and fails when they are disabled', async () => {
    const checks = await checkNamespaces(
      host((s) => {
        s.files['/proc/sys/user/max_user_namespaces'] = '0\n';
        s.files['/proc/sys/kernel/unprivileged_userns_clone'] = '0\n';
      }),
    );
    expect(byId(checks, 'kernel.namespaces.user')).toMatchObject({
      ok: false,
      seen: expect.stringContaining('kernel.unprivileged_userns_clone = 0'),
      fix: expect.stringContaining('user.max_user_namespaces'),
    });
  });

  it('fails user namespaces on a kernel without them', async () => {
    const checks = await checkNamespaces(host((s) => delete s.links['/proc/self/ns/user']));
    expect(byId(checks, 'kernel.namespaces.user')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('CONFIG_USER_NS'),
    });
  });
});

describe('checkCgroups', () => {
  it('passes a v2 host with memory and pids in the root cgroup.controllers', async () => {
    const [layout, controllers] = await checkCgroups(host());
    expect(layout).toMatchObject({
      id: 'cgroup.layout',
      ok: true,
      seen: 'v2: cgroup v2 at /sys/fs/cgroup',
    });
    expect(controllers).toMatchObject({
      ok: true,
      seen: 'memory: v2 at /sys/fs/cgroup; pids: v2 at /sys/fs/cgroup',
    });
  });

  it('passes a v1 host with the hierarchies of memory and pids', async () => {
    const [layout, controllers] = await checkCgroups(
      host((s) => {
        s.files['/proc/self/mountinfo'] = fixture('mountinfo-v1.txt');
        s.files['/proc/cgroups'] = fixture('proc-cgroups-v1.txt');
      }),
    );
    expect(layout?.seen).toMatch(
      /^v1: cgroup v1 \(cpuacct, cpu, memory, pids, devices, freezer\)$/,
    );
    expect(controllers?.seen).toBe(
      'memory: v1 at /sys/fs/cgroup/memory; pids: v1 at /sys/fs/cgroup/pids',
    );
  });

  it('reports a hybrid host', async () => {
    const [layout] = await checkCgroups(
      host((s) => (s.files['/proc/self/mountinfo'] = fixture('mountinfo-hybrid.txt'))),
    );
    expect(layout).toMatchObject({
      ok: true,
      seen: expect.stringMatching(/^hybrid: .* \+ cgroup v2 at \/sys\/fs\/cgroup\/unified$/),
    });
  });

  it('fails a controller disabled on the kernel command line', async () => {
    const [, controllers] = await checkCgroups(
      host(
        (s) =>
          (s.files['/proc/cgroups'] = fixture('proc-cgroups-v2.txt').replace(
            'memory\t0\t152\t1',
            'memory\t0\t152\t0',
          )),
      ),
    );
    expect(controllers).toMatchObject({
      ok: false,
      seen: expect.stringContaining('memory: disabled'),
      fix: expect.stringContaining('cgroup_enable=memory'),
    });
  });

  it('fails a controller the kernel lacks', async () => {
    const [, controllers] = await checkCgroups(
      host((s) => {
        s.files['/proc/cgroups'] = fixture('proc-cgroups-v2.txt').replace(/^pids.*\n/m, '');
        s.files['/sys/fs/cgroup/cgroup.controllers'] = 'cpu memory\n';
      }),
    );
    expect(controllers).toMatchObject({
      ok: false,
      seen: expect.stringContaining('pids: not in the kernel'),
      fix: expect.stringContaining('CONFIG_CGROUP_PIDS=y'),
    });
  });

  it('fails a controller that is enabled but mounted nowhere', async () => {
    const [, controllers] = await checkCgroups(
      host((s) => (s.files['/sys/fs/cgroup/cgroup.controllers'] = 'cpu memory\n')),
    );
    expect(controllers).toMatchObject({
      ok: false,
      seen: expect.stringContaining('pids: not mounted'),
      fix: expect.stringContaining('mount -t cgroup -o pids'),
    });
  });

  it('fails both checks when mountinfo is unreadable or malformed', async () => {
    for (const change of [
      (s: FakeHostSpec) => delete s.files['/proc/self/mountinfo'],
      (s: FakeHostSpec) => (s.files['/proc/self/mountinfo'] = 'garbage\n'),
    ]) {
      const checks = await checkCgroups(host(change));
      expect(checks).toHaveLength(2);
      expect(
        checks.every((c) => !c.ok && c.seen.startsWith('cannot read /proc/self/mountinfo')),
      ).toBe(true);
    }
  });

  it('fails the layout when no cgroup filesystem is mounted', async () => {
    const [layout] = await checkCgroups(
      host((s) => (s.files['/proc/self/mountinfo'] = '22 1 0:1 / / rw - ext4 /dev/sda rw\n')),
    );
    expect(layout).toMatchObject({
      ok: false,
      seen: 'no cgroup filesystem mounted',
      fix: expect.stringContaining('mount -t cgroup2'),
    });
  });
});

describe('checkSeccomp', () => {
  it('passes with the actions and this process mode', async () => {
    expect(await checkSeccomp(host())).toMatchObject({
      ok: true,
      seen: 'filter actions: kill_process kill_thread trap errno user_notif trace log allow; this process: mode 0',
    });
  });

  it('notes that the process is already filtered', async () => {
    const check = await checkSeccomp(host((s) => (s.files['/proc/self/status'] = 'Seccomp:\t2\n')));
    expect(check.seen).toContain('mode 2 (already filtered)');
  });

  it('fails without CONFIG_SECCOMP', async () => {
    expect(
      await checkSeccomp(host((s) => (s.files['/proc/self/status'] = 'Name:\tnode\n'))),
    ).toMatchObject({
      ok: false,
      seen: 'no Seccomp field in /proc/self/status',
      fix: expect.stringContaining('CONFIG_SECCOMP=y'),
    });
  });

  it('fails without filter support', async () => {
    const check = await checkSeccomp(
      host((s) => delete s.files['/proc/sys/kernel/seccomp/actions_avail']),
    );
    expect(check).toMatchObject({
      ok: false,
      fix: expect.stringContaining('CONFIG_SECCOMP_FILTER=y'),
    });
  });

  it('fails when a needed action is missing', async () => {
    const check = await checkSeccomp(
      host((s) => (s.files['/proc/sys/kernel/seccomp/actions_avail'] = 'kill allow\n')),
    );
    expect(check).toMatchObject({ ok: false, fix: expect.stringContaining('errno') });
  });
});

describe('checkAndroidImages', () => {
  it('passes with both images in one folder', async () => {
    const check = await checkAndroidImages(
      host((s) =>
        Object.assign(s.files, {
          '/var/lib/waydroid/images/system.img': 'x',
          '/var/lib/waydroid/images/vendor.img': 'x',
        }),
      ),
    );
    expect(check).toMatchObject({
      ok: true,
      seen: 'system.img and vendor.img in /var/lib/waydroid/images',
    });
  });

  it('fails with a half-filled folder named', async () => {
    const check = await checkAndroidImages(
      host((s) => (s.files['/etc/waydroid-extra/images/system.img'] = 'x')),
    );
    expect(check).toMatchObject({
      ok: false,
      seen: '/etc/waydroid-extra/images has only system.img',
    });
  });

  it("fails naming Droidway's own commands, not a download site", async () => {
    const check = await checkAndroidImages(host(), '/nonexistent/droidway-images');
    expect(check).toMatchObject({ ok: false, impact: 'android' });
    expect(check.fix).toContain('droidway image download');
    expect(check.fix).toContain('droidway image import');
    expect(check.fix).not.toMatch(/https?:|sourceforge|waydroid init/);
  });

  it("passes with an image in Droidway's store", async () => {
    const check = await checkAndroidImages(
      host(
        (s) =>
          Object.assign(s.files, {
            '/store/lineage-20/system.img': 'x',
            '/store/lineage-20/vendor.img': 'x',
            '/store/.incoming-1/system.img': 'x',
          }) && Object.assign(s.dirs, { '/store': ['lineage-20', '.incoming-1'] }),
      ),
      '/store',
    );
    expect(check).toMatchObject({
      ok: true,
      seen: "image lineage-20 in Droidway's store (/store)",
    });
  });
});

describe('checkLxc', () => {
  it('passes the tools and the version, asking lxc-start with an argv array', async () => {
    const h = host();
    const [tools, version] = await checkLxc(h);
    expect(tools).toMatchObject({ ok: true, seen: expect.stringContaining('in /usr/bin') });
    expect(version).toMatchObject({ ok: true, seen: 'lxc 5.0.2' });
    expect(h.execCalls).toEqual([['/usr/bin/lxc-start', '--version']]);
  });

  it('names the missing tools', async () => {
    const [tools, version] = await checkLxc(
      host((s) => (s.executables = s.executables.filter((e) => !/lxc-(start|freeze)$/.test(e)))),
    );
    expect(tools).toMatchObject({
      ok: false,
      seen: 'missing lxc-start, lxc-freeze',
      fix: 'apt-get install lxc',
    });
    expect(version).toMatchObject({ ok: false, seen: 'no lxc-start to ask' });
  });

  it('ignores a tool that is not executable or relative PATH entries', async () => {
    const spec = healthyHostSpec();
    spec.executables = spec.executables.filter((e) => e !== '/usr/bin/lxc-info');
    spec.files['/usr/bin/lxc-info'] = 'not executable';
    spec.env.PATH = 'relative/bin:/usr/bin';
    const [tools] = await checkLxc(fakeHost(spec));
    expect(tools).toMatchObject({ ok: false, seen: 'missing lxc-info' });
  });

  it.each([
    ['too old', execOk('3.0.3\n'), 'lxc 3.0.3', false],
    ['4.0 exactly', execOk('4.0.12\n'), 'lxc 4.0.12', true],
    [
      'unrecognised',
      execOk('lxc version unknown\n'),
      'unrecognised version "lxc version unknown"',
      false,
    ],
    [
      'failing',
      { exitCode: 1, signal: null, timedOut: false, stdout: '', stderr: 'boom' },
      '/usr/bin/lxc-start --version exited with 1',
      false,
    ],
    [
      'hanging',
      { exitCode: null, signal: 'SIGKILL', timedOut: true, stdout: '', stderr: '' },
      '/usr/bin/lxc-start --version did not answer in 5000 ms',
      false,
    ],
  ])('judges a %s lxc-start', async (_name, result, seen, ok) => {
    const [, version] = await checkLxc(host((s) => (s.exec = () => result)));
    expect(version).toMatchObject({ ok, seen });
    expectWellFormed(version!);
  });

  it('fails when lxc-start cannot be started', async () => {
    const [, version] = await checkLxc(
      host(
        (s) =>
          (s.exec = () => {
            throw Object.assign(new Error('spawn EACCES'), { code: 'EACCES' });
          }),
      ),
    );
    expect(version).toMatchObject({
      ok: false,
      seen: 'cannot run /usr/bin/lxc-start: spawn EACCES',
    });
  });
});

describe('checkPrivileges', () => {
  it('passes as root', async () => {
    expect(await checkPrivileges(host())).toMatchObject({
      ok: true,
      seen: 'running as root (uid 0)',
    });
  });

  const user = (s: FakeHostSpec, pkcheck: number | null): void => {
    s.uid = 1000;
    s.executables.push('/usr/bin/pkexec', '/usr/local/libexec/droidway-helper');
    if (pkcheck !== null) s.executables.push('/usr/bin/pkcheck');
    s.files['/usr/share/polkit-1/actions/org.droidway.helper.policy'] =
      '<annotate key="org.freedesktop.policykit.exec.path">/usr/local/libexec/droidway-helper</annotate>';
    s.nodes['/run/dbus/system_bus_socket'] = 'socket';
    const previous = s.exec;
    s.exec = (argv) =>
      argv[0] === '/usr/bin/pkcheck'
        ? { exitCode: pkcheck, signal: null, timedOut: false, stdout: '', stderr: '' }
        : previous(argv);
  };

  it('passes a user polkit allows, at once or after a password', async () => {
    expect(await checkPrivileges(host((s) => user(s, 0)))).toMatchObject({
      ok: true,
      seen: 'uid 1000; polkit allows org.droidway.helper for this user',
    });
    expect(await checkPrivileges(host((s) => user(s, 2)))).toMatchObject({
      ok: true,
      seen: expect.stringContaining("administrator's password"),
    });
  });

  it('fails a user polkit refuses, saying who can allow it', async () => {
    expect(await checkPrivileges(host((s) => user(s, 1)))).toMatchObject({
      ok: false,
      fix: expect.stringContaining('allow the action org.droidway.helper'),
    });
  });

  it('names each missing piece with its fix', async () => {
    expect(await checkPrivileges(host((s) => (s.uid = 1000)))).toMatchObject({
      ok: false,
      impact: 'demo',
      fix: expect.stringContaining('apt-get install pkexec'),
    });
    expect(
      await checkPrivileges(
        host((s) => {
          s.uid = 1000;
          s.executables.push('/usr/bin/pkexec');
        }),
      ),
    ).toMatchObject({ ok: false, fix: expect.stringContaining('setup.sh') });
    expect(
      await checkPrivileges(
        host((s) => {
          user(s, 0);
          delete s.files['/usr/share/polkit-1/actions/org.droidway.helper.policy'];
        }),
      ),
    ).toMatchObject({ ok: false, seen: expect.stringContaining('no polkit action') });
    expect(
      await checkPrivileges(
        host((s) => {
          user(s, 0);
          delete s.nodes['/run/dbus/system_bus_socket'];
        }),
      ),
    ).toMatchObject({ ok: false, fix: expect.stringContaining('start D-Bus') });
  });
});

describe('checkBusybox', () => {
  it('passes a static executable', async () => {
    expect(await checkBusybox(host())).toMatchObject({
      ok: true,
      seen: '/bin/busybox: statically linked 64-bit ELF executable',
    });
  });

  it('passes a static PIE', async () => {
    const check = await checkBusybox(host((s) => (s.files['/bin/busybox'] = makeElf({ type: 3 }))));
    expect(check).toMatchObject({
      ok: true,
      seen: '/bin/busybox: statically linked 64-bit ELF PIE',
    });
  });

  it('fails a dynamically linked busybox', async () => {
    const check = await checkBusybox(
      host(
        (s) =>
          (s.files['/bin/busybox'] = makeElf({
            type: 3,
            interpreter: '/lib64/ld-linux-x86-64.so.2',
          })),
      ),
    );
    expect(check).toMatchObject({
      ok: false,
      seen: '/bin/busybox is dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2)',
      fix: 'apt-get install busybox-static',
    });
  });

  it('fails a missing busybox, an object file and a non-ELF file', async () => {
    expect(await checkBusybox(host((s) => delete s.files['/bin/busybox']))).toMatchObject({
      ok: false,
      seen: 'no /bin/busybox',
    });
    expect(
      await checkBusybox(host((s) => (s.files['/bin/busybox'] = makeElf({ type: 1 })))),
    ).toMatchObject({ ok: false, seen: expect.stringContaining('not an executable') });
    expect(
      await checkBusybox(host((s) => (s.files['/bin/busybox'] = '#!/bin/sh\n'))),
    ).toMatchObject({ ok: false, seen: expect.stringContaining('only 10 bytes') });
  });
});

describe('checkSharedMemory', () => {
  it('passes a memfd sealed read-only, with its seals', async () => {
    expect(await checkSharedMemory(host())).toMatchObject({
      ok: true,
      impact: 'demo',
      seen: 'no /dev/ashmem; memfd sealed read-only (seals: shrink, grow, future-write)',
    });
  });

  it.each<[string, FakeHostSpec['shm'], Partial<Record<keyof DoctorCheck, unknown>>]>([
    [
      'fails when the native module is not built, saying how to build it',
      { native: 'missing', message: 'native module not built — run npm run build:native' },
      {
        ok: false,
        seen: 'native module not built — run npm run build:native',
        fix: 'build the native module: npm run build:native',
      },
    ],
    [
      'fails a kernel that rejects F_SEAL_FUTURE_WRITE',
      {
        native: 'loaded',
        ashmemDevice: false,
        memfd: {
          ok: false,
          step: 'seal-read-only',
          code: 'EINVAL',
          message: 'fcntl(F_ADD_SEALS) failed',
        },
      },
      {
        ok: false,
        seen: expect.stringContaining('memfd seal-read-only failed: EINVAL'),
        fix: expect.stringContaining('F_SEAL_FUTURE_WRITE'),
      },
    ],
    [
      'fails a memfd whose seals came back incomplete',
      { native: 'loaded', ashmemDevice: false, memfd: { ok: true, seals: ['shrink', 'grow'] } },
      { ok: false, seen: expect.stringContaining('seals after sealing read-only: shrink, grow') },
    ],
    [
      'passes with /dev/ashmem even when the memfd test fails',
      {
        native: 'loaded',
        ashmemDevice: true,
        memfd: { ok: false, step: 'create', code: 'ENOSYS', message: 'memfd_create' },
      },
      { ok: true, seen: expect.stringContaining('/dev/ashmem present') },
    ],
  ])('%s', async (_name, shm, expected) => {
    expect(await checkSharedMemory(host((s) => (s.shm = shm)))).toMatchObject(expected);
  });
});

describe('checkWayland', () => {
  const globals = [
    { name: 1, interface: 'wl_compositor', version: 5 },
    { name: 2, interface: 'wl_shm', version: 1 },
    { name: 3, interface: 'xdg_wm_base', version: 5 },
    { name: 4, interface: 'zwp_linux_dmabuf_v1', version: 4 },
  ];

  it('resolves WAYLAND_DISPLAY like libwayland', () => {
    expect(waylandSocketPath({})).toEqual({ missing: 'WAYLAND_DISPLAY is not set' });
    expect(waylandSocketPath({ WAYLAND_DISPLAY: '/tmp/w/sock' })).toEqual({ path: '/tmp/w/sock' });
    expect(
      waylandSocketPath({ WAYLAND_DISPLAY: 'wayland-1', XDG_RUNTIME_DIR: '/run/user/1000/' }),
    ).toEqual({ path: '/run/user/1000/wayland-1' });
    expect(waylandSocketPath({ WAYLAND_DISPLAY: 'wayland-1' })).toEqual({
      missing: expect.stringContaining('XDG_RUNTIME_DIR is not set'),
    });
  });

  it('passes with the globals count and the interesting globals', async () => {
    let asked = '';
    const check = await checkWayland(
      host((s) => {
        s.env = { WAYLAND_DISPLAY: 'wayland-0', XDG_RUNTIME_DIR: '/run/user/1000' };
        s.nodes['/run/user/1000/wayland-0'] = 'socket';
        s.wayland = (path) => ((asked = path), globals);
      }),
    );
    expect(asked).toBe('/run/user/1000/wayland-0');
    expect(check).toMatchObject({
      ok: true,
      impact: 'optional',
      seen: '/run/user/1000/wayland-0: 4 globals; xdg_wm_base v5, wl_shm v1, zwp_linux_dmabuf_v1 v4',
    });
  });

  it('fails a compositor without xdg_wm_base', async () => {
    const check = await checkWayland(
      host((s) => {
        s.env = { WAYLAND_DISPLAY: '/tmp/w' };
        s.nodes['/tmp/w'] = 'socket';
        s.wayland = () => globals.filter((g) => g.interface !== 'xdg_wm_base');
      }),
    );
    expect(check).toMatchObject({
      ok: false,
      seen: expect.stringContaining('no xdg_wm_base'),
      fix: expect.stringContaining('lacks xdg_wm_base'),
    });
  });

  it.each([
    ['no WAYLAND_DISPLAY', {}, {}, 'WAYLAND_DISPLAY is not set'],
    ['no socket', { WAYLAND_DISPLAY: '/tmp/w' }, {}, 'no socket at /tmp/w'],
    [
      'not a socket',
      { WAYLAND_DISPLAY: '/tmp/w' },
      { '/tmp/w': 'file' as const },
      '/tmp/w is not a socket',
    ],
    [
      'a dead compositor',
      { WAYLAND_DISPLAY: '/tmp/w' },
      { '/tmp/w': 'socket' as const },
      '/tmp/w: ECONNREFUSED connect ECONNREFUSED',
    ],
  ])('fails with %s', async (_name, env, nodes, seen) => {
    const check = await checkWayland(
      host((s) => {
        s.env = env;
        Object.assign(s.nodes, nodes);
      }),
    );
    expect(check).toMatchObject({ ok: false, seen });
    expectWellFormed(check);
  });
});

describe('checkRenderNodes', () => {
  it('lists render nodes, ignoring card nodes', async () => {
    const check = await checkRenderNodes(
      host((s) => {
        s.dirs['/dev/dri'] = ['card0', 'renderD129', 'renderD128'];
        Object.assign(s.nodes, {
          '/dev/dri/renderD128': 'char-device',
          '/dev/dri/renderD129': 'char-device',
        });
      }),
    );
    expect(check).toMatchObject({ ok: true, seen: '/dev/dri/renderD128, /dev/dri/renderD129' });
  });

  it('fails without /dev/dri', async () => {
    expect(await checkRenderNodes(host())).toMatchObject({
      ok: false,
      impact: 'optional',
      seen: 'no /dev/dri/renderD* device',
    });
  });
});
