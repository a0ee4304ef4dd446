/**
 * `droidway session …` and `droidway policy verify` end to end, through the built CLI
 * (`node electron/cli/droidway.js`, compiled into out/ by `tsc -p tsconfig.build.json`): the
 * demo guest boots under each preset in a detached session host, the isolation probe inside it
 * confirms every promise of the policy (the OOM kill and the capped fork bomb included), and
 * `session stop` leaves the host's mount table, cgroups and runtime files as they were.
 * Hostile policies are refused with the field named, before anything starts.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { VerifyReport } from '../../electron/core/inspect/verify.js';
import { findContainerCgroups } from '../../electron/core/runtime/host-cleanup.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import type { SessionStatus } from '../../electron/core/runtime/session.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { buildCli, droidway, mountTable, repoRoot } from './helpers/cli.js';
import { fixtureInstanceName, useFixtureSession } from './helpers/fixture-session.js';

function needSessionHost(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'lxc-stop', 'lxc-freeze', 'make', 'gcc']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node'))) {
    return 'the native addon is not built (npm run build:native)';
  }
  return null;
}

const missing = needSessionHost();

/**
 * OOM kills counted in the container's v1 memory cgroup tree (v1 counts a kill in the victim's
 * own cgroup, and attached processes sit in a child of the payload cgroup), or null on hosts
 * without the v1 memory controller.
 */
