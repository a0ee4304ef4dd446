/**
 * Waydroid's OTA channels: where images are published, and the JSON that lists them. The format
 * is LineageOS's updater format, as Waydroid reads it (`tools/helpers/images.py`):
 *
 *     {"response": [{"datetime": 1700000000, "filename": "lineage-…-system.zip",
 *       "id": "<sha256 of the zip>", "romtype": "VANILLA", "size": 123, "url": "https://…",
 *       "version": "18.1"}]}
 *
 * A channel is fetched from the network, so the JSON is hostile input: every field is checked
 * (types, sizes, URL scheme, sha256 format) before anything is downloaded, and the newest entry
 * (largest `datetime`) is chosen. Channel URLs are settings; the defaults are Waydroid's.
 */
import os from 'node:os';
import { ImageError, shown } from './image-errors.js';

/** Where images come from: Waydroid's channel settings (`channels.cfg`), all overridable. */
export interface ChannelSettings {
  /** System channel: a base URL (Waydroid's `system_channel`) or a full `….json` URL. */
  system: string;
  /** Vendor channel: a base URL (Waydroid's `vendor_channel`) or a full `….json` URL. */
  vendor: string;
  /** Waydroid's `rom_type` (`lineage`, `bliss`). */
  romType: string;
  /** Waydroid's `system_type` (`VANILLA`, `GAPPS`). */
  systemType: string;
  /** Waydroid's vendor type: `MAINLINE` for PCs, `HALIUM_<n>` for Halium phones. */
  vendorType: string;
}

/** Waydroid's defaults (`tools/config/__init__.py`, `channels_defaults`). */
export const DEFAULT_CHANNELS: Readonly<ChannelSettings> = Object.freeze({
  system: 'https://ota.waydro.id/system',
  vendor: 'https://ota.waydro.id/vendor',
  romType: 'lineage',
  systemType: 'VANILLA',
  vendorType: 'MAINLINE',
});

/**
 * The channels of Settings' "Image channel URL": the OTA server's base URL, whose `/system`
 * and `/vendor` channels are used (as Waydroid's `https://ota.waydro.id` has them). Empty: the
 * defaults. Throws `CHANNEL_URL_INVALID` for a URL that is not plain http(s).
 */
export function channelsFromSetting(
  channelUrl: string,
  defaults: Readonly<ChannelSettings> = DEFAULT_CHANNELS,
): ChannelSettings {
  if (channelUrl.trim() === '') return { ...defaults };
  const url = checkHttpUrl(channelUrl.trim(), 'the image channel URL');
  const base = url.href.replace(/\/+$/, '');
  return { ...defaults, system: `${base}/system`, vendor: `${base}/vendor` };
}

/** Largest channel JSON accepted (real ones are a few KiB). */
export const MAX_CHANNEL_BYTES = 1024 * 1024;
/** Most entries accepted in `response`. */
export const MAX_CHANNEL_ENTRIES = 1000;
/** Largest download a channel may announce. */
export const MAX_DOWNLOAD_BYTES = 16 * 1024 * 1024 * 1024;
const MAX_URL_LENGTH = 2048;
const MAX_TEXT_LENGTH = 128;
/** Channel path parts (`rom_type`, `system_type`, vendor type): safe inside a URL path. */
const PATH_PART = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Checks an http(s) URL and returns it normalized. Throws `ImageError` with `code` for a relative
 * URL, another scheme, embedded credentials, or one longer than 2048 characters; `what` names it.
 */
