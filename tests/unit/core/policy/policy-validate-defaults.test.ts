import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compilePolicy,
  type CompileContext,
} from '../../../../electron/core/policy/policy-compile.js';
import {
  BRIDGE_LIMIT_KEYS,
  bridgeLimitRow,
} from '../../../../electron/core/policy/bridge-limits.js';
import { BRIDGE_FIELD_DEFAULTS } from '../../../../electron/core/policy/policy-document.js';
import { validatePolicy } from '../../../../electron/core/policy/policy-validate.js';
import { loadPreset } from '../../../../electron/core/policy/presets.js';

// A document saved before the bridge's region, damage and connection limits and its clipboard
// existed (resources/policies/strict.json at commit 848e613) must still load: the fields it lacks
// take BRIDGE_FIELD_DEFAULTS, and everything else stays as strict as before.

/** A policy as loose JSON: tests break fields on purpose, so no type can describe it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type PolicyJson = any;

const OLDER = join(
  import.meta.dirname,
  '../../../fixtures/policy/strict-before-bridge-limits.json',
);
/** The fields the fixture lacks: every bridge limit with a default, and the clipboard. */
const DEFAULTED = [
  ...BRIDGE_LIMIT_KEYS.filter((k) => bridgeLimitRow(k).default !== undefined).map(
    (k) => `/bridge/limits/${k}`,
  ),
  '/bridge/clipboard',
];

function older(): PolicyJson {
  return JSON.parse(readFileSync(OLDER, 'utf8')) as PolicyJson;
}

const ctx: CompileContext = {
  name: 'dw-defaults-test',
  rootfsPath: '/srv/rootfs',
  seccompProfilePath: '/run/dw/seccomp',
  logFile: '/run/dw/lxc.log',
  cgroupVersion: 1,
  apparmorAvailable: true,
  maskFile: '/run/dw/empty',
  idRange: { hostBase: 1879048192, count: 131072 },
};

function issuesOf(d: unknown): Array<{ path: string; message: string }> {
  const r = validatePolicy(d);
  if (r.ok) throw new Error('the document was accepted');
  return r.issues;
}

