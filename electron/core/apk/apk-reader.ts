/**
 * ApkReader: the facts Droidway shows before installing an APK, read from the untrusted file
 * through the checked zip layer (`zip-reader.ts`) and the checked binary XML decoder
 * (`axml.ts`), with the label and icon resolved through `resources.arsc` (`resources.ts`,
 * `apk-icons.ts`), and the v1/v2/v3 signatures detected, with v2/v3 verified
 * (`signatures.ts`). Only the entries it needs are read: the manifest, the resources table,
 * the icon files and v1 signature files.
 */
import { decodeAxml, type AxmlLimits } from './axml.js';
import { readManifest, type ManifestInfo } from './manifest.js';
import { ResourceTable, type LazyTable } from './resources.js';
import type { ByteSource } from './axml.js';
import { readSync } from 'node:fs';
import { ApkError } from './apk-errors.js';
import {
  pickIcon,
  resolveIcons,
  type ApkIcon,
  type ApkIconInfo,
  type ApkIconSource,
} from './apk-icons.js';
import { readSignatures, type ApkSignatures } from './signatures.js';
import { verifyV1 } from './v1-signature.js';
import { openApkZip, type ApkZip, type ZipEntryInfo, type ZipLimits } from './zip-reader.js';

export type { ApkIcon, ApkIconInfo, ApkIconSource };

/** Largest `AndroidManifest.xml` accepted (real ones are well under 1 MiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/**
 * Largest deflated `resources.arsc` read into memory (the reader's process has a 64 MiB budget,
 * most of it Node's own). A larger one does not refuse the APK; its label and icon stay
 * unresolved. Stored tables (Android requires them stored from targetSdk 30) above
 * `LAZY_ARSC_BYTES` are read on demand instead, whatever their size.
 */
export const MAX_ARSC_BYTES = 8 * 1024 * 1024;
const LAZY_ARSC_BYTES = 2 * 1024 * 1024;
const ARSC_PAGE = 4096;
const ARSC_CACHED_PAGES = 64;
/**
 * Most bytes of a table read on demand that one APK's parse and lookups may read (past it, the
 * label or icon being resolved is left out with a warning: the APK is still read).
 */
const MAX_ARSC_READ_BYTES = 64 * 1024 * 1024;
/** Largest v1 signature file (`META-INF/*.SF`, one digest line pair per entry) accepted. */
const MAX_SF_BYTES = 64 * 1024 * 1024;

/** What `readApkInfo` returns. */
export interface ApkInfo extends Omit<ManifestInfo, 'icon'> {
  /** The manifest's `android:icon` (a literal path or a resource id), if any. */
  iconResource?: ManifestInfo['icon'];
  /** ABIs with native code (`lib/<abi>/…`), sorted. */
  nativeAbis: string[];
  /** Number of zip entries. */
  entryCount: number;
  /** Application label by locale ('' = default), resolved; empty when there is none. */
  labels: Record<string, string>;
  /** Zip path of the chosen launcher icon (`icon.path`), if any. */
  iconPath?: string;
  /** The launcher icon as PNG at the requested size (default: the largest), or null. */
  icon: ApkIcon | null;
  /** Every density of the icon, ascending (for a composed adaptive icon: the composed ones). */
  icons: ApkIconInfo[];
  signatures: ApkSignatures;
  /** Problems that did not stop the read (a broken icon file …), for a person. */
  warnings: string[];
}

/** Options of `readApkInfo`. */
export interface ApkReadOptions {
  zip?: Partial<ZipLimits>;
  axml?: Partial<AxmlLimits>;
  /** Icon width wanted in pixels: the smallest at least this wide, else the largest. */
  iconSize?: number;
}

const ABI_DIR = /^lib\/([A-Za-z0-9_-]{1,32})\/[^/]+$/;

/**
 * Reads an APK's manifest facts, native ABIs, label, icon and signatures. The file descriptor
 * is released on success and on failure.
 * @param file path of the APK (opened with `openApkFile`: no symlinks, regular files only)
 * @throws ApkError with the code of the first problem (file type, zip structure, manifest,
 *   resources table, a v2/v3 signature that fails or content that does not match it, caps)
 */
