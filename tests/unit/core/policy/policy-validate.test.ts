import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
} from '../../../../electron/core/policy/bridge-limits.js';
import { PolicyError, POLICY_INVALID } from '../../../../electron/core/policy/policy-errors.js';
import {
  assertValidPolicy,
  parsePolicyText,
  validatePolicy,
} from '../../../../electron/core/policy/policy-validate.js';
import { loadPreset, presetPath, PRESET_NAMES } from '../../../../electron/core/policy/presets.js';

/** A policy as loose JSON: tests break fields on purpose, so no type can describe it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PolicyJson = any;

/** A fresh, mutable copy of a preset as plain JSON, to break one field at a time. */
function doc(name: 'android' | 'strict' | 'privileged' = 'strict'): PolicyJson {
  return JSON.parse(readFileSync(presetPath(name), 'utf8')) as PolicyJson;
}

/** The issues of a document that must be refused. */
function issuesOf(d: unknown): Array<{ path: string; message: string }> {
  const r = validatePolicy(d);
  if (r.ok) throw new Error('the document was accepted');
  return r.issues;
}

function expectRefused(d: unknown, path: string, message: RegExp): void {
  const issues = issuesOf(d);
  expect(issues, JSON.stringify(issues)).toContainEqual({
    path,
    message: expect.stringMatching(message),
  });
}

describe('presets', () => {
  for (const name of PRESET_NAMES) {
    it(`${name} validates against the schema and the semantic rules`, () => {
      const r = validatePolicy(doc(name));
      expect(r.ok ? [] : r.issues).toEqual([]);
      expect(loadPreset(name).name).toBe(name);
    });
  }

  it('refuses an unknown preset name with its own code', () => {
    expect(() => loadPreset('lax')).toThrow(
      expect.objectContaining({ code: 'POLICY_UNKNOWN_PRESET' }),
    );
  });

  it('both presets deny unshare(CLONE_NEWUSER) and keep no capability that reaches the host kernel', () => {
    for (const name of PRESET_NAMES) {
      const p = loadPreset(name);
      expect(p.seccomp.rules.some((r) => r.syscall === 'unshare')).toBe(true);
      for (const cap of ['sys_module', 'sys_rawio', 'sys_time', 'mac_admin', 'bpf', 'perfmon']) {
        expect(p.capabilities).not.toContain(cap);
      }
    }
    expect(loadPreset('strict').capabilities).not.toContain('mknod');
    expect(loadPreset('strict').capabilities).not.toContain('net_raw');
    expect(loadPreset('android').capabilities).toContain('sys_admin');
  });
});

