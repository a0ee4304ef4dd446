/**
 * A verify that cannot fail is worthless, and a policy must not verify clean just because it
 * promises little: the demo guest is started through the built CLI under the `strict` preset
 * weakened in exactly one place, and `droidway policy verify --against strict` (the reference
 * compiled for this host and instance) must exit 1 and name the rows about that place. The
 * unmodified presets pass both `verify` and `verify --against` themselves.
 *
 * Weakenings: one seccomp rule dropped, the pids limit removed, a capability kept, a mask
 * dropped, the user namespace turned off, and a writable host folder without nosuid (a policy
 * file each). The last one needs no weakened field: LXC applies nosuid/nodev to a bind mount
 * only when it remounts it read-only, so an rw shared folder is mounted without them although
 * the config asks for both (and the flags are locked in the container's user namespace, so no
 * test could remove them from a running container either).
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { VerifyReport } from '../../electron/core/inspect/verify.js';
import type { PolicyDocument } from '../../electron/core/policy/policy-document.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { buildCli, droidway, repoRoot } from './helpers/cli.js';
import {
  fixtureInstanceName,
  startFixtureSession,
  type FixtureSession,
} from './helpers/fixture-session.js';

function needMutationHost(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'make', 'gcc']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node'))) {
    return 'the native addon is not built (npm run build:native)';
  }
  return null;
}

const missing = needMutationHost();

type Doc = PolicyDocument & Record<string, unknown>;

const CAP_ROWS = [
  'caps.bounding',
  'caps.effective',
  'caps.permitted',
  'caps.init.bounding',
  'caps.init.effective',
  'caps.init.permitted',
];

/** A verify run through the CLI: exit status, the JSON report, and the failing row ids. */
interface Verified {
  code: number;
  report: VerifyReport & { policy?: string; sessionPolicy?: string };
  failed: string[];
}

async function verify(instance: string, ...extra: string[]): Promise<Verified> {
  const run = await droidway('policy', 'verify', '--instance', instance, '--json', ...extra);
  expect(run.stderr, run.stderr).toBe('');
  const report = JSON.parse(run.stdout) as Verified['report'];
  return { code: run.code, report, failed: report.rows.filter((r) => !r.pass).map((r) => r.id) };
}

function explain(v: Verified): string {
  return v.report.rows
    .filter((r) => !r.pass)
    .map((r) => `${r.id}: ${r.seen}`)
    .join('\n');
}

const mutations: Array<{ what: string; change: (d: Doc) => void; fails: string[] }> = [
  {
    what: 'a seccomp rule dropped (keyctl)',
    change: (d) => (d.seccomp.rules = d.seccomp.rules.filter((r) => r.syscall !== 'keyctl')),
    fails: ['syscall.keyctl'],
  },
  {
    what: 'the pids limit removed',
    change: (d) => delete d.limits.pidsMax,
    fails: ['pids.limit'],
  },
  {
    what: 'an extra capability kept (net_raw)',
    change: (d) => d.capabilities.push('net_raw'),
    fails: CAP_ROWS,
  },
  {
    // kallsyms, since a user namespace alone keeps timer_list and kcore unreadable.
    what: 'a mask dropped (/proc/kallsyms)',
    change: (d) => (d.maskedPaths = d.maskedPaths.filter((m) => m.path !== '/proc/kallsyms')),
    fails: ['masked./proc/kallsyms'],
  },
];