async function hostOomKills(containerName: string): Promise<number | null> {
  let total: number | null = null;
  const walk = async (dir: string): Promise<void> => {
    const text = await fs.readFile(path.join(dir, 'memory.oom_control'), 'utf8').catch(() => '');
    const m = /^oom_kill (\d+)$/m.exec(text);
    if (m) total = (total ?? 0) + Number(m[1]);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  for (const dir of await findContainerCgroups(containerName)) {
    if (dir.startsWith('/sys/fs/cgroup/memory/lxc.payload.')) await walk(dir);
  }
  return total;
}

const built = { done: false };

describe('droidway session and policy verify (root, LXC, built CLI)', () => {
  beforeAll(() => {
    if (missing || built.done) return;
    buildCli({ probe: true });
    built.done = true;
  });

  for (const preset of ['strict', 'android'] as const) {
    describe(`preset ${preset}`, () => {
      const instance = fixtureInstanceName(`it-${preset}`);
      const paths = instancePaths(instance);
      let mountsBefore: string[] = [];

      beforeAll(() => {
        if (missing) return;
        if (!built.done) {
          buildCli({ probe: true });
          built.done = true;
        }
        mountsBefore = mountTable();
      });
      // The start's own output is under test: a failed start is reported by the test below.
      const session = useFixtureSession(missing, {
        instance,
        image: 'demo',
        preset,
        allowFailure: true,
      });

      itNeeds('session start boots the guest and prints its state', missing, () => {
        const { started } = session.current;
        expect(started.stderr).toBe('');
        expect(started.code).toBe(0);
        expect(started.stdout).toMatch(
          new RegExp(
            `^instance ${instance}: running \\(init pid \\d+\\)\\n  display bridge: [^\\n]+\\n  policy ${preset};`,
          ),
        );
      });

      itNeeds(
        'policy verify --json passes every check, with an OOM kill and a capped fork bomb',
        missing,
        async () => {
          const oomBefore = await hostOomKills(paths.containerName);
          const run = await droidway('policy', 'verify', '--instance', instance, '--json');
          const report = JSON.parse(run.stdout) as VerifyReport;
          expect(
            report.rows.filter((r) => !r.pass),
            run.stdout.slice(0, 4000),
          ).toEqual([]);
          expect(run.code).toBe(0);
          expect(report.pass).toBe(true);
          expect(report.rows.length).toBeGreaterThan(60);
          for (const id of [
            'memory.limit',
            'pids.limit',
            'init.fds',
            'net.interfaces',
            'uts.hostname',
          ]) {
            expect(report.rows.map((r) => r.id)).toContain(id);
          }
          // The probe's child was killed by the kernel's OOM killer in the container's cgroup ...
          expect(report.observations.memory_test.killed).toBe(true);
          const oomAfter = await hostOomKills(paths.containerName);
          if (oomBefore !== null && oomAfter !== null) expect(oomAfter).toBeGreaterThan(oomBefore);
          // ... and the fork bomb hit the pids limit, every child reaped.
          const pids = report.observations.pids_test;
          expect(pids.fork_errno).toBe('EAGAIN');
          expect(pids.reaped).toBe(pids.forked);
          // The container lives on and answers.
          const status = await droidway('session', 'status', '--instance', instance, '--json');
          expect((JSON.parse(status.stdout) as SessionStatus).state.name).toBe('running');
        },
      );

      if (preset === 'strict') {
        itNeeds(
          'policy verify prints a table; freeze and unfreeze go through the host',
          missing,
          async () => {
            const table = await droidway('policy', 'verify', '--instance', instance);
            expect(table.code).toBe(0);
            expect(table.stdout).toMatch(/^PASS {2}mount denied +EPERM +EPERM$/m);
            expect(table.stdout).toMatch(/isolation verified: all \d+ checks passed/);

            const frozen = await droidway('session', 'freeze', '--instance', instance);
            expect(frozen.stdout).toMatch(
              new RegExp(
                `^instance ${instance}: frozen \\(init pid \\d+\\)\\n  display bridge: [^\\n]+\\n$`,
              ),
            );
            const refused = await droidway('policy', 'verify', '--instance', instance);
            expect(refused.code).toBe(1);
            expect(refused.stderr).toMatch(/^droidway: cannot verify a session that is frozen/);
            const thawed = await droidway('session', 'unfreeze', '--instance', instance, '--json');
            expect((JSON.parse(thawed.stdout) as SessionStatus).state.name).toBe('running');

            const again = await droidway('session', 'start', '--instance', instance);
            expect(again.code).toBe(1);
            expect(again.stderr).toMatch(
              /^droidway: instance \S+ (already has a session host|is being started|is owned by a running session host)/,
            );
          },
        );
      }

      itNeeds('session stop leaves the host as before the start', missing, async () => {
        const stopped = await droidway('session', 'stop', '--instance', instance, '--json');
        expect(stopped.code).toBe(0);
        expect((JSON.parse(stopped.stdout) as SessionStatus).state.name).toBe('stopped');
        expect(mountTable()).toEqual(mountsBefore);
        expect(await findContainerCgroups(paths.containerName)).toEqual([]);
        expect(existsSync(paths.runtimeDir)).toBe(false);
        const status = await droidway('session', 'status', '--instance', instance);
        expect(status.stdout).toBe(`instance ${instance}: stopped\n`);
        const verify = await droidway('policy', 'verify', '--instance', instance);
        expect(verify.code).toBe(1);
        expect(verify.stderr).toBe(
          `droidway: no session is running for instance ${instance}; start one with droidway session start --instance ${instance}\n`,
        );
      });
    });
  }

  describe('refusals', () => {
    let tmp = '';
    beforeAll(async () => {
      tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-session-cli-'));
    });
    afterAll(async () => {
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    });

    /** Writes the strict preset with `change` applied and returns the file. */
    async function hostile(
      name: string,
      change: (doc: Record<string, unknown>) => void,
    ): Promise<string> {
      const doc = JSON.parse(
        await fs.readFile(path.join(repoRoot, 'resources/policies/strict.json'), 'utf8'),
      ) as Record<string, unknown>;
      change(doc);
      const file = path.join(tmp, `${name}.json`);
      await fs.writeFile(file, JSON.stringify(doc));
      return file;
    }

    itNeeds('policy check refuses hostile policies naming the field', missing, async () => {
      await fs.mkdir(path.join(tmp, 'shared'));
      await fs.symlink('/etc', path.join(tmp, 'shared', 'out'));
      const cases: Array<[string, (d: Record<string, unknown>) => void, RegExp]> = [
        [
          'negative-pids',
          (d) => ((d.limits as Record<string, unknown>).pidsMax = -1),
          /\/limits\/pidsMax: /,
        ],
        [
          'huge-memory',
          (d) => ((d.limits as Record<string, unknown>).memoryMax = 2 ** 60),
          /\/limits\/memoryMax: /,
        ],
        [
          'root-share',
          (d) => (d.sharedFolders = [{ host: '/', guest: '/mnt/host', mode: 'ro' }]),
          /\/sharedFolders\/0\/host: /,
        ],
        [
          'dotdot-share',
          (d) => (d.sharedFolders = [{ host: `${tmp}/../etc`, guest: '/mnt/x', mode: 'ro' }]),
          /\/sharedFolders\/0\/host: /,
        ],
        [
          'symlink-share',
          (d) =>
            (d.sharedFolders = [
              { host: path.join(tmp, 'shared', 'out'), guest: '/mnt/x', mode: 'ro' },
            ]),
          /\/sharedFolders\/0\/host: .*symbolic link/,
        ],
        ['unknown-field', (d) => (d.privileged = true), /privileged/],
        ['wrong-type', (d) => (d.noNewPrivs = 'yes'), /\/noNewPrivs: /],
      ];
      for (const [name, change, field] of cases) {
        const file = await hostile(name, change);
        const run = await droidway('policy', 'check', file);
        expect(run.code, name).toBe(1);
        expect(run.stderr, name).toMatch(field);
      }
    });

    itNeeds(
      'session start refuses a hostile policy and a non-demo image before starting anything',
      missing,
      async () => {
        const instance = `it-refuse-${process.pid}`;
        const file = await hostile(
          'start-negative',
          (d) => ((d.limits as Record<string, unknown>).pidsMax = -5),
        );
        const run = await droidway('session', 'start', '--instance', instance, '--policy', file);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^droidway: policy refused\n {2}\/limits\/pidsMax: /);
        const image = await droidway(
          'session',
          'start',
          '--instance',
          instance,
          '--image',
          '/srv/android',
        );
        expect(image.code).toBe(1);
        // An Android image on this kernel: refused before mounting, naming what is missing.
        expect(image.stderr).toMatch(/^droidway: Android cannot start on this host/);
        expect(image.stderr).toMatch(/\/srv\/android has no system\.img/);
        const both = await droidway(
          'session',
          'start',
          '--instance',
          instance,
          '--preset',
          'strict',
          '--policy',
          file,
        );
        expect(both.code).toBe(2);
        // Stopping what is not running is not an error: the person's wish already holds.
        const stop = await droidway('session', 'stop', '--instance', instance);
        expect(stop.code).toBe(0);
        expect(stop.stderr).toBe(`droidway: instance ${instance} was not running\n`);
        expect(stop.stdout).toBe(`instance ${instance}: stopped\n`);
        expect(existsSync(instancePaths(instance).runtimeDir)).toBe(false);
        await fs.rm(instancePaths(instance).dataDir, { recursive: true, force: true });
      },
    );
  });
});