export async function readApkInfo(file: string, options: ApkReadOptions = {}): Promise<ApkInfo> {
  const zip = await openApkZip(file, options.zip);
  try {
    const manifest = readManifest(
      decodeAxml(
        await zip.readEntry('AndroidManifest.xml', { maxBytes: MAX_MANIFEST_BYTES }),
        options.axml,
      ),
    );
    const abis = new Set<string>();
    for (const name of zip.entries.keys()) {
      const m = ABI_DIR.exec(name);
      if (m !== null) abis.add(m[1]!);
    }
    const { icon: iconResource, ...facts } = manifest;
    const info: ApkInfo = {
      ...facts,
      ...(iconResource === undefined ? {} : { iconResource }),
      nativeAbis: [...abis].sort(),
      entryCount: zip.entries.size,
      labels: {},
      icon: null,
      icons: [],
      signatures: await readSignatures(zip.fd, zip.entries.keys(), zip.geometry),
      warnings: [],
    };
    await checkNotStripped(zip, info.signatures);
    const sig = info.signatures;
    if (sig.schemes.v1 && !sig.schemes.v2 && !sig.schemes.v3) {
      // Android 11+ (and apksigner) refuse an APK that targets SDK 30 or later with only a v1
      // signature: PackageManager requires v2 or newer for it.
      if (manifest.targetSdkVersion >= 30)
        throw new ApkError(
          'APK_SIGNATURE_INVALID',
          `NOT verified: target SDK version ${manifest.targetSdkVersion} requires a minimum of signature scheme v2; the APK is not signed with this or a later signature scheme (Android 11 and later refuse it)`,
        );
      sig.signerCertSha256 = (await verifyV1(zip)).signerCertSha256;
      sig.v1Verified = true;
    }
    // What a launcher shows: the launcher activity's (or alias's) own label and icon, else the
    // application's.
    const labelRef = manifest.launcherActivity?.label ?? manifest.label;
    const iconRef = launcherIcon(manifest);
    if (labelRef?.kind === 'string') info.labels[''] = labelRef.value;
    const needsTable = labelRef?.kind === 'reference' || iconRef?.kind === 'reference';
    const table = needsTable ? await readTable(zip, info.warnings) : undefined;
    if (table !== undefined && labelRef?.kind === 'reference')
      try {
        for (const [locale, text] of table.strings(labelRef.id)) info.labels[locale] = text;
      } catch (e) {
        if (!(e instanceof ArscBudgetError)) throw e;
        info.warnings.push(`label not resolved: ${e.message}`);
      }
    const { variants, warnings } = await iconsWithin(zip, table, iconRef);
    info.warnings.push(...warnings);
    info.icons = variants.map(({ density, path, width, height }) => ({
      density,
      path,
      width,
      height,
    }));
    const icon = pickIcon(variants, options.iconSize);
    if (icon !== undefined) {
      info.icon = icon;
      info.iconPath = icon.path;
    }
    return info;
  } finally {
    await zip.close();
  }
}

/**
 * Every density of an APK's launcher icon with its PNG bytes, ascending by density (for
 * installing icons into a hicolor theme). Same checks and errors as `readApkInfo`, without
 * signature verification.
 */
export async function readApkIcons(
  file: string,
  options: ApkReadOptions = {},
): Promise<{ icons: ApkIcon[]; warnings: string[] }> {
  const zip = await openApkZip(file, options.zip);
  try {
    const manifest = readManifest(
      decodeAxml(
        await zip.readEntry('AndroidManifest.xml', { maxBytes: MAX_MANIFEST_BYTES }),
        options.axml,
      ),
    );
    const iconRef = launcherIcon(manifest);
    const warnings: string[] = [];
    const table = iconRef?.kind === 'reference' ? await readTable(zip, warnings) : undefined;
    const found = await iconsWithin(zip, table, iconRef);
    return { icons: found.variants, warnings: [...warnings, ...found.warnings] };
  } finally {
    await zip.close();
  }
}

/**
 * The bytes of one entry of an APK, after the whole zip structure is checked.
 * @param maxBytes most inflated bytes accepted (default 32 MiB)
 * @throws ApkError `APK_MISSING_ENTRY`, `APK_TOO_LARGE`, or any zip-level refusal
 */
export async function readApkEntry(
  file: string,
  entry: string,
  options: { maxBytes?: number; zip?: Partial<ZipLimits> } = {},
): Promise<Buffer> {
  const zip = await openApkZip(file, options.zip);
  try {
    return await zip.readEntry(entry, { maxBytes: options.maxBytes ?? 32 * 1024 * 1024 });
  } finally {
    await zip.close();
  }
}

function launcherIcon(manifest: ManifestInfo): ManifestInfo['icon'] {
  return manifest.launcherActivity?.icon ?? manifest.icon;
}

/**
 * The resources table. A small or deflated one is read whole (CRC-checked); a large stored one
 * (framework-res.apk's is 31 MB) is read from the file on demand through a small page cache
 * (`pagedEntry`), not CRC-checked as a whole (a signed APK's digest covers it). A
 * deflated table past `MAX_ARSC_BYTES` is not read: the APK still is, without resolved label
 * and icon, and a warning says so.
 */
async function readTable(zip: ApkZip, warnings: string[]): Promise<ResourceTable | undefined> {
  const entry = zip.entries.get('resources.arsc');
  if (entry === undefined) return undefined;
  if (entry.method === 0 && entry.uncompressedSize > LAZY_ARSC_BYTES)
    return ResourceTable.parse(pagedEntry(zip, entry));

  if (entry.uncompressedSize > MAX_ARSC_BYTES) {
    warnings.push(
      `resources.arsc is ${entry.uncompressedSize} bytes deflated, more than the ${MAX_ARSC_BYTES} the reader holds in memory: label and icon not resolved`,
    );
    return undefined;
  }
  return ResourceTable.parse(await zip.readEntry('resources.arsc', { maxBytes: MAX_ARSC_BYTES }));
}

