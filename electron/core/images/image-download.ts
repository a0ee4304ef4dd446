/**
 * `image download`: the newest system and vendor images from the OTA channels into the store.
 * Both channel JSONs are fetched and validated first, and the image name is checked free, before
 * any large transfer starts. The zips are downloaded (resumable, sha256-checked) into the store's
 * hidden `.downloads` folder, extracted into a staged image, and deleted once the image is in
 * place.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ImageError } from './image-errors.js';
import { downloadFile, fetchBounded, type ProgressCallback } from './download.js';
import { importImageZips, imageNameFromZip, type ImportResult } from './image-import.js';
import { defaultImageStoreRoot, validateImageName } from './image-store.js';
import {
  channelJsonUrls,
  MAX_CHANNEL_BYTES,
  newestChannelEntry,
  validateChannelSettings,
  waydroidArch,
  type ChannelEntry,
  type ChannelSettings,
} from './ota-channel.js';
import { lstat } from 'node:fs/promises';

/** Which of the two downloads a progress report is about. */
export type DownloadPart = 'system' | 'vendor';

/** Options of `downloadImage`. */
export interface DownloadImageOptions {
  /** Channel settings (the app's `channels` setting); Waydroid's defaults for absent fields. */
  channels?: Partial<ChannelSettings>;
  /** Waydroid architecture name (default this machine's). */
  arch?: string;
  storeRoot?: string;
  /** Name in the store; default derived from the system zip's name. */
  name?: string;
  /** Called as each zip arrives: which one, bytes so far, its size. */
  onProgress?: (part: DownloadPart, bytes: number, total: number) => void;
  /** Called once both channels are read, before the transfers start. */
  onChannels?: (entries: { system: ChannelEntry; vendor: ChannelEntry }) => void;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** The newest entries of the system and vendor channels, validated (see `parseChannel`). */
export async function readChannels(
  settings: ChannelSettings,
  arch: string,
  options: { idleTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{
  urls: { system: string; vendor: string };
  system: ChannelEntry;
  vendor: ChannelEntry;
}> {
  const urls = channelJsonUrls(settings, arch);
  const read = async (url: string): Promise<ChannelEntry> =>
    newestChannelEntry(await fetchBounded(url, { maxBytes: MAX_CHANNEL_BYTES, ...options }), url);
  return { urls, system: await read(urls.system), vendor: await read(urls.vendor) };
}

/**
 * Downloads the newest image of the channels into the store and returns its name and folder.
 * Throws `ImageError`: `CHANNEL_URL_INVALID` / `CHANNEL_INVALID` for bad settings or channel
 * JSON, `IMAGE_EXISTS` when the name is taken (before downloading), `DOWNLOAD_FAILED` (a cut
 * transfer resumes on the next call), `DOWNLOAD_CHECKSUM_MISMATCH`, `ZIP_INVALID` /
 * `ZIP_MISSING_ENTRY`, `IMAGE_INVALID`.
 */
export async function downloadImage(options: DownloadImageOptions = {}): Promise<ImportResult> {
  const settings = validateChannelSettings(options.channels ?? {});
  const arch = options.arch ?? waydroidArch();
  const storeRoot = options.storeRoot ?? defaultImageStoreRoot();
  const http = { idleTimeoutMs: options.idleTimeoutMs, signal: options.signal };
  const { urls, system, vendor } = await readChannels(settings, arch, http);
  options.onChannels?.({ system, vendor });
  const name = validateImageName(options.name ?? imageNameFromZip(system.filename));
  if (
    await lstat(path.join(storeRoot, name)).then(
      () => true,
      () => false,
    )
  )
    throw new ImageError(
      'IMAGE_EXISTS',
      `the image store already has ${name}: it is up to date, or remove it first`,
    );

  const downloads = path.join(storeRoot, '.downloads');
  await mkdir(downloads, { recursive: true, mode: 0o700 });
  const fetchZip = (part: DownloadPart, entry: ChannelEntry): Promise<string> => {
    const progress: ProgressCallback = (bytes, total) => options.onProgress?.(part, bytes, total);
    // Named by hash: a different file can never resume into this one's part.
    const dest = path.join(downloads, `${entry.sha256}.zip`);
    return downloadFile({
      url: entry.url,
      dest,
      sha256: entry.sha256,
      size: entry.size,
      onProgress: progress,
      ...http,
    }).then((r) => r.path);
  };
  const systemZip = await fetchZip('system', system);
  const vendorZip = await fetchZip('vendor', vendor);
  try {
    return await importImageZips(systemZip, vendorZip, {
      storeRoot,
      name,
      vendorType: settings.vendorType,
      origin: {
        kind: 'channel',
        system: { channelUrl: urls.system, ...originOf(system) },
        vendor: { channelUrl: urls.vendor, ...originOf(vendor) },
      },
    });
  } finally {
    // Verified zips are only an intermediate: an image is in place, or the zip itself was bad.
    await rm(systemZip, { force: true });
    await rm(vendorZip, { force: true });
  }
}

function originOf(entry: ChannelEntry): {
  url: string;
  filename: string;
  sha256: string;
  datetime: number;
  version: string | null;
  romtype: string | null;
} {
  return {
    url: entry.url,
    filename: entry.filename,
    sha256: entry.sha256,
    datetime: entry.datetime,
    version: entry.version,
    romtype: entry.romtype,
  };
}
