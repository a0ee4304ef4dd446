import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { itNeeds, missingTool } from '../helpers/capability.js';

// The bridge's title and app_id rewriting, a Node-free C++ core, compiled with a small driver
// and fed bytes (valid and malformed UTF-8) in hex.
const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const missing = missingTool(['g++']);

let dir = '';
let driver = '';

beforeAll(() => {
  if (missing !== null) return;
  dir = mkdtempSync('/tmp/droidway-text-sanitize-');
  driver = join(dir, 'text-sanitize-driver');
  execFileSync('g++', [
    '-std=c++17',
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${join(root, 'native/src')}`,
    '-o',
    driver,
    join(root, 'tests/fixtures/bridge/text-sanitize-driver.cc'),
    join(root, 'native/src/bridge/text_sanitize.cc'),
  ]);
}, 60_000);
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function sanitize(mode: 'title' | 'app-id', input: Buffer): Promise<Buffer> {
  const { stdout } = await run(driver, [mode, input.toString('hex')]);
  return Buffer.from(stdout.trim(), 'hex');
}
const title = async (text: string) => (await sanitize('title', Buffer.from(text))).toString();
const appId = async (text: string) => (await sanitize('app-id', Buffer.from(text))).toString();

const BIDI = [
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
];

describe('bridge title and app_id sanitizing', () => {
  itNeeds('strips every bidi formatting character from titles', missing, async () => {
    // "invoice\u202Efdp.exe" would display as "invoiceexe.pdf".
    expect(await title('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    for (const control of BIDI) expect(await title(`a${control}b`), control).toBe('ab');
    expect(await title(BIDI.join(''))).toBe('');
    // Their neighbours are ordinary text and stay: ZWJ, narrow no-break space, Arabic semicolon.
    expect(await title('a\u200Db\u202Fc\u061Bd\u2065e')).toBe('a\u200Db\u202Fc\u061Bd\u2065e');
    expect(await title('Ünïcödé ✓ 日本')).toBe('Ünïcödé ✓ 日本');
  });

  itNeeds('keeps the title cap after stripping', missing, async () => {
    // 300 overrides (900 bytes) remove to nothing; the text after them is kept, up to 256 bytes.
    expect(await title(`${'\u202E'.repeat(300)}tail`)).toBe('tail');
    expect(Buffer.byteLength(await title(`${'\u202E'.repeat(10)}${'x'.repeat(400)}`))).toBe(256);
  });

  itNeeds('turns malformed UTF-8 into U+FFFD, never into a bidi control', missing, async () => {
    const fffd = Buffer.from('\uFFFD').toString('hex');
    // A truncated U+202E (e2 80), an overlong 4-byte U+202E (f0 82 80 ae), a lone continuation,
    // a surrogate (ed a0 80), and a code point past U+10FFFF (f4 90 80 80).
    const cases: [string, number][] = [
      ['e280', 2],
      ['f08280ae', 4],
      ['ae', 1],
      ['eda080', 3],
      ['f4908080', 4],
    ];
    for (const [hex, replacements] of cases) {
      const out = await sanitize('title', Buffer.from(`41${hex}42`, 'hex'));
      expect(out.toString('hex'), hex).toBe(`41${fffd.repeat(replacements)}42`);
    }
    // C0/C1 controls and DEL go too.
    expect(
      (await sanitize('title', Buffer.from('410a1b7fc285c29f42', 'hex'))).toString('hex'),
    ).toBe('4142');
  });

  itNeeds('strips bidi controls from app ids before the character check', missing, async () => {
    expect(await appId('com.\u202Eexample\u2069')).toBe('droidway.com.example');
    expect(await appId('waydroid.\u202Dorg.app')).toBe('droidway.org.app');
    expect(await appId('\u202E\u2066')).toBe('droidway.unknown');
    // Other non-ASCII bytes still become '_', one per byte; malformed bytes too.
    expect(await appId('caf\u00e9')).toBe('droidway.caf__');
    expect((await sanitize('app-id', Buffer.from('61e28062', 'hex'))).toString()).toBe(
      'droidway.a__b',
    );
    expect(await appId(`${'\u202E'.repeat(50)}${'a'.repeat(200)}`)).toBe(
      `droidway.${'a'.repeat(128)}`,
    );
  });
});
