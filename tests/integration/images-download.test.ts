import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { runCli } from '../../electron/cli/main.js';
import { register as registerImage } from '../../electron/cli/commands/image.js';
import { downloadFile } from '../../electron/core/images/download.js';
import { downloadImage } from '../../electron/core/images/image-download.js';
import { discoverImages } from '../../electron/core/images/image-discovery.js';
import { itNeeds } from '../helpers/capability.js';
import { makeImageFolder, makeZip, toolPath } from '../fixtures/images/fixture-images.js';

/**
 * Downloads from OTA channels served by a local HTTP server on 127.0.0.1: channel JSONs in
 * Waydroid's format and zips built by the test. A good channel, a wrong sha256, a connection cut
 * mid-file and resumed, a truncated zip, a zip escaping its folder, hostile channel JSON.
 */

interface Route {
  body: Buffer;
  /** Send this many bytes of the first full response, then cut the connection. */
  cutOnceAt?: number;
  /** Ignore Range requests (answer 200 with the whole body). */
  noRange?: boolean;
  /** Content-Type, default application/octet-stream. */
  type?: string;
  status?: number;
  location?: string;
}

const routes = new Map<string, Route>();
const requests: { path: string; range: string | undefined }[] = [];
let server: http.Server;
let base: string;
let work: string;
let store: string;
let systemImg: Buffer;
let vendorImg: Buffer;
let goodZips: { system: Buffer; vendor: Buffer } | undefined;
const ARCH = 'x86_64';

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'droidway-download-'));
  if (toolPath('mkfs.ext4') !== null) {
    makeImageFolder(work, join(work, 'img'), { release: '11', sdk: 30, abi: 'x86_64' });
    systemImg = readFileSync(join(work, 'img/system.img'));
    vendorImg = readFileSync(join(work, 'img/vendor.img'));
  } else {
    // Without e2fsprogs the transfers are still real; only the image check needs ext4.
    systemImg = Buffer.alloc(64 * 1024, 1);
    vendorImg = Buffer.alloc(64 * 1024, 2);
  }
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push({ path, range: req.headers.range });
    const route = routes.get(path);
    if (route === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    if (route.status !== undefined) {
      res.writeHead(route.status, route.location ? { location: route.location } : {}).end();
      return;
    }
    const etag = `"${sha(route.body).slice(0, 16)}"`;
    const type = route.type ?? 'application/octet-stream';
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null && !route.noRange) {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-type': type,
        'content-length': route.body.length - start,
        'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}`,
        etag,
      });
      res.end(route.body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': route.body.length, etag });
    if (route.cutOnceAt !== undefined) {
      const cut = route.cutOnceAt;
      route.cutOnceAt = undefined;
      res.write(route.body.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  routes.clear();
  requests.length = 0;
  store = join(work, `store-${Math.random().toString(36).slice(2)}`);
});

/** Serves a system and a vendor channel with one entry each, and their zips. */
function publish(options: {
  systemZip?: Buffer;
  vendorZip?: Buffer;
  systemSha?: string;
  systemEntry?: Record<string, unknown>;
  cutOnceAt?: number;
}): { systemZip: Buffer; vendorZip: Buffer } {
  goodZips ??= {
    system: makeZip([{ name: 'system.img', data: systemImg }]),
    vendor: makeZip([{ name: 'vendor.img', data: vendorImg }]),
  };
  const systemZip = options.systemZip ?? goodZips.system;
  const vendorZip = options.vendorZip ?? goodZips.vendor;
  routes.set('/files/lineage-18.1-20240601-VANILLA-waydroid_x86_64-system.zip', {
    body: systemZip,
    cutOnceAt: options.cutOnceAt,
  });
  routes.set('/files/lineage-18.1-20240601-MAINLINE-waydroid_x86_64-vendor.zip', {
    body: vendorZip,
  });
  const entry = (zip: Buffer, filename: string, datetime: number): Record<string, unknown> => ({
    datetime,
    filename,
    id: sha(zip),
    romtype: 'VANILLA',
    size: zip.length,
    url: `${base}/files/${filename}`,
    version: '18.1',
  });
  const json = (value: unknown): Route => ({
    body: Buffer.from(JSON.stringify(value)),
    type: 'application/json',
  });
  routes.set(
    `/system/lineage/waydroid_${ARCH}/VANILLA.json`,
    json({
      response: [
        {
          ...entry(
            systemZip,
            'lineage-18.1-20240601-VANILLA-waydroid_x86_64-system.zip',
            1_717_200_000,
          ),
          ...(options.systemSha ? { id: options.systemSha } : {}),
          ...options.systemEntry,
        },
        // An older build, listed after: the newest must win whatever the order.
        entry(systemZip, 'lineage-18.1-20230101-VANILLA-waydroid_x86_64-system.zip', 1_672_531_200),
      ],
    }),
  );
  routes.set(
    `/vendor/waydroid_${ARCH}/MAINLINE.json`,
    json({
      response: [
        entry(
          vendorZip,
          'lineage-18.1-20240601-MAINLINE-waydroid_x86_64-vendor.zip',
          1_717_200_000,
        ),
      ],
    }),
  );
  return { systemZip, vendorZip };
}

function channels(): { system: string; vendor: string } {
  return { system: `${base}/system`, vendor: `${base}/vendor` };
}

function leftovers(): string[] {
  const downloads = join(store, '.downloads');
  return [
    ...(existsSync(store) ? readdirSync(store).filter((n) => n !== '.downloads') : []),
    ...(existsSync(downloads) ? readdirSync(downloads).map((n) => `.downloads/${n}`) : []),
  ];
}

const needExt4 = toolPath('mkfs.ext4') === null ? 'needs mkfs.ext4 (e2fsprogs)' : null;

describe('image download from a local channel', () => {
  itNeeds('downloads the newest image, checks it and puts it in the store', needExt4, async () => {
    publish({});
    const progress: [string, number, number][] = [];
    const result = await downloadImage({
      channels: channels(),
      arch: ARCH,
      storeRoot: store,
      onProgress: (part, bytes, total) => progress.push([part, bytes, total]),
    });
    expect(result).toEqual({
      name: 'lineage-18.1-20240601-vanilla-waydroid_x86_64',
      dir: join(store, 'lineage-18.1-20240601-vanilla-waydroid_x86_64'),
    });
    expect(sha(readFileSync(join(result.dir, 'system.img')))).toBe(sha(systemImg));
    expect(sha(readFileSync(join(result.dir, 'vendor.img')))).toBe(sha(vendorImg));
    expect(leftovers()).toEqual(['lineage-18.1-20240601-vanilla-waydroid_x86_64']);
    expect(progress.at(-1)).toEqual(['vendor', progress.at(-1)![2], progress.at(-1)![2]]);
    const system = progress.filter(([p]) => p === 'system').map(([, b]) => b);
    expect(system).toEqual([...system].sort((a, b) => a - b));
    const [image] = await discoverImages({ storeRoot: store, waydroidDirs: [] });
    expect(image).toMatchObject({
      androidVersion: '11',
      sdk: 30,
      vendorType: 'MAINLINE',
      usable: true,
    });
    expect(image?.record?.origin).toMatchObject({
      kind: 'channel',
      system: {
        datetime: 1_717_200_000,
        filename: 'lineage-18.1-20240601-VANILLA-waydroid_x86_64-system.zip',
      },
    });
  });

  it("refuses a zip whose sha256 is not the channel's, keeping nothing", async () => {
    publish({ systemSha: 'f'.repeat(64) });
    await expect(
      downloadImage({ channels: channels(), arch: ARCH, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_CHECKSUM_MISMATCH',
      message: expect.stringMatching(
        /sha256 [0-9a-f]{64} is not the f{64} the channel names; the download was deleted/,
      ),
    });
    expect(leftovers()).toEqual([]);
  });

  itNeeds(
    'resumes a transfer cut mid-file from its .part, with a Range request',
    needExt4,
    async () => {
      const { systemZip } = publish({ cutOnceAt: 40_000 });
      await expect(
        downloadImage({ channels: channels(), arch: ARCH, storeRoot: store }),
      ).rejects.toMatchObject({
        code: 'DOWNLOAD_FAILED',
        message: expect.stringMatching(/broke off at 40000 of \d+ bytes.*run again to resume/),
      });
      const part = join(store, '.downloads', `${sha(systemZip)}.zip.part`);
      expect(statSync(part).size).toBe(40_000);
      expect(leftovers()).toEqual([
        `.downloads/${sha(systemZip)}.zip.part`,
        `.downloads/${sha(systemZip)}.zip.part.json`,
      ]);
      const progress: number[] = [];
      const result = await downloadImage({
        channels: channels(),
        arch: ARCH,
        storeRoot: store,
        onProgress: (p, bytes) => p === 'system' && progress.push(bytes),
      });
      expect(requests.filter((r) => r.path.endsWith('system.zip')).map((r) => r.range)).toEqual([
        undefined,
        'bytes=40000-',
      ]);
      // The bytes already present are counted first, then the rest.
      expect(progress).toContain(40_000);
      expect(sha(readFileSync(join(result.dir, 'system.img')))).toBe(sha(systemImg));
      expect(leftovers()).toEqual([result.name]);
    },
  );

  it('reports where a resumed download restarted', async () => {
    const body = Buffer.alloc(300_000, 7);
    routes.set('/blob', { body, cutOnceAt: 100_000 });
    const dest = join(work, 'blob.bin');
    const options = { url: `${base}/blob`, dest, sha256: sha(body), size: body.length };
    await expect(downloadFile(options)).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' });
    expect(existsSync(dest)).toBe(false);
    const seen: number[] = [];
    const result = await downloadFile({ ...options, onProgress: (b) => seen.push(b) });
    expect(result).toMatchObject({ resumedFrom: 100_000, alreadyPresent: false, size: 300_000 });
    expect(seen.at(-1)).toBe(300_000);
    expect(readFileSync(dest).equals(body)).toBe(true);
    await expect(downloadFile(options)).resolves.toMatchObject({ alreadyPresent: true });
    // A server that ignores Range starts the file over instead of splicing.
    routes.set('/blob2', { body, cutOnceAt: 50_000, noRange: true });
    const dest2 = join(work, 'blob2.bin');
    const options2 = { url: `${base}/blob2`, dest: dest2, sha256: sha(body), size: body.length };
    await expect(downloadFile(options2)).rejects.toMatchObject({ code: 'DOWNLOAD_FAILED' });
    await expect(downloadFile(options2)).resolves.toMatchObject({ resumedFrom: 0 });
    expect(readFileSync(dest2).equals(body)).toBe(true);
  });

  it('refuses a server that sends more than the channel size, keeping nothing', async () => {
    const body = Buffer.alloc(10_000, 3);
    routes.set('/big', { body });
    const dest = join(work, 'big.bin');
    await expect(
      downloadFile({ url: `${base}/big`, dest, sha256: sha(body), size: 5_000 }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringMatching(/announces 10000 bytes, the channel 5000/),
    });
    expect(existsSync(`${dest}.part`)).toBe(false);
  });

  it('refuses a truncated zip with a clear error, keeping nothing', async () => {
    const whole = makeZip([{ name: 'system.img', data: systemImg }]);
    publish({ systemZip: whole.subarray(0, whole.length - 100) });
    await expect(
      downloadImage({ channels: channels(), arch: ARCH, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(/not a zip file, or truncated/),
    });
    expect(leftovers()).toEqual([]);
  });

  it('refuses a zip with a path escaping the target folder, writing nothing outside', async () => {
    publish({
      systemZip: makeZip([
        { name: 'system.img', data: systemImg },
        { name: '../../../escaped', data: Buffer.from('owned') },
      ]),
    });
    await expect(
      downloadImage({ channels: channels(), arch: ARCH, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'ZIP_INVALID',
      message: expect.stringMatching(
        /unsafe entry name "\.\.\/\.\.\/\.\.\/escaped": path escapes the target folder/,
      ),
    });
    expect(leftovers()).toEqual([]);
    expect(existsSync(join(store, '..', 'escaped'))).toBe(false);
  });

  it.each([
    [
      'a huge size',
      { size: 2 ** 40 },
      /response\[0\]\.size 1099511627776 is more than the 17179869184 bytes accepted/,
    ],
    [
      'a relative URL',
      { url: 'files/system.zip' },
      /response\[0\]\.url "files\/system\.zip" is not an absolute URL/,
    ],
    [
      'a file: URL',
      { url: 'file:///etc/shadow' },
      /response\[0\]\.url "file:\/\/\/etc\/shadow" is not http or https/,
    ],
    ['a bad sha256', { id: 'not-a-hash' }, /response\[0\]\.id must be a sha256/],
    ['a wrong type', { datetime: 'yesterday' }, /response\[0\]\.datetime must be a whole number/],
  ])(
    'refuses a channel with %s before downloading anything',
    async (_what, systemEntry, message) => {
      publish({ systemEntry });
      await expect(
        downloadImage({ channels: channels(), arch: ARCH, storeRoot: store }),
      ).rejects.toMatchObject({
        code: 'CHANNEL_INVALID',
        message: expect.stringMatching(message),
      });
      expect(requests.some((r) => r.path.startsWith('/files/'))).toBe(false);
      expect(leftovers()).toEqual([]);
    },
  );

  it('refuses malformed, oversized and missing channels with clear errors', async () => {
    const url = `${base}/bad.json`;
    routes.set('/bad.json', { body: Buffer.from('{"response": [ {') });
    await expect(
      downloadImage({ channels: { system: url }, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'CHANNEL_INVALID',
      message: expect.stringMatching(
        /^channel http:\/\/127\.0\.0\.1:\d+\/bad\.json: not valid JSON/,
      ),
    });
    routes.set('/bad.json', { body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
    await expect(
      downloadImage({ channels: { system: url }, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringMatching(/more than the 1048576 accepted/),
    });
    await expect(
      downloadImage({ channels: { system: `${base}/gone.json` }, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringMatching(/gone\.json: HTTP 404/),
    });
    routes.set('/redirect.json', {
      body: Buffer.alloc(0),
      status: 302,
      location: 'file:///etc/passwd',
    });
    await expect(
      downloadImage({ channels: { system: `${base}/redirect.json` }, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'DOWNLOAD_FAILED',
      message: expect.stringMatching(
        /refused redirect: redirect target "file:\/\/\/etc\/passwd" is not http or https/,
      ),
    });
    await expect(
      downloadImage({ channels: { system: 'gopher://example.org/x.json' }, storeRoot: store }),
    ).rejects.toMatchObject({
      code: 'CHANNEL_URL_INVALID',
    });
    expect(leftovers()).toEqual([]);
  });

  itNeeds('droidway image download prints a progress line and the result', needExt4, async () => {
    publish({});
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command('droidway');
    registerImage(program);
    const status = await runCli(
      program,
      [
        'node',
        'droidway',
        'image',
        'download',
        '--channel',
        `${base}/system/lineage/waydroid_${ARCH}/VANILLA.json`,
        '--vendor-channel',
        `${base}/vendor/waydroid_${ARCH}/MAINLINE.json`,
        '--store',
        store,
      ],
      { writeOut: (t) => out.push(t), writeErr: (t) => err.push(t), env: {} },
    );
    expect(err.join('')).toMatch(
      /^system: lineage-18\.1-20240601-VANILLA-waydroid_x86_64-system\.zip \(/,
    );
    expect(err.join('')).toMatch(/system: 100% \(/);
    expect(err.join('')).toMatch(/vendor: 100% \(/);
    expect(status).toBe(0);
    expect(out.join('')).toBe(
      `downloaded lineage-18.1-20240601-vanilla-waydroid_x86_64 into ${join(store, 'lineage-18.1-20240601-vanilla-waydroid_x86_64')}\n`,
    );
  });
});