describe('a policy document saved before the bridge limits and clipboard', () => {
  it('is the fixture it claims to be: none of the new fields', () => {
    const d = older();
    expect(d.bridge.clipboard).toBeUndefined();
    for (const path of DEFAULTED.filter((p) => p.startsWith('/bridge/limits/'))) {
      expect(d.bridge.limits[path.split('/').at(-1)!]).toBeUndefined();
    }
  });

  it("validates with strict's limits, the clipboard off, and says which fields it filled", () => {
    const input = older();
    const before = structuredClone(input);
    const r = validatePolicy(input);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect([...r.defaulted].sort()).toEqual([...DEFAULTED].sort());
    // maxClients is filled before the maxClientsPerUid computed from it; the clipboard last.
    expect(r.defaulted.indexOf('/bridge/limits/maxClients')).toBe(0);
    expect(r.defaulted.at(-1)).toBe('/bridge/clipboard');
    expect(r.policy.bridge.limits).toMatchObject({
      ...input.bridge.limits,
      maxRegionRects: 64,
      maxDamageRects: 64,
      maxClients: 8,
      maxClientsPerUid: 4,
      firstRequestTimeoutMs: 1000,
    });
    expect(r.policy.bridge.clipboard).toEqual({
      mode: 'off',
      mimeTypes: ['text/plain;charset=utf-8', 'text/plain', 'UTF8_STRING', 'STRING', 'TEXT'],
      maxBytes: 16 * 1024 * 1024,
    });
    // The limits are today's strict preset's; only the clipboard is tighter than it.
    const strict = loadPreset('strict').bridge;
    expect(r.policy.bridge.limits).toEqual(strict.limits);
    expect(r.policy.bridge.clipboard).toEqual({ ...strict.clipboard, mode: 'off' });
    // The caller's document is left as it was.
    expect(input).toEqual(before);
  });

  it('compiles to bridge settings with those defaults', () => {
    const r = validatePolicy(older());
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const compiled = compilePolicy(r.policy, ctx);
    expect(compiled.bridge).toMatchObject({
      maxRegionRects: 64,
      maxDamageRects: 64,
      maxClients: 8,
      maxClientsPerUid: 4,
      firstRequestTimeoutMs: 1000,
      clipboard: { mode: 'off', maxBytes: 16 * 1024 * 1024 },
    });
    // Nothing else of the older document changed: it compiles like strict apart from the bridge.
    const strict = compilePolicy(loadPreset('strict'), ctx);
    expect(compiled.lxcConfig).toBe(strict.lxcConfig);
    expect(compiled.seccompProfile).toBe(strict.seccompProfile);
  });

  it('keeps a field it has, and fills only the ones it lacks', () => {
    const d = older();
    d.bridge.limits.maxClients = 3;
    d.bridge.clipboard = { mode: 'both', mimeTypes: ['text/plain'], maxBytes: 1024 };
    const r = validatePolicy(d);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.policy.bridge.limits.maxClients).toBe(3);
    // Half of maxClients, rounded up, as the native bridge's own default: never above it.
    expect(r.policy.bridge.limits.maxClientsPerUid).toBe(2);
    expect(r.policy.bridge.clipboard).toEqual(d.bridge.clipboard);
    expect(r.defaulted).not.toContain('/bridge/clipboard');
    expect(r.defaulted).not.toContain('/bridge/limits/maxClients');
    // A complete document (every preset) has nothing filled.
    const preset = validatePolicy(JSON.parse(JSON.stringify(loadPreset('android'))));
    expect(preset.ok && preset.defaulted).toEqual([]);
  });

  it('still refuses a bad value of a new field, naming it and the bound', () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['maxRegionRects', 0, /^must be at least 1$/],
      ['maxDamageRects', 65_537, /^must be at most 65536$/],
      ['maxClients', 1025, /^must be at most 1024$/],
      ['maxClientsPerUid', 0, /^must be at least 1$/],
      ['firstRequestTimeoutMs', '2000', /^must be an integer, got a string/],
    ];
    for (const [field, value, message] of cases) {
      const d = older();
      d.bridge.limits[field] = value;
      expect(issuesOf(d)).toContainEqual({
        path: `/bridge/limits/${field}`,
        message: expect.stringMatching(message),
      });
    }
    const d = older();
    d.bridge.clipboard = { mode: 'guest-to-host', mimeTypes: [], maxBytes: 1 };
    expect(issuesOf(d)).toContainEqual({
      path: '/bridge/clipboard/mode',
      message: expect.stringMatching(/off.*host-to-guest.*both/),
    });
    const partial = older();
    partial.bridge.clipboard = { mode: 'both' };
    expect(issuesOf(partial).map((i) => i.path)).toContain('/bridge/clipboard/mimeTypes');
  });

  it('refuses a filled maxClientsPerUid above a maxClients the document set', () => {
    const d = older();
    d.bridge.limits.maxClients = 2;
    d.bridge.limits.maxClientsPerUid = 3;
    expect(issuesOf(d)).toContainEqual({
      path: '/bridge/limits/maxClientsPerUid',
      message: expect.stringMatching(/^must be at most maxClients \(2\)/),
    });
  });

  it('still refuses unknown keys, and the fields that were always required', () => {
    const d = older();
    d.bridge.limits.maxWindows = 3;
    expect(issuesOf(d).map((i) => i.path)).toContain('/bridge/limits/maxWindows');
    const e = older();
    e.bridge.colour = 'blue';
    expect(issuesOf(e).map((i) => i.path)).toContain('/bridge/colour');
    for (const field of BRIDGE_LIMIT_KEYS.filter((k) => bridgeLimitRow(k).default === undefined)) {
      const f = older();
      delete f.bridge.limits[field];
      expect(issuesOf(f)).toContainEqual({
        path: `/bridge/limits/${field}`,
        message: 'is required',
      });
    }
    const g = older();
    delete g.bridge.globals;
    expect(issuesOf(g)).toContainEqual({ path: '/bridge/globals', message: 'is required' });
  });

  it('has defaults that are themselves a valid setting', () => {
    const d = older();
    d.bridge.clipboard = structuredClone(BRIDGE_FIELD_DEFAULTS.clipboard);
    Object.assign(d.bridge.limits, BRIDGE_FIELD_DEFAULTS.limits, { maxClientsPerUid: 4 });
    const r = validatePolicy(d);
    expect(r.ok ? r.defaulted : r.issues).toEqual([]);
  });
});
