/**
 * HTTP(S) downloads with `node:http`/`node:https`: a bounded text fetch (channel JSON) and a file
 * download that resumes, reports progress and is checked before it is used.
 *
 * A file is downloaded into `<dest>.part`, with `<dest>.part.json` saying what it is a part of
 * (URL, sha256, size, the server's validator). A later call for the same file resumes with
 * `Range` (and `If-Range`, so a changed file restarts instead of being spliced) and accepts a
 * 206 only when its `Content-Range` continues exactly where the part ends. The complete file is
 * hashed; only a matching sha256 renames it to `dest`. A mismatch deletes the part: nothing
 * usable is ever left from a bad download, and a `.part` is never read as an image.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError, isErrnoCode } from './image-errors.js';
import { checkHttpUrl } from './ota-channel.js';

/** Redirects followed before giving up (SourceForge mirrors use two or three). */
export const MAX_REDIRECTS = 5;
/** Default time without any data before a transfer is abandoned. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Progress of a download: bytes of the file present so far, and the file's full size. */
export type ProgressCallback = (bytes: number, total: number) => void;

function failed(message: string, cause?: unknown): ImageError {
  return new ImageError('DOWNLOAD_FAILED', message, { cause });
}

/**
 * GETs `url` following up to `MAX_REDIRECTS` redirects, each checked like the first (http or
 * https only; never from https down to http). Resolves with the final response, unread.
 */
function request(
  url: URL,
  headers: Record<string, string>,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined,
  redirects = 0,
): Promise<{ response: IncomingMessage; url: URL }> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { headers: { 'user-agent': 'droidway', ...headers }, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status)) {
        res.resume();
        const location = res.headers.location;
        if (location === undefined) {
          reject(failed(`${url.href}: redirect ${status} without a Location`));
          return;
        }
        if (redirects >= MAX_REDIRECTS) {
          reject(failed(`${url.href}: more than ${MAX_REDIRECTS} redirects`));
          return;
        }
        let next: URL;
        try {
          next = checkHttpUrl(
            new URL(location, url).href,
            'redirect target',
            'CHANNEL_URL_INVALID',
          );
        } catch (e) {
          reject(failed(`${url.href}: refused redirect: ${(e as Error).message}`, e));
          return;
        }
        if (url.protocol === 'https:' && next.protocol === 'http:') {
          reject(failed(`${url.href}: refused redirect from https to ${next.href}`));
          return;
        }
        request(next, headers, idleTimeoutMs, signal, redirects + 1).then(resolve, reject);
        return;
      }
      res.setTimeout(idleTimeoutMs, () =>
        res.destroy(failed(`${url.href}: no data for ${idleTimeoutMs} ms`)),
      );
      resolve({ response: res, url });
    });
    req.setTimeout(idleTimeoutMs, () =>
      req.destroy(failed(`${url.href}: no answer for ${idleTimeoutMs} ms`)),
    );
    req.on('error', (e) =>
      reject(e instanceof ImageError ? e : failed(`${url.href}: ${e.message}`, e)),
    );
  });
}

