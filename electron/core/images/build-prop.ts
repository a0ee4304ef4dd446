/**
 * Android's `build.prop` (the `key=value` property file of a system or vendor partition), read
 * as untrusted text: it comes from an image anyone could have built. Bounded in size and line
 * count, keys held to Android's property-name characters, values to printable text; lines that
 * break the rules are skipped and counted, never guessed at.
 */
import { ImageError } from './image-errors.js';

/** Largest `build.prop` accepted (real ones are 2–30 KiB). */
export const MAX_BUILD_PROP_BYTES = 1024 * 1024;
/** Most lines accepted. */
export const MAX_BUILD_PROP_LINES = 20_000;
/** Longest property name kept. */
export const MAX_PROP_KEY_LENGTH = 256;
/** Longest property value kept (Android allows long `ro.*` values; nothing here needs more). */
export const MAX_PROP_VALUE_LENGTH = 4096;

/** Property names as Android's property service accepts them. */
const KEY_PATTERN = /^[A-Za-z0-9_.:@-]+$/;
// Tab is allowed; every other C0 control and DEL is not.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** A parsed property file. */
export interface BuildProps {
  /** Properties by name; a later assignment replaces an earlier one, as init loads them. */
  props: Map<string, string>;
  /** Lines that were neither a property, a comment, an `import` nor blank (1-based, first 20). */
  skippedLines: number[];
  /** How many lines were skipped in all. */
  skippedCount: number;
}

/**
 * Parses `build.prop` bytes. Comments (`#`), blank lines and `import` directives are ignored;
 * `key=value` and Android's optional assignment `key?=value` (kept only when the key is not set
 * yet) are read with whitespace around key and value trimmed. A line with a bad key, a control
 * character or an over-long key/value is skipped and recorded in `skippedLines`.
 *
 * Throws `ImageError` `BUILD_PROP_INVALID` when the data is larger than `MAX_BUILD_PROP_BYTES`,
 * has more than `MAX_BUILD_PROP_LINES` lines, contains a NUL byte, or is not valid UTF-8.
 */
export function parseBuildProp(data: Buffer | string): BuildProps {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.length > MAX_BUILD_PROP_BYTES) {
    throw new ImageError(
      'BUILD_PROP_INVALID',
      `build.prop is ${bytes.length} bytes, more than the ${MAX_BUILD_PROP_BYTES} accepted`,
    );
  }
  if (bytes.includes(0)) {
    throw new ImageError('BUILD_PROP_INVALID', 'build.prop holds binary data (a NUL byte)');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImageError('BUILD_PROP_INVALID', 'build.prop is not valid UTF-8 text');
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_BUILD_PROP_LINES) {
    throw new ImageError(
      'BUILD_PROP_INVALID',
      `build.prop has ${lines.length} lines, more than the ${MAX_BUILD_PROP_LINES} accepted`,
    );
  }
  const props = new Map<string, string>();
  const skippedLines: number[] = [];
  let skippedCount = 0;
  const skip = (lineNo: number): void => {
    skippedCount++;
    if (skippedLines.length < 20) skippedLines.push(lineNo);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || /^import\s/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || CONTROL_CHARS.test(line)) {
      skip(i + 1);
      continue;
    }
    let key = line.slice(0, eq).trim();
    const optional = key.endsWith('?');
    if (optional) key = key.slice(0, -1).trim();
    const value = line.slice(eq + 1).trim();
    if (
      key.length === 0 ||
      key.length > MAX_PROP_KEY_LENGTH ||
      !KEY_PATTERN.test(key) ||
      key.startsWith('.') ||
      key.endsWith('.') ||
      key.includes('..') ||
      value.length > MAX_PROP_VALUE_LENGTH
    ) {
      skip(i + 1);
      continue;
    }
    if (optional && props.has(key)) continue;
    props.set(key, value);
  }
  return { props, skippedLines, skippedCount };
}

/** What an image's `build.prop` says about the Android it holds; null where it does not say. */
export interface AndroidBuildInfo {
  /** `ro.build.version.release` (e.g. `'11'`, `'13'`). */
  androidVersion: string | null;
  /** `ro.build.version.sdk` as a number (e.g. 30). */
  sdk: number | null;
  /** `ro.product.cpu.abi` (`x86_64`, `arm64-v8a` …), else the first of `ro.product.cpu.abilist`. */
  abi: string | null;
  /** `ro.build.fingerprint` (or the `ro.system.` / `ro.vendor.` variant). */
  fingerprint: string | null;
  /** `ro.lineage.build.version` on LineageOS-based images (e.g. `'18.1'`). */
  lineageVersion: string | null;
}

function first(props: ReadonlyMap<string, string>, keys: readonly string[]): string | null {
  for (const key of keys) {
    const value = props.get(key);
    if (value !== undefined && value !== '') return value;
  }
  return null;
}

/**
 * Reads the fields Droidway reports from a system or vendor `build.prop`. Vendor partitions name
 * their properties `ro.vendor.build.*` / `ro.product.vendor.*`; both spellings are looked at.
 */
export function androidBuildInfo(props: ReadonlyMap<string, string>): AndroidBuildInfo {
  const sdkText = first(props, [
    'ro.build.version.sdk',
    'ro.system.build.version.sdk',
    'ro.vendor.build.version.sdk',
  ]);
  const sdk = sdkText !== null && /^[0-9]{1,4}$/.test(sdkText) ? Number(sdkText) : null;
  const abiList = first(props, [
    'ro.product.cpu.abilist',
    'ro.system.product.cpu.abilist',
    'ro.vendor.product.cpu.abilist',
  ]);
  return {
    androidVersion: first(props, [
      'ro.build.version.release',
      'ro.system.build.version.release',
      'ro.vendor.build.version.release',
    ]),
    sdk,
    abi:
      first(props, ['ro.product.cpu.abi', 'ro.vendor.product.cpu.abi']) ??
      (abiList?.split(',')[0]?.trim() || null),
    fingerprint: first(props, [
      'ro.build.fingerprint',
      'ro.system.build.fingerprint',
      'ro.vendor.build.fingerprint',
    ]),
    lineageVersion: first(props, ['ro.lineage.build.version']),
  };
}

/** What a vendor partition's `build.prop` says about the device it was built for. */
export interface VendorBuildInfo {
  /** `ro.product.vendor.device` (Waydroid: `waydroid_x86_64`). */
  device: string | null;
  /** `ro.product.vendor.name`. */
  product: string | null;
  /** `ro.vendor.build.version.sdk`, or the vendor image's own `ro.build.version.sdk`. */
  sdk: number | null;
  /** `ro.vndk.version` (the VNDK the vendor was built against), e.g. `'30'`. */
  vndkVersion: string | null;
}

/** Reads the vendor fields Droidway reports from a vendor `build.prop`. */
export function vendorBuildInfo(props: ReadonlyMap<string, string>): VendorBuildInfo {
  const sdkText = first(props, ['ro.vendor.build.version.sdk', 'ro.build.version.sdk']);
  return {
    device: first(props, ['ro.product.vendor.device', 'ro.product.device']),
    product: first(props, ['ro.product.vendor.name', 'ro.product.name']),
    sdk: sdkText !== null && /^[0-9]{1,4}$/.test(sdkText) ? Number(sdkText) : null,
    vndkVersion: first(props, ['ro.vndk.version', 'ro.vendor.vndk.version']),
  };
}