/** A lookup in a table read on demand read more of it than its budget. */
class ArscBudgetError extends ApkError {}

/** `resolveIcons`, with a table read on demand that runs out of budget as a warning. */
async function iconsWithin(
  zip: ApkZip,
  table: ResourceTable | undefined,
  ref: ManifestInfo['icon'],
): Promise<Awaited<ReturnType<typeof resolveIcons>>> {
  try {
    return await resolveIcons(zip, table, ref);
  } catch (e) {
    if (!(e instanceof ArscBudgetError)) throw e;
    return { variants: [], warnings: [`icon not resolved: ${e.message}`] };
  }
}

/**
 * A stored entry read from the file as it is looked up: 4 KiB pages in a small cache (the
 * oldest page is dropped first), so memory stays at the cache's size whatever the table's.
 * Every page read counts against `MAX_ARSC_READ_BYTES`.
 */
function pagedEntry(zip: ApkZip, entry: ZipEntryInfo): LazyTable {
  const size = entry.uncompressedSize;
  const pages = new Map<number, Buffer>();
  let read = 0;
  const load = (from: number, length: number, into?: Buffer): Buffer => {
    read += length;
    if (read > MAX_ARSC_READ_BYTES)
      throw new ArscBudgetError(
        'APK_ARSC_INVALID',
        `resources.arsc: resolving it reads more than ${MAX_ARSC_READ_BYTES} bytes of the table`,
      );
    const n = Math.max(0, Math.min(length, size - from));
    const out = into ?? Buffer.alloc(n);
    if (readSync(zip.fd, out, 0, n, entry.dataOffset + from) !== n)
      throw new ApkError('APK_ZIP_INVALID', 'resources.arsc: file ends early');
    return out.subarray(0, n);
  };
  const page = (index: number): Buffer => {
    let p = pages.get(index);
    if (p === undefined) {
      // The oldest page's memory is reused: lookups leave no garbage behind them.
      let spare: Buffer | undefined;
      if (pages.size >= ARSC_CACHED_PAGES) {
        const oldest = pages.keys().next().value!;
        spare = pages.get(oldest);
        pages.delete(oldest);
      }
      const buffer = spare?.buffer.byteLength === ARSC_PAGE ? Buffer.from(spare.buffer) : undefined;
      p = load(index * ARSC_PAGE, ARSC_PAGE, buffer ?? Buffer.alloc(ARSC_PAGE));
      pages.set(index, p);
    }
    return p;
  };
  const u8 = (at: number): number => {
    if (at < 0 || at >= size) throw new RangeError(`offset ${at} is outside resources.arsc`);
    return page(Math.floor(at / ARSC_PAGE))[at % ARSC_PAGE]!;
  };
  const bytes = (at: number, n: number): Buffer => {
    const first = Math.floor(at / ARSC_PAGE);
    if (first === Math.floor((at + n - 1) / ARSC_PAGE) && at >= 0 && at + n <= size)
      return page(first).subarray(at % ARSC_PAGE, (at % ARSC_PAGE) + n);
    return load(at, n);
  };
  const source: ByteSource = {
    length: size,
    u8,
    u16: (at) => bytes(at, 2).readUInt16LE(0),
    u32: (at) => bytes(at, 4).readUInt32LE(0),
    text: (encoding, from, to) => bytes(from, to - from).toString(encoding),
  };
  return { source, peek: (at, n) => load(at, n) };
}

/**
 * A v1 signature file that says the APK was also signed with v2/v3 (`X-Android-APK-Signed`)
 * while that block is missing means the newer signature was stripped to downgrade
 * verification; Android refuses such an APK, and so do we.
 */
async function checkNotStripped(zip: ApkZip, sig: ApkSignatures): Promise<void> {
  if (!sig.schemes.v1 || (sig.schemes.v2 && sig.schemes.v3)) return;
  for (const name of zip.entries.keys()) {
    if (!/^META-INF\/[^/]+\.SF$/.test(name)) continue;
    const text = (await zip.readEntry(name, { maxBytes: MAX_SF_BYTES })).toString('latin1');
    const main = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
    const claim = /^X-Android-APK-Signed:\s*(.*)$/im.exec(main)?.[1] ?? '';
    const ids = claim.split(',').map((v) => v.trim());
    for (const [id, present] of [
      ['2', sig.schemes.v2],
      ['3', sig.schemes.v3],
    ] as const)
      if (ids.includes(id) && !present)
        throw new ApkError(
          'APK_SIGNATURE_INVALID',
          `signature: ${name} says the APK has a v${id} signature, but it was stripped`,
        );
  }
}
