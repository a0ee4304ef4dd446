/**
 * ApkReader: the facts Droidway shows before installing an APK, read from the untrusted file
 * through the checked zip layer (`zip-reader.ts`) and the checked binary XML decoder
 * (`axml.ts`), with the label and icon resolved through `resources.arsc` (`resources.ts`).
 * and the v1/v2/v3 signatures detected, with v2/v3 verified (`signatures.ts`).
 */
import { decodeAxml, type AxmlLimits } from './axml.js';
import { readManifest, type ManifestInfo } from './manifest.js';
import { ResourceTable } from './resources.js';
import { ApkError } from './apk-errors.js';
import { readSignatures, type ApkSignatures } from './signatures.js';
import { openApkZip, type ApkZip, type ZipLimits } from './zip-reader.js';

/** Largest `AndroidManifest.xml` accepted (real ones are well under 1 MiB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
/** Largest `resources.arsc` accepted (large games ship 20–40 MiB tables). */
export const MAX_ARSC_BYTES = 128 * 1024 * 1024;
/** Largest v1 signature file (`META-INF/*.SF`, one digest line pair per entry) accepted. */
const MAX_SF_BYTES = 64 * 1024 * 1024;

/** What `readApkInfo` returns. */
export interface ApkInfo extends ManifestInfo {
  /** ABIs with native code (`lib/<abi>/…`), sorted. */
  nativeAbis: string[];
  /** Number of zip entries. */
  entryCount: number;
  /** Application label by locale ('' = default), resolved; empty when there is none. */
  labels: Record<string, string>;
  /** Zip path of the best launcher icon PNG (highest density), if any. */
  iconPath?: string;
  signatures: ApkSignatures;
}

/** Options of `readApkInfo`. */
export interface ApkReadOptions {
  zip?: Partial<ZipLimits>;
  axml?: Partial<AxmlLimits>;
}

const ABI_DIR = /^lib\/([A-Za-z0-9_-]{1,32})\/[^/]+$/;

/**
 * Reads an APK's manifest facts and native ABIs. The file descriptor is released on success
 * and on failure.
 * @param file path of the APK
 * @throws ApkError with the code of the first problem (zip structure, manifest, resources
 *   table, a v2/v3 signature that fails or content that does not match it, caps)
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
    const info: ApkInfo = {
      ...manifest,
      nativeAbis: [...abis].sort(),
      entryCount: zip.entries.size,
      labels: {},
      signatures: await readSignatures(file, zip.entries.keys()),
    };
    await checkNotStripped(zip, info.signatures);
    if (manifest.label?.kind === 'string') info.labels[''] = manifest.label.value;
    const needsTable = manifest.label?.kind === 'reference' || manifest.icon?.kind === 'reference';
    const table = needsTable ? await readTable(zip) : undefined;
    if (table !== undefined && manifest.label?.kind === 'reference')
      for (const [locale, text] of table.strings(manifest.label.id)) info.labels[locale] = text;
    const icon = manifest.icon;
    if (icon?.kind === 'string') {
      if (icon.value.endsWith('.png')) info.iconPath = icon.value;
    } else if (table !== undefined && icon !== undefined) {
      const best = bestPng(table.files(icon.id));
      if (best !== undefined) info.iconPath = best;
    }
    return info;
  } finally {
    await zip.close();
  }
}

async function readTable(zip: ApkZip): Promise<ResourceTable | undefined> {
  if (!zip.entries.has('resources.arsc')) return undefined;
  return ResourceTable.parse(await zip.readEntry('resources.arsc', { maxBytes: MAX_ARSC_BYTES }));
}

/**
 * The PNG of highest density among an icon's files. Adaptive icons (`anydpi-v26` XML) are
 * skipped for their PNG fallbacks; no density (0) counts as mdpi, as Android treats it.
 */
function bestPng(files: Array<{ path: string; density: number }>): string | undefined {
  let best: { path: string; rank: number } | undefined;
  for (const f of files) {
    if (!f.path.endsWith('.png')) continue;
    const rank = f.density === 0 ? 160 : f.density >= 0xfffe ? 1 : f.density;
    if (best === undefined || rank > best.rank) best = { path: f.path, rank };
  }
  return best?.path;
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