describe('policy verify --against catches each weakening (root, LXC, built CLI)', () => {
  let tmp = '';
  let counter = 0;
  const live: FixtureSession[] = [];

  const start = async (policy: { preset: string } | { file: string }): Promise<string> => {
    const session = await startFixtureSession({
      instance: fixtureInstanceName('mut'),
      ...('preset' in policy ? { preset: policy.preset } : { policyFile: policy.file }),
    });
    live.push(session);
    return session.instance;
  };

  const weakenedFile = async (change: (d: Doc) => void): Promise<string> => {
    const doc = structuredClone(loadPreset('strict')) as unknown as Doc;
    change(doc);
    doc.name = 'strict-weakened';
    const file = path.join(tmp, `policy-${counter++}.json`);
    await fs.writeFile(file, JSON.stringify(doc));
    return file;
  };

  beforeAll(async () => {
    if (missing) return;
    buildCli({ probe: true });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-mutation-'));
    // The guest's root must reach the shared folder inside it.
    await fs.chmod(tmp, 0o755);
  });

  afterEach(async () => {
    for (const session of live.splice(0)) await session.stop();
  });

  afterAll(async () => {
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  for (const preset of ['strict', 'android'] as const) {
    itNeeds(
      `the unweakened ${preset} preset passes verify and verify --against ${preset}`,
      missing,
      async () => {
        const instance = await start({ preset });
        const own = await verify(instance);
        expect(own.failed, explain(own)).toEqual([]);
        expect(own.code).toBe(0);
        expect(own.report.hostEquivalent).toBe(false);
        const against = await verify(instance, '--against', preset);
        expect(against.failed, explain(against)).toEqual([]);
        expect(against.code).toBe(0);
        expect(against.report.policy).toBe(preset);
      },
    );
  }

  for (const m of mutations) {
    itNeeds(`${m.what}: verify --against strict fails ${m.fails.join(', ')}`, missing, async () => {
      const instance = await start({ file: await weakenedFile(m.change) });
      // Against itself the weakened policy has nothing to break…
      const own = await verify(instance);
      expect(own.failed, explain(own)).toEqual([]);
      // …against the reference it fails exactly where it is weaker, from the CLI.
      const against = await verify(instance, '--against', 'strict');
      expect(against.failed.sort(), explain(against)).toEqual([...m.fails].sort());
      expect(against.code).toBe(1);
      expect(against.report).toMatchObject({ policy: 'strict', sessionPolicy: 'strict-weakened' });
    });
  }

  itNeeds(
    'the user namespace turned off: host-equivalent, and verify --against strict names the host rows',
    missing,
    async () => {
      const file = await weakenedFile((d) => {
        (d.namespaces as Record<string, unknown>).user = false;
        d.allowHostRoot = true;
      });
      const instance = await start({ file });
      const against = await verify(instance, '--against', 'strict');
      expect(against.code).toBe(1);
      expect(against.report.hostEquivalent).toBe(true);
      expect(against.failed, explain(against)).toEqual(
        expect.arrayContaining(['ns.user', 'host.idmap', 'host.setuid-reach']),
      );
      const table = await droidway('policy', 'verify', '--instance', instance);
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/HOST-EQUIVALENT/);
    },
  );

  itNeeds(
    'a writable host folder without nosuid (an rw shared folder: LXC drops nosuid,nodev on writable binds) fails host.mounts-nosuid',
    missing,
    async () => {
      const share = await fs.mkdtemp(path.join(tmp, 'share-'));
      await fs.chmod(share, 0o777);
      const file = await weakenedFile(
        (d) => (d.sharedFolders = [{ host: share, guest: '/mnt/share', mode: 'rw' }]),
      );
      const instance = await start({ file });
      const against = await verify(instance, '--against', 'strict');
      expect(against.code).toBe(1);
      expect(against.failed, explain(against)).toEqual(
        expect.arrayContaining(['host.mounts-nosuid', 'host.setuid-reach']),
      );
      expect(against.report.rows.find((r) => r.id === 'host.mounts-nosuid')?.seen).toContain(
        '/mnt/share',
      );
    },
  );

  itNeeds(
    'usage errors exit 2: an unknown preset or an invalid reference file',
    missing,
    async () => {
      const bad = path.join(tmp, 'bad.json');
      await fs.writeFile(bad, '{"version": 1}');
      for (const against of ['no-such-preset', bad]) {
        const run = await droidway(
          'policy',
          'verify',
          '--instance',
          'default',
          '--against',
          against,
        );
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toMatch(/--against .*: policy refused/);
      }
      const unknown = await droidway('policy', 'verify', '--bogus');
      expect(unknown.code).toBe(2);
    },
  );
});