/** Options of `fetchBounded`. */
export interface FetchOptions {
  maxBytes: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * GETs `url` (http or https) and returns the body, refusing more than `maxBytes`. Throws
 * `ImageError` `CHANNEL_URL_INVALID` for a bad URL and `DOWNLOAD_FAILED` for a status other
 * than 200, a connection failure, a timeout or a body that is too large.
 */
export async function fetchBounded(url: string, options: FetchOptions): Promise<Buffer> {
  const checked = checkHttpUrl(url, 'URL');
  const { response } = await request(
    checked,
    { accept: 'application/json' },
    options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    options.signal,
  );
  if (response.statusCode !== 200) {
    response.resume();
    throw failed(
      `${checked.href}: HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trim(),
    );
  }
  const declared = Number(response.headers['content-length'] ?? NaN);
  if (declared > options.maxBytes) {
    response.destroy();
    throw failed(`${checked.href}: ${declared} bytes, more than the ${options.maxBytes} accepted`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > options.maxBytes) {
        response.destroy();
        throw failed(`${checked.href}: more than the ${options.maxBytes} bytes accepted`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw failed(`${checked.href}: ${(e as Error).message}`, e);
  }
  return Buffer.concat(chunks);
}

/** What to download and how to check it. */
export interface DownloadOptions {
  url: string;
  /** Final path; written only once the sha256 matches. */
  dest: string;
  /** Expected sha256, lowercase hex. */
  sha256: string;
  /** Expected size in bytes. */
  size: number;
  onProgress?: ProgressCallback;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** How a download went. */
export interface DownloadResult {
  path: string;
  size: number;
  /** Bytes already present from an earlier, interrupted run (0 when it started fresh). */
  resumedFrom: number;
  /** The file was already complete and verified at `dest`; nothing was transferred. */
  alreadyPresent: boolean;
}

/** `<dest>.part.json`: what a part file is a part of. */
interface PartRecord {
  url: string;
  sha256: string;
  size: number;
  /** `ETag` or `Last-Modified` of the response the part came from, for `If-Range`. */
  validator: string | null;
}

async function readPartRecord(file: string): Promise<PartRecord | null> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Partial<PartRecord>;
    if (
      typeof v.url === 'string' &&
      typeof v.sha256 === 'string' &&
      typeof v.size === 'number' &&
      (typeof v.validator === 'string' || v.validator === null)
    )
      return { url: v.url, sha256: v.sha256, size: v.size, validator: v.validator };
  } catch {
    // Absent or unreadable: start over.
  }
  return null;
}

async function hashFile(
  file: string,
  hash: Hash,
  onProgress: (n: number) => void,
): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    n += chunk.length;
    onProgress(n);
  }
  return n;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if (isErrnoCode(e, 'ENOENT')) return null;
    throw e;
  }
}

/** `bytes START-END/TOTAL` → numbers, or null. */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total: number | null } | null {
  const m = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/.exec(value?.trim() ?? '');
  if (m === null) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return null;
  return { start, end, total: m[3] === '*' ? null : Number(m[3]) };
}

/**
 * Downloads `url` to `dest` (see the module doc): resumes from `<dest>.part` when its record
 * matches this URL, sha256 and size; reports progress as bytes present out of `size`; verifies
 * the size and sha256 before renaming into place. When `dest` already exists with the right
 * sha256 it is kept and nothing is fetched.
 *
 * Throws `ImageError`: `CHANNEL_URL_INVALID` for a bad URL; `DOWNLOAD_FAILED` for an HTTP
 * error, a connection cut (the part is kept for the next call), a `Content-Length` or
 * `Content-Range` that disagrees with the expected size, or more bytes than expected (the part
 * is deleted); `DOWNLOAD_CHECKSUM_MISMATCH` when the complete file's sha256 differs (deleted).
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  const url = checkHttpUrl(options.url, 'download URL');
  const { dest, size } = options;
  const expected = options.sha256.toLowerCase();
  const part = `${dest}.part`;
  const recordFile = `${dest}.part.json`;
  const progress = options.onProgress ?? (() => {});
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;

  if ((await sizeOf(dest)) === size) {
    const hash = createHash('sha256');
    await hashFile(dest, hash, () => {});
    if (hash.digest('hex') === expected) {
      progress(size, size);
      return { path: dest, size, resumedFrom: 0, alreadyPresent: true };
    }
  }
  await rm(dest, { force: true });

  const discardPart = async (): Promise<void> => {
    await rm(part, { force: true });
    await rm(recordFile, { force: true });
  };

  let have = (await sizeOf(part)) ?? 0;
  const record = await readPartRecord(recordFile);
  if (
    have > 0 &&
    (record === null ||
      record.url !== url.href ||
      record.sha256 !== expected ||
      record.size !== size ||
      have > size)
  ) {
    await discardPart();
    have = 0;
  }
  let resumedFrom = have;
  let digest = createHash('sha256');
  if (have > 0) await hashFile(part, digest, (n) => progress(n, size));

  if (have < size) {
    const headers: Record<string, string> = {};
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      if (record?.validator) headers['if-range'] = record.validator;
    }
    const { response } = await request(url, headers, idle, options.signal);
    const status = response.statusCode ?? 0;
    let append = false;
    if (status === 206 && have > 0) {
      const range = parseContentRange(response.headers['content-range']);
      if (
        range === null ||
        range.start !== have ||
        range.end !== size - 1 ||
        (range.total !== null && range.total !== size)
      ) {
        response.destroy();
        await discardPart();
        throw failed(
          `${url.href}: the server resumed at ${response.headers['content-range'] ?? 'an unknown range'}, not at byte ${have} of ${size}; the partial file was discarded, try again`,
        );
      }
      append = true;
    } else if (status === 200) {
      // A full answer: the server ignored the range, or the file changed (If-Range): start over.
      if (have > 0) {
        await discardPart();
        have = 0;
        resumedFrom = 0;
        digest = createHash('sha256');
      }
    } else if (status === 416 && have > 0) {
      response.resume();
      await discardPart();
      throw failed(
        `${url.href}: the server refused to resume (HTTP 416); the partial file was discarded, try again`,
      );
    } else {
      response.resume();
      throw failed(`${url.href}: HTTP ${status} ${response.statusMessage ?? ''}`.trim());
    }
    await receive(response, append, digest);
  }

  return finish(digest, resumedFrom);

  async function receive(response: IncomingMessage, append: boolean, into: Hash): Promise<void> {
    const start = append ? have : 0;
    const declared = response.headers['content-length'];
    if (declared !== undefined && Number(declared) !== size - start) {
      response.destroy();
      if (!append) await discardPart();
      throw failed(
        `${url.href}: the server announces ${declared} bytes, the channel ${size - start}`,
      );
    }
    const validator =
      (response.headers.etag as string | undefined) ??
      (response.headers['last-modified'] as string | undefined) ??
      null;
    await writeFile(
      recordFile,
      JSON.stringify({ url: url.href, sha256: expected, size, validator } satisfies PartRecord),
    );
    let received = start;
    let overflow = false;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > size) {
          overflow = true;
          done(failed(`${url.href}: the server sent more than the ${size} bytes expected`));
          return;
        }
        into.update(chunk);
        progress(received, size);
        done(null, chunk);
      },
    });
    try {
      await pipeline(
        response,
        meter,
        createWriteStream(part, { flags: append ? 'a' : 'w', mode: 0o600 }),
      );
    } catch (e) {
      if (overflow) await discardPart();
      if (e instanceof ImageError) throw e;
      throw failed(
        `${url.href}: the transfer broke off at ${received} of ${size} bytes (${(e as Error).message}); run again to resume`,
        e,
      );
    }
    if (received !== size) {
      throw failed(
        `${url.href}: the transfer broke off at ${received} of ${size} bytes; run again to resume`,
      );
    }
  }

  async function finish(digest: Hash, from: number): Promise<DownloadResult> {
    const actual = digest.digest('hex');
    if (actual !== expected) {
      await discardPart();
      throw new ImageError(
        'DOWNLOAD_CHECKSUM_MISMATCH',
        `${url.href}: sha256 ${actual} is not the ${expected} the channel names; the download was deleted`,
      );
    }
    const handle = await open(part, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(part, dest);
    await rm(recordFile, { force: true });
    return { path: dest, size, resumedFrom: from, alreadyPresent: false };
  }
}