describe('schema: hostile and malformed documents are refused with the field named', () => {
  it('refuses a non-object, an empty object and an unknown version', () => {
    expectRefused(null, '', /must be an object, got null/);
    expectRefused([], '', /got an array/);
    expect(issuesOf({}).map((i) => i.path)).toContain('/version');
    expectRefused({ ...doc(), version: 2 }, '/version', /must be 1/);
  });

  it('refuses negative and huge limits', () => {
    const d = doc();
    d.limits.pidsMax = -1;
    d.limits.memoryMax = 2 ** 60;
    d.limits.cpuWeight = 0;
    d.limits.swapMax = -5;
    const issues = issuesOf(d);
    expect(issues).toContainEqual({ path: '/limits/pidsMax', message: 'must be at least 16' });
    expect(issues).toContainEqual({
      path: '/limits/memoryMax',
      message: 'must be at most 1099511627776',
    });
    expect(issues).toContainEqual({ path: '/limits/cpuWeight', message: 'must be at least 1' });
    expect(issues).toContainEqual({ path: '/limits/swapMax', message: 'must be at least 0' });
  });

  it('refuses non-integer and wrongly typed values', () => {
    const d = doc();
    d.limits.pidsMax = 100.5;
    d.noNewPrivs = 'yes';
    d.capabilities = 'chown';
    const issues = issuesOf(d);
    expect(issues).toContainEqual({
      path: '/limits/pidsMax',
      message: 'must be an integer, got a fractional number',
    });
    expect(issues).toContainEqual({
      path: '/noNewPrivs',
      message: 'must be a boolean, got a string',
    });
    expect(issues).toContainEqual({
      path: '/capabilities',
      message: 'must be an array, got a string',
    });
  });

  it('refuses unknown fields at every level', () => {
    const d = doc();
    d.extra = 1;
    d.limits.memoryHigh = 1;
    d.seccomp.rules[0].note = 'x';
    d.bridge.limits.maxWindows = 3;
    const paths = issuesOf(d)
      .filter((i) => i.message === 'unknown field')
      .map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/extra',
        '/limits/memoryHigh',
        '/seccomp/rules/0/note',
        '/bridge/limits/maxWindows',
      ]),
    );
  });

  it('refuses newlines and other injection in hostname and paths', () => {
    const d = doc();
    d.hostname = 'evil\nlxc.cap.keep = sys_admin';
    d.maskedPaths[0].path = '/proc/kcore\nlxc.apparmor.profile = unconfined';
    d.readOnlyPaths[0] = '/proc/bus 0 0';
    d.sharedFolders = [{ host: '/home/user/a\tb', guest: '/mnt/a', mode: 'ro' }];
    d.lsm.apparmor.profile = 'x\ny';
    const issues = issuesOf(d);
    expect(issues).toContainEqual({
      path: '/hostname',
      message: expect.stringMatching(/hostname label/),
    });
    expect(issues).toContainEqual({
      path: '/maskedPaths/0/path',
      message: expect.stringMatching(/no spaces, newlines/),
    });
    expect(issues).toContainEqual({
      path: '/readOnlyPaths/0',
      message: expect.stringMatching(/absolute guest path/),
    });
    expect(issues).toContainEqual({
      path: '/sharedFolders/0/host',
      message: expect.stringMatching(/control characters/),
    });
    expect(issues).toContainEqual({
      path: '/lsm/apparmor/profile',
      message: expect.stringMatching(/AppArmor profile/),
    });
  });

  it('refuses relative paths', () => {
    const d = doc();
    d.sharedFolders = [{ host: 'home/user', guest: 'mnt', mode: 'rw' }];
    const issues = issuesOf(d);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['/sharedFolders/0/host', '/sharedFolders/0/guest']),
    );
  });

  it('refuses malformed seccomp actions and argument filters', () => {
    const d = doc();
    d.seccomp.defaultAction = 'trap';
    d.seccomp.rules[0].action = 'errno -1';
    d.seccomp.rules[1].args = [[6, 0, 'SCMP_CMP_EQ']];
    d.seccomp.rules[2].args = [[0, 1, 'SCMP_CMP_LIKE']];
    d.seccomp.rules[3].args = [[0, 1, 'SCMP_CMP_EQ', 1, 5]];
    const issues = issuesOf(d);
    expect(issues).toContainEqual({
      path: '/seccomp/defaultAction',
      message: expect.stringMatching(/'allow', 'kill' or 'errno N'/),
    });
    expect(issues).toContainEqual({
      path: '/seccomp/rules/0/action',
      message: expect.stringMatching(/errno N/),
    });
    expect(issues).toContainEqual({
      path: '/seccomp/rules/1/args/0/0',
      message: 'must be at most 5',
    });
    expect(issues).toContainEqual({
      path: '/seccomp/rules/2/args/0/2',
      message: expect.stringMatching(/must be one of/),
    });
    expect(issues).toContainEqual({
      path: '/seccomp/rules/3/args/0',
      message: 'must have at most 4 element(s)',
    });
  });

  it('refuses JSON that does not parse and oversized text', () => {
    expect(parsePolicyText('{"version": 1,')).toEqual({
      ok: false,
      issues: [{ path: '', message: expect.stringMatching(/not valid JSON/) }],
    });
    expect(parsePolicyText(' '.repeat(1024 * 1024 + 1))).toEqual({
      ok: false,
      issues: [{ path: '', message: expect.stringMatching(/larger than/) }],
    });
  });

  it('assertValidPolicy throws a PolicyError with code POLICY_INVALID listing every issue', () => {
    const d = doc();
    d.limits.pidsMax = 0;
    d.hostname = '';
    let thrown: unknown;
    try {
      assertValidPolicy(d);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    expect((thrown as PolicyError).code).toBe(POLICY_INVALID);
    expect((thrown as PolicyError).issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['/limits/pidsMax', '/hostname']),
    );
    expect((thrown as PolicyError).message).toMatch(/^\/.*: /m);
  });
});