export function checkHttpUrl(
  value: unknown,
  what: string,
  code: 'CHANNEL_URL_INVALID' | 'CHANNEL_INVALID' = 'CHANNEL_URL_INVALID',
): URL {
  if (typeof value !== 'string') throw new ImageError(code, `${what} is not a string`);
  if (value.length > MAX_URL_LENGTH)
    throw new ImageError(code, `${what} is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ImageError(code, `${what} ${shown(value)} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ImageError(code, `${what} ${shown(value)} is not http or https (${url.protocol})`);
  if (url.username !== '' || url.password !== '')
    throw new ImageError(code, `${what} ${shown(value)} carries credentials`);
  return url;
}

/**
 * Checks channel settings from the user's configuration and returns them, with Waydroid's
 * defaults for absent fields. Throws `CHANNEL_URL_INVALID` for a bad URL and `CHANNEL_INVALID`
 * for a type part that would not be a safe URL path component.
 */
export function validateChannelSettings(value: unknown): ChannelSettings {
  const v = (value ?? {}) as Partial<Record<keyof ChannelSettings, unknown>>;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ImageError('CHANNEL_INVALID', 'channel settings must be an object');
  const pick = (key: keyof ChannelSettings): unknown => v[key] ?? DEFAULT_CHANNELS[key];
  const part = (key: 'romType' | 'systemType' | 'vendorType'): string => {
    const p = pick(key);
    if (typeof p !== 'string' || !PATH_PART.test(p))
      throw new ImageError(
        'CHANNEL_INVALID',
        `channels.${key} must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', '-'`,
      );
    return p;
  };
  return {
    system: checkHttpUrl(pick('system'), 'channels.system').href.replace(/\/$/, ''),
    vendor: checkHttpUrl(pick('vendor'), 'channels.vendor').href.replace(/\/$/, ''),
    romType: part('romType'),
    systemType: part('systemType'),
    vendorType: part('vendorType'),
  };
}

/** Waydroid's name for a CPU architecture (`helpers/arch.py`): x86_64, x86, arm64, arm. */
export function waydroidArch(machine: string = os.machine()): string {
  switch (machine) {
    case 'x86_64':
    case 'amd64':
      return 'x86_64';
    case 'i686':
    case 'i386':
      return 'x86';
    case 'aarch64':
    case 'arm64':
      return 'arm64';
    default:
      return machine.startsWith('armv') ? 'arm' : machine;
  }
}

/**
 * The channel JSON URLs for `settings` on `arch`, built as Waydroid builds them:
 * `<system>/<romType>/waydroid_<arch>/<systemType>.json` and
 * `<vendor>/waydroid_<arch>/<vendorType>.json`. A channel already ending in `.json` is used as is.
 */
export function channelJsonUrls(
  settings: ChannelSettings,
  arch: string = waydroidArch(),
): { system: string; vendor: string } {
  const base = (url: string): string => url.replace(/\/+$/, '');
  return {
    system: /\.json$/i.test(settings.system)
      ? settings.system
      : `${base(settings.system)}/${settings.romType}/waydroid_${arch}/${settings.systemType}.json`,
    vendor: /\.json$/i.test(settings.vendor)
      ? settings.vendor
      : `${base(settings.vendor)}/waydroid_${arch}/${settings.vendorType}.json`,
  };
}

/** One validated channel entry. */
export interface ChannelEntry {
  /** Build time, seconds since the epoch. */
  datetime: number;
  /** File name of the zip (`[A-Za-z0-9._+-]` ending in `.zip`). */
  filename: string;
  /** sha256 of the zip, lowercase hex. */
  sha256: string;
  /** Size of the zip in bytes. */
  size: number;
  /** Absolute http(s) URL of the zip. */
  url: string;
  romtype: string | null;
  version: string | null;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const FILENAME_PATTERN = /^[A-Za-z0-9._+-]{1,200}\.zip$/;
const SHA256_PATTERN = /^[0-9a-fA-F]{64}$/;

function channelError(channel: string, message: string): ImageError {
  return new ImageError('CHANNEL_INVALID', `channel ${channel}: ${message}`);
}

function checkEntry(raw: unknown, where: string, channel: string): ChannelEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw channelError(channel, `${where} is not an object`);
  const e = raw as Record<string, unknown>;
  const { datetime, filename, id, size, url, romtype, version } = e;
  if (
    typeof datetime !== 'number' ||
    !Number.isSafeInteger(datetime) ||
    datetime < 0 ||
    datetime > 1e11
  )
    throw channelError(channel, `${where}.datetime must be a whole number of seconds since 1970`);
  if (typeof filename !== 'string' || !FILENAME_PATTERN.test(filename))
    throw channelError(channel, `${where}.filename must be a plain file name ending in .zip`);
  if (typeof id !== 'string' || !SHA256_PATTERN.test(id))
    throw channelError(channel, `${where}.id must be a sha256 (64 hex digits)`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0)
    throw channelError(channel, `${where}.size must be a positive whole number of bytes`);
  if (size > MAX_DOWNLOAD_BYTES)
    throw channelError(
      channel,
      `${where}.size ${size} is more than the ${MAX_DOWNLOAD_BYTES} bytes accepted`,
    );
  const checkedUrl = checkHttpUrl(url, `${where}.url`, 'CHANNEL_INVALID');
  const optionalText = (value: unknown, name: string): string | null => {
    if (value === undefined || value === null) return null;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH || CONTROL_CHARS.test(value))
      throw channelError(channel, `${where}.${name} must be a short line of text`);
    return value;
  };
  return {
    datetime,
    filename,
    sha256: id.toLowerCase(),
    size,
    url: checkedUrl.href,
    romtype: optionalText(romtype, 'romtype'),
    version: optionalText(version, 'version'),
  };
}

/**
 * Parses a channel JSON (bytes or text) from `channel` (its URL, for messages) and returns its
 * entries, newest first. Throws `ImageError` `CHANNEL_INVALID` naming the field for: more than
 * `MAX_CHANNEL_BYTES`, invalid JSON, no `response` array, an empty list or more than
 * `MAX_CHANNEL_ENTRIES`, and any entry with a wrong type, a relative or non-http(s) URL, a size
 * that is not positive or above `MAX_DOWNLOAD_BYTES`, an `id` that is not a sha256, or a
 * `filename` that is not a plain `.zip` name.
 */
export function parseChannel(data: Buffer | string, channel: string): ChannelEntry[] {
  const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (length > MAX_CHANNEL_BYTES)
    throw channelError(channel, `the channel JSON is larger than ${MAX_CHANNEL_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (e) {
    throw channelError(channel, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw channelError(channel, 'the channel JSON is not an object');
  const response = (value as { response?: unknown }).response;
  if (!Array.isArray(response)) throw channelError(channel, 'has no "response" list');
  if (response.length === 0) throw channelError(channel, 'lists no images');
  if (response.length > MAX_CHANNEL_ENTRIES)
    throw channelError(channel, `lists more than ${MAX_CHANNEL_ENTRIES} images`);
  const entries = response.map((raw, i) => checkEntry(raw, `response[${i}]`, channel));
  // Stable sort: among equal datetimes the channel's own order wins, as Waydroid takes the first.
  return entries.sort((a, b) => b.datetime - a.datetime);
}

/** The newest entry of a channel JSON (see `parseChannel` for what is refused). */
export function newestChannelEntry(data: Buffer | string, channel: string): ChannelEntry {
  return parseChannel(data, channel)[0]!;
}
