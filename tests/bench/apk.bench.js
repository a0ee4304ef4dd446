// ApkReader versus `aapt dump badging` (same run, same files):
// - time per APK: the reader in its (warm, reused) worker, as the app calls it, versus one
//   `aapt dump badging` process per APK, as a desktop app would call aapt;
// - peak memory: the RSS growth of a fresh Node process reading the APK, versus aapt's max RSS,
//   for a small fixture and for a generated 200 MB APK with 20,000 stored entries.
// Fixtures come from tests/fixtures/apk/build-fixtures.ts (compiled here with tsc); the big APK
// is the `hello` fixture's manifest, resources and icons plus 20,000 10 KB entries (unsigned:
// aapt does not verify signatures either).
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

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outApk = join(root, 'out', 'electron', 'core', 'apk');
const artifacts = join(root, 'tests', 'artifacts', 'bench', 'apk');

export default {
  name: 'apk',
  unavailable() {
    if (!existsSync(join(outApk, 'apk-worker-client.js')))
      return 'ApkReader not compiled (npm run build:ts)';
    for (const tool of ['aapt', 'apksigner', 'keytool', 'python3'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
        return `${tool} not installed`;
    return null;
  },
  async run({ quick }) {
    const { buildApkFixtures, cleanupApkFixtures } = await import(compileFixtures());
    const { readApkInfoInWorker, closeApkWorkers } = await import(
      pathToFileURL(join(outApk, 'apk-worker-client.js')).href
    );
    const { readApkEntry } = await import(pathToFileURL(join(outApk, 'apk-reader.js')).href);
    const rounds = quick ? 3 : 9;
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

      await readApkInfoInWorker(files[0].file); // start the worker once, as the app would
      for (const { name, file } of files) {
        const ours = median(
          await repeat(rounds, async () => {
            const s = performance.now();
            await readApkInfoInWorker(file, { timeoutMs: 60_000 });
            return performance.now() - s;
          }),
        );
        const aapt = median(
          await repeat(rounds, async () => {
            const s = performance.now();
            execFileSync('aapt', ['dump', 'badging', file], { stdio: 'pipe', maxBuffer: 64 << 20 });
            return performance.now() - s;
          }),
        );
        rows.push({
          metric: `read ${name}`,
          value: ours,
          baseline: aapt,
          baselineName: 'aapt dump badging',
          unit: 'ms',
          goal: 'faster than aapt',
        });
      }
      const cold = median(
        await repeat(rounds, async () => {
          await closeApkWorkers();
          const s = performance.now();
          await readApkInfoInWorker(files[0].file);
          return performance.now() - s;
        }),
      );
      rows.push({
        metric: `read ${files[0].name}, new worker`,
        value: cold,
        baseline: rows[0].baseline,
        baselineName: 'aapt dump badging',
        unit: 'ms',
        goal: 'first read only',
      });
      await closeApkWorkers();

      for (const { name, file } of [files[0], files[files.length - 1]]) {
        rows.push({
          metric: `peak memory ${name}`,
          value: readerRssDeltaMb(file),
          baseline: aaptMaxRssMb(file),
          baselineName: 'aapt max RSS',
          unit: 'MiB',
          goal: 'independent of APK size',
        });
      }
    } finally {
      await closeApkWorkers();
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
      ...['--skipLibCheck', '--strict'],
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

/** RSS growth (MiB) of a fresh Node process while it reads `file` with readApkInfo. */
function readerRssDeltaMb(file) {
  const script = `
    const { readApkInfo } = await import(${JSON.stringify(pathToFileURL(join(outApk, 'apk-reader.js')).href)});
    const before = process.resourceUsage().maxRSS;
    await readApkInfo(${JSON.stringify(file)});
    const after = process.resourceUsage().maxRSS;
    process.stdout.write(String((after - before) / 1024));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return Number(out);
}

/** aapt's max RSS (MiB) for one `dump badging`. */
function aaptMaxRssMb(file) {
  const out = execFileSync(
    'python3',
    [
      '-c',
      'import resource,subprocess,sys;subprocess.run(["aapt","dump","badging",sys.argv[1]],stdout=subprocess.DEVNULL,check=True);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)',
      file,
    ],
    { encoding: 'utf8' },
  );
  return Number(out) / 1024;
}

async function repeat(n, f) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
