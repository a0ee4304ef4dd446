/** The session record: written at start, read back (untrusted: a file, or a socket's answer). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compilePolicy,
  type CompileContext,
} from '../../../../electron/core/policy/policy-compile.js';
import { loadPreset } from '../../../../electron/core/policy/presets.js';
import { idRangeOfSlot } from '../../../../electron/core/runtime/id-ranges.js';
import type { InstancePaths } from '../../../../electron/core/runtime/instance-paths.js';
import {
  SESSION_RECORD_FILE,
  parseSessionRecord,
  readSessionRecord,
  writeSessionRecord,
  type SessionRecord,
} from '../../../../electron/core/session/record.js';

const context: CompileContext = {
  name: 'droidway-rec',
  rootfsPath: '/var/lib/droidway/rec/rootfs',
  logFile: '/var/log/droidway/rec/lxc.log',
  cgroupVersion: 2,
  // As the planner passes it: the instance's range, slot included.
  idRange: idRangeOfSlot(3),
  extraMounts: [{ source: '/srv/a', target: '/mnt/a', options: 'bind,ro,create=dir' }],
};

/** A record as `startSession` writes it, from a real preset compiled for a made-up host. */
function record(): SessionRecord {
  const compiled = compilePolicy(loadPreset('strict'), context);
  return {
    version: 1,
    instance: 'rec',
    image: 'demo',
    policyName: 'strict',
    startedAt: '2026-12-03T07:00:00.000Z',
    expectations: compiled.expectations,
    notes: compiled.notes,
    probe: '/droidway/droidway-probe',
    context,
  };
}

/** The record after a trip through JSON, as a reader gets it. */
function wire(r: unknown): unknown {
  return JSON.parse(JSON.stringify(r));
}

function refused(value: unknown): Error {
  try {
    parseSessionRecord(value, '/x/session-policy.json');
  } catch (e) {
    expect((e as { code?: string }).code).toBe('SESSION_RECORD_INVALID');
    return e as Error;
  }
  throw new Error('the record was accepted');
}

describe('parseSessionRecord', () => {
  it('reads back what startSession writes', () => {
    const r = record();
    expect(parseSessionRecord(wire(r), 'f')).toEqual(r);
    const { context: _context, ...older } = r;
    expect(parseSessionRecord(wire(older), 'f')).toEqual(older);
  });

  it('refuses what is not a record, naming the field and the reason', () => {
    type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(refused(null).message).toMatch(/\(the record must be an object, got null\)/);
    expect(refused([]).message).toMatch(/\(the record must be an object, got array\)/);
    const cases: Array<[(d: Doc) => unknown, RegExp]> = [
      [(d) => (d.version = 2), /\(version must be 1, got number\)/],
      [(d) => delete d.policyName, /\(policyName is missing\)/],
      [(d) => delete d.probe, /\(probe is missing\)/],
      [(d) => (d.probe = 7), /\(probe must be a string, got number\)/],
      [(d) => (d.notes = {}), /\(notes must be an array, got object\)/],
      [(d) => (d.notes[0] = { field: '' }), /\(notes\[0\]\.message is missing\)/],
      [(d) => (d.expectations = null), /\(expectations must be an object, got null\)/],
      [(d) => (d.expectations.seccomp = 'yes'), /\(expectations\.seccomp must be a boolean/],
      [
        (d) => (d.expectations.namespaces = ['pid', 'host']),
        /\(expectations\.namespaces\[1\] must be "pid" or .*, got "host"\)/,
      ],
      [(d) => (d.expectations.pidsLimit = -1), /\(expectations\.pidsLimit must be >= 0\)/],
      [(d) => (d.expectations.memoryLimitBytes = 1.5), /memoryLimitBytes must be an integer/],
      [
        (d) => (d.expectations.storage = { paths: [] }),
        /expectations\.storage\.defaultMaxBytes is missing/,
      ],
      [(d) => (d.context.name = ['x']), /\(context\.name must be a string, got array\)/],
      [
        (d) => (d.context.cgroupVersion = 3),
        /\(context\.cgroupVersion must be 1 or 2, got number\)/,
      ],
      [(d) => (d.injected = true), /\(the record has an unknown key "injected"\)/],
      [(d) => (d.instance = 'x'.repeat(5000)), /\(instance is longer than 4096\)/],
    ];
    for (const [mutate, message] of cases) {
      const doc = wire(record()) as Doc;
      mutate(doc);
      const e = refused(doc);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/restart the session with droidway session start$/);
    }
  });

  it('reads a null optional member as absent', () => {
    const doc = wire(record()) as Record<string, unknown>;
    doc.context = null;
    expect(parseSessionRecord(doc, 'f')).not.toHaveProperty('context');
  });
});

describe.skipIf(process.getuid?.() !== 0)('readSessionRecord (as root: the file itself)', () => {
  let dir: string;
  let paths: InstancePaths;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'droidway-record-'));
    paths = {
      name: 'rec',
      dataDir: dir,
      controlSocket: join(dir, 'control.sock'),
    } as InstancePaths;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips a record through the file', async () => {
    await writeSessionRecord(paths, record());
    expect(await readSessionRecord(paths)).toEqual(record());
  });

  it('refuses a file that is not JSON, or not a record', async () => {
    writeFileSync(join(dir, SESSION_RECORD_FILE), '{"version": 1,');
    await expect(readSessionRecord(paths)).rejects.toMatchObject({
      code: 'SESSION_RECORD_INVALID',
      message: expect.stringMatching(/no readable policy record/),
    });
    writeFileSync(join(dir, SESSION_RECORD_FILE), JSON.stringify({ ...record(), notes: 'none' }));
    await expect(readSessionRecord(paths)).rejects.toMatchObject({
      code: 'SESSION_RECORD_INVALID',
      message: expect.stringMatching(
        /is not a session record \(notes must be an array, got string\)/,
      ),
    });
  });
});
