import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorCheck, DoctorReport } from '../../electron/shared/doctor.js';
import { itNeeds, needRoot } from '../helpers/capability.js';

/**
 * The built `droidway` CLI against this machine: `node electron/cli/droidway.js doctor --json`,
 * compared with what the machine really has, and the Wayland check against a real headless weston.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const shim = join(root, 'electron/cli/droidway.js');
// The shim runs the bundle when there is one: rebuild it (with the tsc output) when stale.
const builtMain = join(root, 'out/cli/droidway.js');
const nativeAddon = join(root, 'native/build/Release/droidway_native.node');

function onPath(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function need(name: string): string | null {
  return onPath(name) === null ? `needs ${name}` : null;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runShim(args: string[], env: NodeJS.ProcessEnv, script = shim): Run {
  const result = spawnSync(process.execPath, [script, ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The environment without any display, so the doctor run does not depend on the caller's session. */
function headlessEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra.WAYLAND_DISPLAY === undefined) delete env.WAYLAND_DISPLAY;
  return env;
}

function check(report: DoctorReport, id: string): DoctorCheck {
  const found = report.checks.find((c) => c.id === id);
  if (found === undefined)
    throw new Error(`report has no check ${id}: ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

beforeAll(() => {
  if (existsSync(builtMain) && statSync(builtMain).mtimeMs >= newestSource(join(root, 'electron')))
    return;
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      encoding: 'utf8',
      timeout: 170_000,
    },
  );
  spawnSync(process.execPath, [join(root, 'build/scripts/bundle-cli.js')], {
    cwd: root,
    timeout: 120_000,
  });
  // tsc emits even with type errors elsewhere in the tree; only a missing entry point stops us.
  if (!existsSync(builtMain))
    throw new Error(`build failed, no ${builtMain}:\n${tsc.stdout}${tsc.stderr}`);
});

describe('droidway doctor --json on this machine', () => {
  let run: Run;
  let report: DoctorReport;

  beforeAll(() => {
    run = runShim(['doctor', '--json'], headlessEnv());
    report = JSON.parse(run.stdout) as DoctorReport;
  });

  it('prints a well-formed report', () => {
    expect(run.stderr).toBe('');
    expect(report.checks.length).toBeGreaterThan(15);
    for (const c of report.checks) {
      expect(c).toMatchObject({
        id: expect.any(String),
        title: expect.any(String),
        seen: expect.any(String),
      });
      expect(['demo', 'android', 'optional']).toContain(c.impact);
      if (c.ok) expect(c.fix).toBeUndefined();
      else expect(c.fix).toMatch(/\S/);
    }
    expect(report.host.kernel).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(report.host.uid).toBe(process.getuid?.());
  });

  it('reports binder as the machine has it, with a fix when missing', () => {
    const binderfs = /\tbinder$/m.test(readFileSync('/proc/filesystems', 'utf8'));
    const devices = ['/dev/binder', '/dev/hwbinder', '/dev/vndbinder'].every((d) => existsSync(d));
    const binder = check(report, 'binder');
    expect(binder.ok).toBe(binderfs || devices);
    if (!binder.ok) {
      expect(binder.fix).toMatch(/binder_linux|CONFIG_ANDROID_BINDER_IPC/);
      expect(report.android.blockers).toContain('binder');
    }
  });

  itNeeds(
    'proves a sealed memfd through the native module',
    existsSync(nativeAddon) ? null : 'needs the native addon (npm run build:native)',
    () => {
      expect(check(report, 'shm')).toMatchObject({
        ok: true,
        seen: expect.stringMatching(/memfd sealed read-only \(seals: .*future-write/),
      });
    },
  );

  itNeeds('reports LXC tools and the version lxc-start gives', need('lxc-start'), () => {
    const version = spawnSync(onPath('lxc-start')!, ['--version'], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(check(report, 'lxc.tools').ok).toBe(true);
    expect(check(report, 'lxc.version')).toMatchObject({ ok: true, seen: `lxc ${version}` });
  });

  itNeeds(
    'exits 0: the demo guest can run here',
    needRoot() ?? need('lxc-start') ?? (existsSync(nativeAddon) ? null : 'needs the native addon'),
    () => {
      expect(report.demoGuest).toEqual({
        canRun: true,
        blockers: [],
        summary: 'The demo guest can run',
      });
      expect(run.status).toBe(0);
    },
  );

  it('prints the same verdicts as a table without --json', () => {
    const table = runShim(['doctor'], headlessEnv());
    expect(table.status).toBe(run.status);
    expect(table.stdout).toContain(
      `${report.demoGuest.canRun ? '✔' : '✘'} ${report.demoGuest.summary}`,
    );
    expect(table.stdout).toContain(
      `${report.android.canRun ? '✔' : '✘'} ${report.android.summary}`,
    );
  });

  it('prints its version', () => {
    const version = runShim(['--version'], headlessEnv());
    expect(version).toMatchObject({
      status: 0,
      stdout: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version}\n`,
    });
  });
});

