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
import { ResourceTable } from './resources.js';
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
import { openApkZip, type ApkZip, type ZipLimits } from './zip-reader.js';

export type { ApkIcon, ApkIconInfo, ApkIconSource };

/** Largest `AndroidManifest.xml` accepted (real ones are well under 1 MiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/**
 * Largest `resources.arsc` read (into memory: the reader's process has a 64 MiB budget, most of
 * it Node's own). A larger table does not refuse the APK; its label and icon stay unresolved.
 */
export const MAX_ARSC_BYTES = 16 * 1024 * 1024;
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
      for (const [locale, text] of table.strings(labelRef.id)) info.labels[locale] = text;
    const { variants, warnings } = await resolveIcons(zip, table, iconRef);
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
    const table = iconRef?.kind === 'reference' ? await readTable(zip, []) : undefined;
    const { variants, warnings } = await resolveIcons(zip, table, iconRef);
    return { icons: variants, warnings };
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
 * The resources table, or undefined (with a warning) when it is larger than the reader holds
 * in memory: the APK is still read, without resolved label and icon.
 */
async function readTable(zip: ApkZip, warnings: string[]): Promise<ResourceTable | undefined> {
  const entry = zip.entries.get('resources.arsc');
  if (entry === undefined) return undefined;
  if (entry.uncompressedSize > MAX_ARSC_BYTES) {
    warnings.push(
      `resources.arsc is ${entry.uncompressedSize} bytes, more than the ${MAX_ARSC_BYTES} the reader holds in memory: label and icon not resolved`,
    );
    return undefined;
  }
  return ResourceTable.parse(await zip.readEntry('resources.arsc', { maxBytes: MAX_ARSC_BYTES }));
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
