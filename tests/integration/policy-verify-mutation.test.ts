/**
 * A verify that cannot fail is worthless: the demo guest is started under the `strict` preset
 * weakened in exactly one field (a seccomp rule dropped, the pids limit raised, a capability
 * kept, a path unmasked, network given), and the probe's report, compared with the ORIGINAL
 * policy's promises, must fail exactly the checks about that field — and nothing else.
 * The sessions run through the session service and the detached host (compiled in out/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import type { ProbeExpectations } from '../../electron/core/inspect/expectations.js';
import type {
  PolicyDocument,
  ValidatedPolicy,
} from '../../electron/core/policy/policy-document.js';
import { assertValidPolicy } from '../../electron/core/policy/policy-validate.js';
import { loadPreset } from '../../electron/core/policy/presets.js';
import {
  planSession,
  startSession,
  stopSession,
  verifySession,
  type ServiceLocations,
} from '../../electron/core/runtime/session-service.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

function needMutationHost(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['lxc-start', 'lxc-attach', 'make', 'gcc', 'ip']);
  if (tool !== null) return tool;
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (Debian: busybox-static)';
  if (!existsSync(path.join(repoRoot, 'native/build/Release/droidway_native.node'))) {
    return 'the native addon is not built (npm run build:native)';
  }
  return null;
}

const missing = needMutationHost();
/** A private bridge for the `network: nat` mutation (this host has no lxcbr0). */
const bridge = `dwtest${process.pid % 100_000}`;

const CAP_ROWS = [
  'caps.bounding',
  'caps.effective',
  'caps.permitted',
  'caps.init.bounding',
  'caps.init.effective',
  'caps.init.permitted',
];

type Doc = PolicyDocument & Record<string, unknown>;

function weakened(change: (d: Doc) => void): ValidatedPolicy {
  const doc = structuredClone(loadPreset('strict')) as unknown as Doc;
  change(doc);
  return assertValidPolicy(doc);
}

const mutations: Array<{
  what: string;
  change: (d: Doc) => void;
  fails: string[];
}> = [
  {
    what: 'a seccomp rule dropped (keyctl)',
    change: (d) => (d.seccomp.rules = d.seccomp.rules.filter((r) => r.syscall !== 'keyctl')),
    fails: ['syscall.keyctl'],
  },
  {
    // These are capability-checked too: only the errno tells the profile's answer from the kernel's.
    what: 'seccomp rules dropped (add_key, perf_event_open, userfaultfd, io_uring_setup)',
    change: (d) =>
      (d.seccomp.rules = d.seccomp.rules.filter(
        (r) => !['add_key', 'perf_event_open', 'userfaultfd', 'io_uring_setup'].includes(r.syscall),
      )),
    fails: [
      'syscall.perf_event_open',
      'syscall.userfaultfd',
      'syscall.add_key',
      'syscall.io_uring_setup',
    ],
  },
  {
    what: 'the pids limit raised',
    change: (d) => (d.limits.pidsMax = 2048),
    fails: ['pids.limit'],
  },
  {
    what: 'an extra capability kept (net_raw)',
    change: (d) => d.capabilities.push('net_raw'),
    fails: CAP_ROWS,
  },
  {
    // /proc/keys, not /proc/timer_list: in the guest's user namespace timer_list (mode 0400,
    // host root's) cannot be read even unmasked, so dropping its mask changes nothing visible.
    what: 'a path unmasked (/proc/keys)',
    change: (d) => (d.maskedPaths = d.maskedPaths.filter((m) => m.path !== '/proc/keys')),
    fails: ['masked./proc/keys'],
  },
  {
    what: 'network given (nat on a private bridge)',
    change: (d) => (d.network = 'nat'),
    fails: ['net.interfaces'],
  },
];

describe('policy verify catches each weakened field (root, LXC)', () => {
  let tmp = '';
  let locations: ServiceLocations = {};
  let original: ProbeExpectations;
  let counter = 0;
  let live: string | null = null;

  beforeAll(async () => {
    if (missing) return;
    try {
      execFileSync(
        process.execPath,
        [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
        { cwd: repoRoot, stdio: 'pipe' },
      );
    } catch (e) {
      // tsc still emits when another module has a type error; only the host entry matters.
      if (!existsSync(path.join(repoRoot, 'out/electron/core/runtime/session-host-main.js')))
        throw e;
    }
    execFileSync('make', ['-C', path.join(repoRoot, 'native/probe')], { stdio: 'pipe' });
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-mutation-'));
    await fs.chmod(tmp, 0o755);
    locations = { dataRoot: path.join(tmp, 'data'), runtimeRoot: path.join(tmp, 'run') };
    // The original policy's promises, compiled for this host exactly as a session would be.
    original = (
      await planSession({ ...locations, instance: 'mut-original', policy: { preset: 'strict' } })
    ).compiled.expectations;
    execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', 'dev', bridge, 'up']);
  });

  afterEach(async () => {
    if (live !== null) await stopSession({ ...locations, instance: live }, 2).catch(() => {});
    live = null;
  });

  afterAll(async () => {
    if (missing) return;
    try {
      execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
    } catch {
      // Never created.
    }
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  itNeeds('the unweakened preset passes every check of its own promises', missing, async () => {
    live = `mut-${process.pid % 10_000}-${counter++}`;
    await startSession({ ...locations, instance: live, policy: { preset: 'strict' } });
    const { report } = await verifySession({
      ...locations,
      instance: live,
      expectations: original,
    });
    expect(report.rows.filter((r) => !r.pass)).toEqual([]);
  });

  for (const m of mutations) {
    itNeeds(`${m.what}: exactly ${m.fails.join(', ')} fail`, missing, async () => {
      live = `mut-${process.pid % 10_000}-${counter++}`;
      await startSession({
        ...locations,
        instance: live,
        policy: { policy: weakened(m.change) },
        natBridge: bridge,
      });
      const { report } = await verifySession({
        ...locations,
        instance: live,
        expectations: original,
      });
      const failed = report.rows.filter((r) => !r.pass);
      expect(
        failed.map((r) => r.id).sort(),
        failed.map((r) => `${r.id}: ${r.seen}`).join('\n'),
      ).toEqual([...m.fails].sort());
      expect(report.pass).toBe(false);
      const stopped = await stopSession({ ...locations, instance: live }, 5);
      expect(stopped.state.name).toBe('stopped');
      live = null;
    });
  }
});