describe('droidway doctor without the native addon', () => {
  it('still runs, says how to build it and exits 1', () => {
    const run = runShim(
      ['doctor', '--json'],
      headlessEnv({ DROIDWAY_NATIVE_PATH: join(tmpdir(), `droidway-none-${process.pid}.node`) }),
    );
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(check(report, 'shm')).toMatchObject({
      ok: false,
      seen: 'native module not built — run npm run build:native',
      fix: 'build the native module: npm run build:native',
    });
    expect(report.demoGuest.blockers).toContain('shm');
    expect(run.status).toBe(1);
  });
});

describe('the bin shim before a build', () => {
  it('says how to build and exits 2', () => {
    const fakeRoot = mkdtempSync(join(tmpdir(), 'droidway-unbuilt-'));
    try {
      mkdirSync(join(fakeRoot, 'electron/cli'), { recursive: true });
      copyFileSync(shim, join(fakeRoot, 'electron/cli/droidway.js'));
      const run = runShim(['doctor'], headlessEnv(), join(fakeRoot, 'electron/cli/droidway.js'));
      expect(run).toEqual({
        status: 2,
        stdout: '',
        stderr: 'Droidway is not built yet: run `npm run build` (or `npm run setup`)\n',
      });
    } finally {
      rmSync(fakeRoot, { recursive: true, force: true });
    }
  });
});

describe('droidway doctor against a headless weston', () => {
  const socketName = `droidway-doctor-${process.pid}`;
  let runtimeDir: string | null = null;
  let weston: ChildProcess | null = null;
  let westonLog = '';

  beforeAll(async () => {
    if (onPath('weston') === null) return;
    runtimeDir = mkdtempSync(join(tmpdir(), 'droidway-xdg-'));
    weston = spawn(
      'weston',
      [
        '--backend=headless-backend.so',
        '--use-pixman',
        `--socket=${socketName}`,
        '--idle-time=0',
        '--width=1024',
        '--height=768',
      ],
      { env: { ...process.env, XDG_RUNTIME_DIR: runtimeDir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    weston.stdout?.on('data', (d: Buffer) => (westonLog += d.toString()));
    weston.stderr?.on('data', (d: Buffer) => (westonLog += d.toString()));
    const socket = join(runtimeDir, socketName);
    const deadline = Date.now() + 15_000;
    while (!existsSync(socket)) {
      if (Date.now() > deadline || weston.exitCode !== null)
        throw new Error(`weston did not start:\n${westonLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    if (weston !== null && weston.exitCode === null && weston.signalCode === null) {
      const exited = new Promise((r) => weston!.once('exit', r));
      weston.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (weston.exitCode === null && weston.signalCode === null) weston.kill('SIGKILL');
    }
    if (runtimeDir !== null) rmSync(runtimeDir, { recursive: true, force: true });
  });

  itNeeds(
    'sees the compositor and its xdg_wm_base over a registry round trip',
    need('weston'),
    () => {
      const run = runShim(
        ['doctor', '--json'],
        headlessEnv({ XDG_RUNTIME_DIR: runtimeDir!, WAYLAND_DISPLAY: socketName }),
      );
      const report = JSON.parse(run.stdout) as DoctorReport;
      const wayland = check(report, 'display.wayland');
      expect(wayland).toMatchObject({ ok: true, impact: 'optional' });
      expect(wayland.seen).toMatch(
        new RegExp(
          `^${join(runtimeDir!, socketName)}: \\d+ globals; xdg_wm_base v\\d+, wl_shm v\\d+`,
        ),
      );
      expect(Number(/(\d+) globals/.exec(wayland.seen)?.[1])).toBeGreaterThan(5);
    },
  );
});
