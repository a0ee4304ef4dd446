import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { itNeeds, missingTool } from '../helpers/capability.js';

// The display bridge's Node-free checks (shm pool and buffer policy, dmabuf planes, the shm pool
// and keymap copies, text sanitizing, the clipboard's names and MIME types, the bridge process's
// configuration parser) in plain C++ unit tests: native/tests, built with g++ under ASan + UBSan
// by `make -C native/tests` (part of `npm run build:native`; a no-op here when built). One vitest
// case per C++ case, named from the TEST(...) lines of the sources.
const TESTS_DIR = join(import.meta.dirname, '../../native/tests');
const missing = missingTool(['g++', 'make', 'pkg-config', 'wayland-scanner']);

const declared = readdirSync(TESTS_DIR)
  .filter((name) => name.endsWith('_test.cc'))
  .sort()
  .flatMap((name) =>
    [...readFileSync(join(TESTS_DIR, name), 'utf8').matchAll(/^TEST\((\w+)\)/gm)].flatMap((m) =>
      m[1] === undefined ? [] : [m[1]],
    ),
  );

let built: { status: number | null; output: string } | undefined;
let ran: { status: number | null; output: string } | undefined;
const results = new Map<string, string>();

beforeAll(() => {
  if (missing !== null) return;
  const make = spawnSync('make', ['-C', TESTS_DIR, '-j2'], { encoding: 'utf8', timeout: 170_000 });
  built = { status: make.status, output: `${make.stdout}${make.stderr}` };
  if (make.status !== 0) return;
  // The working directory matters: the disk-file case makes its file there (not on tmpfs).
  const run = spawnSync('./run_tests', [], {
    cwd: join(TESTS_DIR, 'build'),
    encoding: 'utf8',
    timeout: 60_000,
  });
  ran = { status: run.status, output: `${run.stdout}${run.stderr}` };
  for (const line of run.stdout.split('\n')) {
    const m = /^(PASS|FAIL) (\w+)(?:: (.*))?$/.exec(line);
    const [, verdict, name, why] = m ?? [];
    if (name !== undefined) results.set(name, verdict === 'PASS' ? 'pass' : `fail: ${why}`);
  }
}, 240_000);

describe('bridge checks, plain C++ unit tests', () => {
  itNeeds('build with -Werror under ASan and UBSan', missing, () => {
    expect(built?.output ?? 'not built').not.toMatch(/error:|warning:/);
    expect(built?.status).toBe(0);
  });

  itNeeds('run every declared case, without a sanitizer report', missing, () => {
    expect(declared.length).toBeGreaterThanOrEqual(50);
    expect([...results.keys()].sort()).toEqual([...declared].sort());
    expect(ran?.output).toContain(`${declared.length} cases, `);
    expect(ran?.output ?? '').not.toMatch(/runtime error:|AddressSanitizer|LeakSanitizer/);
  });

  for (const name of declared) {
    itNeeds(name, missing, () => {
      expect(results.get(name) ?? 'not run').toBe('pass');
    });
  }

  itNeeds('the runner exits non-zero exactly when a case failed', missing, () => {
    const failed = [...results.values()].some((r) => r !== 'pass');
    expect(ran?.status).toBe(failed ? 1 : 0);
  });
});
