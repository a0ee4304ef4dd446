// `droidway apk info` versus `aapt dump badging`, whole process against whole process, alternated
// pair by pair in the same run (what a person waits for: the CLI's start, its reader worker's
// start and the read, against aapt's whole run), with each side's peak RSS, for the small `hello`
// fixture and for a generated 200 MB APK with 20,000 stored entries; and the small read against
// `node -e 0`, the floor of any Node command. Fixtures come from tests/fixtures/apk/build-fixtures.ts
// (compiled here with tsc); the big APK is the `hello` fixture's manifest, resources and icons
// plus 20,000 10 KB entries (unsigned: aapt does not verify signatures either).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { comparePairs, processRow } from './whole-process.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outApk = join(root, 'out', 'electron', 'core', 'apk');
const artifacts = join(root, 'tests', 'artifacts', 'bench', 'apk');
const shim = join(root, 'electron', 'cli', 'droidway.js');

export default {
  name: 'apk',
  unavailable() {
    if (!existsSync(join(outApk, 'apk-worker-client.js')))
      return 'ApkReader not compiled (npm run build:ts)';
    if (!existsSync(join(root, 'out', 'cli', 'droidway.js')))
      return 'the CLI bundle is not built (npm run build:cli)';
    for (const tool of ['aapt', 'apksigner', 'keytool', 'python3'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        return `${tool} not installed`;
    return null;
  },
  async run({ quick }) {
    const { buildApkFixtures, cleanupApkFixtures } = await import(compileFixtures());
    const { readApkEntry } = await import(pathToFileURL(join(outApk, 'apk-reader.js')).href);
    const pairs = quick ? 3 : 9;
    const rows = [];
    const tmp = mkdtempSync(join(tmpdir(), 'apk-bench-'));
    try {
      const fixtures = await buildApkFixtures();
      const files = [...fixtures.values()].map((f) => ({ name: f.spec.name, file: f.file }));
      const big = join(tmp, 'big-200mb-20k.apk');
      const t0 = performance.now();
      await makeBigApk(big, fixtures.get('hello').file, readApkEntry, quick ? 2_000 : 20_000);
      const genMs = performance.now() - t0;
      files.push({
        name: quick ? 'generated 20 MB / 2k entries' : 'generated 200 MB / 20k entries',
        file: big,
      });
      process.stderr.write(`apk bench: generated the big APK in ${genMs.toFixed(0)} ms\n`);

      const hello = files.find((f) => f.name === 'hello') ?? files[0];
      const bigFile = files[files.length - 1];
      const droidway = (file) => [process.execPath, shim, 'apk', 'info', file];
      const aapt = (file) => ['aapt', 'dump', 'badging', file];
      for (const { name, file } of [hello, bigFile]) {
        const r = comparePairs(droidway(file), aapt(file), { pairs });
        rows.push(processRow(`\`apk info\` ${name}`, r, '`aapt dump badging`', '≤ 1× aapt'));
      }
      const floor = comparePairs(droidway(hello.file), [process.execPath, '-e', '0'], { pairs });
      rows.push(
        processRow(`\`apk info\` ${hello.name}`, floor, '`node -e 0`', '≤ node -e 0 + 100 ms'),
      );
    } finally {
      cleanupApkFixtures();
      rmSync(tmp, { recursive: true, force: true });
    }
    return rows;
  },
};

/** Compiles the fixture builder (and the reader modules it imports) into tests/artifacts. */
function compileFixtures() {
  const out = join(artifacts, 'ts');
  mkdirSync(out, { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      ...['--outDir', out, '--rootDir', root, '--module', 'nodenext'],
      ...['--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node'],
      ...['--skipLibCheck', '--strict', '--isolatedModules', '--verbatimModuleSyntax'],
      join(root, 'tests/fixtures/apk/build-fixtures.ts'),
    ],
    { cwd: root, stdio: 'pipe' },
  );
  execFileSync('sh', ['-c', `echo '{ "type": "module" }' > "${out}/package.json"`]);
  if (!existsSync(join(out, 'node_modules')))
    symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  return pathToFileURL(join(out, 'tests/fixtures/apk/build-fixtures.js')).href;
}

/**
 * Writes a stored (uncompressed) zip: the base APK's manifest, resources table and icons, then
 * `count` entries of 10,000 bytes each.
 */
export async function makeBigApk(file, base, readApkEntry, count) {
  const keep = ['AndroidManifest.xml', 'resources.arsc'];
  for (const d of ['mdpi', 'hdpi', 'xxhdpi']) keep.push(`res/drawable-${d}-v4/icon.png`);
  const entries = [];
  for (const name of keep) {
    try {
      entries.push({ name, data: await readApkEntry(base, name) });
    } catch {
      // an icon folder aapt named differently: the badging still works without it
    }
  }
  const fd = openSync(file, 'w');
  const central = [];
  let offset = 0;
  const put = (buf) => {
    writeSync(fd, buf);
    offset += buf.length;
  };
  const blob = Buffer.alloc(10_000);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 2654435761) >>> 24;
  const add = (name, data) => {
    const nameBuf = Buffer.from(name);
    const crc = crc32(data) >>> 0;
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(10, 4);
    h.writeUInt16LE(0x800, 6);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(data.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(nameBuf.length, 26);
    central.push({ nameBuf, crc, size: data.length, offset });
    put(h);
    put(nameBuf);
    put(data);
  };
  for (const e of entries) add(e.name, e.data);
  for (let i = 0; i < count; i++) {
    blob.writeUInt32LE(i, 0);
    add(`assets/blob/${String(i).padStart(5, '0')}.bin`, blob);
  }
  const cdStart = offset;
  const parts = [];
  for (const c of central) {
    const h = Buffer.alloc(46);
    h.writeUInt32LE(0x02014b50, 0);
    h.writeUInt16LE(10, 4);
    h.writeUInt16LE(10, 6);
    h.writeUInt16LE(0x800, 8);
    h.writeUInt32LE(c.crc, 16);
    h.writeUInt32LE(c.size, 20);
    h.writeUInt32LE(c.size, 24);
    h.writeUInt16LE(c.nameBuf.length, 28);
    h.writeUInt32LE(c.offset, 42);
    parts.push(h, c.nameBuf);
  }
  const cd = Buffer.concat(parts);
  put(cd);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(central.length, 8);
  eocd.writeUInt16LE(central.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(cdStart, 16);
  put(eocd);
  closeSync(fd);
}