describe('semantic rules the schema cannot express', () => {
  it('refuses unknown syscalls and capabilities by name', () => {
    const d = doc();
    d.seccomp.rules.push({ syscall: 'kexec_loadd', action: 'errno 1' });
    d.seccomp.rules.push({ syscall: 'mseal', action: 'errno 1' });
    d.capabilities.push('sys_admn');
    expectRefused(
      d,
      `/seccomp/rules/${d.seccomp.rules.length - 2}/syscall`,
      /unknown x86_64 system call 'kexec_loadd'/,
    );
    expectRefused(
      d,
      `/seccomp/rules/${d.seccomp.rules.length - 1}/syscall`,
      /too new for this host's libseccomp/,
    );
    expectRefused(d, `/capabilities/${d.capabilities.length - 1}`, /unknown capability 'sys_admn'/);
  });

  it('refuses errno numbers Linux does not have and rules with no effect', () => {
    const d = doc();
    d.seccomp.rules[0].action = 'errno 999';
    d.seccomp.rules[1].action = 'allow';
    expectRefused(d, '/seccomp/rules/0/action', /errno 999 is not a Linux error number/);
    expectRefused(
      d,
      '/seccomp/rules/1/action',
      /default action \(allow\): the rule would have no effect/,
    );
  });

  it('refuses duplicate and shadowed seccomp rules and impossible filters', () => {
    const d = doc();
    d.seccomp.rules = [
      { syscall: 'bpf', action: 'errno 1' },
      { syscall: 'bpf', action: 'kill' },
      { syscall: 'bpf', action: 'errno 1', args: [[0, 1, 'SCMP_CMP_EQ']] },
      { syscall: 'unshare', action: 'errno 1', args: [[0, 3, 'SCMP_CMP_MASKED_EQ', 1]] },
      { syscall: 'clone', action: 'errno 1', args: [[0, 3, 'SCMP_CMP_MASKED_EQ']] },
      { syscall: 'setns', action: 'errno 1', args: [[0, 3, 'SCMP_CMP_EQ', 1]] },
    ];
    expectRefused(d, '/seccomp/rules/1', /repeats rule 0 for bpf/);
    expectRefused(d, '/seccomp/rules/2', /already has an unconditional rule/);
    expectRefused(d, '/seccomp/rules/3/args/0', /bits outside the mask/);
    expectRefused(d, '/seccomp/rules/4/args/0', /needs a mask/);
    expectRefused(d, '/seccomp/rules/5/args/0', /only SCMP_CMP_MASKED_EQ takes a mask/);
  });

  it('refuses sharing the namespaces a system container cannot share', () => {
    const d = doc();
    for (const ns of ['pid', 'mount', 'uts', 'net']) d.namespaces[ns] = false;
    for (const ns of ['pid', 'mount', 'uts', 'net'])
      expectRefused(d, `/namespaces/${ns}`, /must be true/);
    const ok = doc();
    ok.namespaces.ipc = false;
    expect(validatePolicy(ok).ok).toBe(true);
    // With a user namespace the cgroup namespace is not optional.
    const sharedCgroup = doc();
    sharedCgroup.namespaces.cgroup = false;
    expectRefused(sharedCgroup, '/namespaces/cgroup', /must be true with a user namespace/);
  });

  it('refuses turning the user namespace off unless host root is chosen explicitly', () => {
    for (const name of ['strict', 'android'] as const) {
      const d = doc(name);
      expect(d.namespaces.user).toBe(true);
      d.namespaces.user = false;
      expectRefused(d, '/namespaces/user', /guest root is host root/);
      d.allowHostRoot = true;
      expect(validatePolicy(d).ok).toBe(true);
    }
    expect(doc('privileged')).toMatchObject({ namespaces: { user: false }, allowHostRoot: true });
  });

  it('refuses id maps in the document: host ids come from the instance, never the policy', () => {
    const d = doc();
    d.namespaces.user = { uidMap: [{ inside: 0, outside: 0, count: 65536 }] };
    expectRefused(d, '/namespaces/user', /must be a boolean, got an object/);
    const missing = doc();
    delete missing.namespaces.user;
    expectRefused(missing, '/namespaces/user', /is required/);
  });

  it('storage: every limit is required, an integer, and within bounds', () => {
    const missing = doc();
    delete missing.storage;
    expectRefused(missing, '/storage', /is required/);
    const noTmp = doc();
    delete noTmp.storage.tmpMaxBytes;
    expectRefused(noTmp, '/storage/tmpMaxBytes', /is required/);
    const bad = doc();
    bad.storage.maxBytes = 1000;
    bad.storage.tmpMaxBytes = 2 ** 41;
    bad.storage.dataMaxBytes = 1.5e8 + 0.5;
    bad.storage.consoleMaxBytes = '1M';
    bad.storage.extra = 1;
    expectRefused(bad, '/storage/maxBytes', /must be at least 1048576/);
    expectRefused(bad, '/storage/tmpMaxBytes', /must be at most 1099511627776/);
    expectRefused(bad, '/storage/dataMaxBytes', /must be an integer, got a fractional number/);
    expectRefused(bad, '/storage/consoleMaxBytes', /must be an integer, got a string/);
    expectRefused(bad, '/storage/extra', /unknown field/);
    const tinyConsole = doc();
    tinyConsole.storage.consoleMaxBytes = 100;
    expectRefused(tinyConsole, '/storage/consoleMaxBytes', /must be at least 65536/);
  });

  it('refuses limits that need each other', () => {
    const d = doc();
    delete d.limits.memoryMax;
    delete d.limits.cpuPeriod;
    expectRefused(d, '/limits/swapMax', /needs memoryMax/);
    expectRefused(d, '/limits/cpuQuota', /go together/);
    const tiny = doc();
    tiny.limits.cpuQuota = 1000;
    tiny.limits.cpuPeriod = 1_000_000;
    expectRefused(tiny, '/limits/cpuQuota', /less than 1% of a CPU/);
  });

  it('refuses unknown device classes and a list without the nodes every guest needs', () => {
    const d = doc();
    d.devices = d.devices.filter((x: string) => x !== 'null');
    d.devices.push('kvm');
    expectRefused(d, `/devices/${d.devices.length - 1}`, /unknown device class 'kvm'/);
    expectRefused(d, '/devices', /must include 'null'/);
  });

  it("refuses '/' as a shared folder, '..' segments, and guest paths over kernel file systems", () => {
    const d = doc();
    d.sharedFolders = [
      { host: '/', guest: '/mnt/root', mode: 'ro' },
      { host: '/home/u/../../etc', guest: '/mnt/etc', mode: 'ro' },
      { host: '/home/u/music/', guest: '/dev/music', mode: 'ro' },
      { host: '/home/u/a', guest: '/mnt/../etc', mode: 'rw' },
      { host: '/home/u/b', guest: '/mnt/etc', mode: 'rw' },
    ];
    expectRefused(d, '/sharedFolders/0/host', /must not be '\/'/);
    expectRefused(d, '/sharedFolders/1/host', /\. or \.\. segments/);
    expectRefused(d, '/sharedFolders/2/host', /normalized/);
    expectRefused(d, '/sharedFolders/2/guest', /must not be under \/proc, \/sys or \/dev/);
    expectRefused(d, '/sharedFolders/3/guest', /\. or \.\. segments/);
    expectRefused(d, '/sharedFolders/4/guest', /repeats the guest path of shared folder 1/);
  });

  it('refuses read-only paths LXC handles another way and a shared folder over a masked path', () => {
    const d = doc();
    d.readOnlyPaths = ['/proc/sys', '/sys/kernel', '/dev/shm', '/etc/../proc'];
    d.sharedFolders = [{ host: '/home/u/x', guest: '/proc/acpi', mode: 'ro' }];
    d.maskedPaths.push({ path: '/data/secret', kind: 'dir' });
    d.sharedFolders.push({ host: '/home/u/y', guest: '/data', mode: 'ro' });
    expectRefused(d, '/readOnlyPaths/0', /mountAuto.proc = 'mixed'/);
    expectRefused(d, '/readOnlyPaths/1', /mountAuto.sys = 'ro'/);
    expectRefused(d, '/readOnlyPaths/2', /only \/proc\/bus/);
    expectRefused(d, '/readOnlyPaths/3', /\. or \.\. segments/);
    expectRefused(d, '/sharedFolders/1/guest', /overlaps masked path/);
  });

  it('refuses running unconfined without the opt-in, and accepts it with the opt-in', () => {
    const d = doc();
    d.lsm.apparmor.mode = 'unconfined';
    expectRefused(d, '/lsm/apparmor/mode', /set lsm.allowUnconfined to true/);
    d.lsm.allowUnconfined = true;
    expect(validatePolicy(d).ok).toBe(true);
    d.lsm.apparmor = { profile: 'unconfined', mode: 'enforce' };
    expectRefused(d, '/lsm/apparmor/profile', /is not a profile/);
  });

  it('refuses Wayland globals that reach across the host desktop', () => {
    const d = doc();
    d.bridge.globals.push('zwlr_screencopy_manager_v1');
    expectRefused(
      d,
      `/bridge/globals/${d.bridge.globals.length - 1}`,
      /captures the whole host screen/,
    );
  });

  it('bounds every bridge limit, naming the field and the bound', () => {
    for (const key of BRIDGE_LIMIT_KEYS) {
      const row = bridgeLimitRow(key);
      const cases: Array<[unknown, RegExp]> =
        row.type === 'integer'
          ? [
              [row.min - 1, new RegExp(`^must be at least ${row.min}$`)],
              [row.max + 1, new RegExp(`^must be at most ${row.max}$`)],
              [row.min + 0.5, /^must be an integer, got/],
              [String(row.min), /^must be an integer, got a string/],
            ]
          : [['yes', /^must be a boolean, got a string/]];
      for (const [value, message] of cases) {
        const d = doc();
        d.bridge.limits[key] = value;
        expectRefused(d, `/bridge/limits/${key}`, message);
      }
    }
    // The bounds as the tests of the first policies pinned them.
    const d = doc();
    d.bridge.limits.firstRequestTimeoutMs = 99;
    expectRefused(d, '/bridge/limits/firstRequestTimeoutMs', /^must be at least 100$/);
    d.bridge.limits.maxRegionRects = 65_537;
    expectRefused(d, '/bridge/limits/maxRegionRects', /^must be at most 65536$/);
  });

  it('fills an absent bridge limit that has a default, and requires the others', () => {
    const file = doc();
    const lacking = (d: PolicyJson): string[] =>
      BRIDGE_LIMIT_KEYS.filter((k) => d.bridge.limits[k] === undefined);
    for (const key of BRIDGE_LIMIT_KEYS) {
      const d = doc();
      delete d.bridge.limits[key];
      const r = validatePolicy(d);
      if (bridgeLimitRow(key).default === undefined) {
        expectRefused(d, `/bridge/limits/${key}`, /^is required$/);
      } else {
        // Said as filled, with what the preset file itself lacks (a field newer than it).
        expect(r.ok && [...r.defaulted].sort()).toEqual(
          [...new Set([key, ...lacking(file)])].map((k) => `/bridge/limits/${k}`).sort(),
        );
      }
    }
  });

  it('refuses more connections per guest uid than the bridge serves', () => {
    const d = doc();
    d.bridge.limits.maxClients = 4;
    d.bridge.limits.maxClientsPerUid = 5;
    expectRefused(
      d,
      '/bridge/limits/maxClientsPerUid',
      /^must be at most maxClients \(4\): one uid cannot hold more connections than the bridge serves$/,
    );
    d.bridge.limits.maxClientsPerUid = 4;
    expect(validatePolicy(d).ok).toBe(true);
  });
});

describe('bridge.clipboard', () => {
  it('every preset lets the host clipboard into the guest, text only, 16 MiB a transfer', () => {
    for (const name of PRESET_NAMES) {
      expect(loadPreset(name).bridge.clipboard).toEqual({
        mode: 'host-to-guest',
        mimeTypes: ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'],
        maxBytes: 16 * 1024 * 1024,
      });
    }
  });

  it('refuses an unknown mode, naming the three there are', () => {
    const d = doc();
    d.bridge.clipboard.mode = 'guest-to-host';
    expectRefused(d, '/bridge/clipboard/mode', /off.*host-to-guest.*both/);
  });

  it('refuses MIME strings with spaces, control bytes, non-ASCII, empty or too long', () => {
    for (const bad of [
      'text/plain; charset=utf-8',
      'text/plain\n',
      'tëxt/plain',
      '',
      'x'.repeat(256),
    ]) {
      const d = doc();
      d.bridge.clipboard.mimeTypes = ['text/plain', bad];
      expectRefused(d, '/bridge/clipboard/mimeTypes/1', /is not a MIME type: printable ASCII/);
    }
    const d = doc();
    d.bridge.clipboard.mimeTypes = ['text/plain', 'text/plain'];
    expect(issuesOf(d).map((i) => i.path)[0]).toMatch(/^\/bridge\/clipboard\/mimeTypes/);
    d.bridge.clipboard.mimeTypes = 7;
    expect(issuesOf(d).map((i) => i.path)).toContain('/bridge/clipboard/mimeTypes');
  });

  it('refuses a transfer cap out of 1 B .. 1 GiB', () => {
    const d = doc();
    d.bridge.clipboard.maxBytes = 0;
    expectRefused(d, '/bridge/clipboard/maxBytes', /must be at least 1$/);
    d.bridge.clipboard.maxBytes = 2 ** 30 + 1;
    expectRefused(d, '/bridge/clipboard/maxBytes', /must be at most 1073741824/);
    d.bridge.clipboard.maxBytes = 1.5;
    expect(issuesOf(d).map((i) => i.path)).toContain('/bridge/clipboard/maxBytes');
  });

  it('turns the clipboard off for a policy without the field, refuses the global instead', () => {
    const d = doc();
    delete d.bridge.clipboard;
    const r = validatePolicy(d);
    expect(r.ok && r.policy.bridge.clipboard.mode).toBe('off');
    const e = doc();
    e.bridge.globals.push('wl_data_device_manager');
    expectRefused(
      e,
      `/bridge/globals/${e.bridge.globals.length - 1}`,
      /set by \/bridge\/clipboard\/mode/,
    );
  });
});
