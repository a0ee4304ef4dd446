/**
 * `droidway apk info FILE [--json] [--icon-size N] [--icon-out FILE.png]`: what an APK is
 * (identity, versions, SDKs, labels, launcher, permissions, native code, features, split,
 * signatures, icon), read in the sandboxed reader worker. A refused APK exits 1 with the
 * reader's reason (and its code in `--json`).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ApkError } from '../../core/apk/apk-errors.js';
import type { ApkInfo } from '../../core/apk/apk-reader.js';
import { readApkInfoInWorker, type WorkerReadOptions } from '../../core/apk/apk-worker-client.js';
import { refuse } from '../cli-errors.js';
import { CliExit, EXIT_NEGATIVE, outputOf } from '../cli-io.js';

/** What the command calls; tests pass a fake. */
export interface ApkCommandDeps {
  readInfo: (file: string, options: WorkerReadOptions) => Promise<ApkInfo>;
}

/** The info as JSON-safe data: the icon without its bytes (their size instead). */
export function apkInfoJson(info: ApkInfo): Record<string, unknown> {
  const { icon, ...rest } = info;
  return {
    ...rest,
    icon:
      icon === null
        ? null
        : {
            density: icon.density,
            path: icon.path,
            width: icon.width,
            height: icon.height,
            source: icon.source,
            pngBytes: icon.png.length,
          },
  };
}

function list(items: readonly string[], none: string): string {
  return items.length === 0 ? none : items.join(', ');
}

/**
 * The signature facts as rows: who signed (the current signer: the one Android holds the app
 * to), with which schemes that verified, the rotation lineage, and other signers by SDK range.
 */
function signatureRows(s: ApkInfo['signatures']): Array<[string, string]> {
  const verified = [
    s.v1Verified === true ? 'v1' : undefined,
    s.v2Verified === true ? 'v2' : undefined,
    s.v3Verified === true ? 'v3' : undefined,
    s.v31Verified === true ? 'v3.1' : undefined,
  ].filter((v): v is string => v !== undefined);
  const current = s.signerCertSha256;
  if (current.length === 0)
    return [['signed by', s.schemes.v1 ? '(v1 signature present, not verified)' : '(unsigned)']];
  const rows: Array<[string, string]> = current.map((cert, i) => [
    i === 0 ? 'signed by' : '',
    `${cert} (${verified.join(', ')} verified)`,
  ]);
  // v1 is present but not checked when v2/v3 are: Android itself then ignores it.
  if (s.schemes.v1 && s.v1Verified !== true)
    rows.push(['', 'v1 signature present (not checked: Android uses v2/v3)']);
  if (s.lineage.length > 1) rows.push(['rotated from', s.lineage.slice(0, -1).join(' → ')]);
  if (s.signers.length > 1)
    for (const signer of s.signers)
      rows.push([
        'signer',
        `${signer.certSha256} for SDK ${signer.minSdk}–${signer.maxSdk === 0x7fffffff ? 'any' : signer.maxSdk}`,
      ]);
  return rows;
}

/**
 * Orders locale tags (`de-DE`, `fr`, `zh-TW`: ASCII letters, digits and hyphens) alphabetically,
 * case aside, as `localeCompare` does for them, without the ICU collator it builds on first use
 * (about 6 ms of a command that takes about 130).
 */
function compareTags(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The info as text a person reads. */
export function formatApkInfo(info: ApkInfo): string {
  const rows: Array<[string, string]> = [];
  const version = `versionCode ${info.versionCode}${info.versionName === undefined ? '' : `, versionName ${info.versionName}`}`;
  const { '': label, ...localized } = info.labels;
  rows.push(['label', label ?? '(none)']);
  const locales = Object.entries(localized).sort(([a], [b]) => compareTags(a, b));
  if (locales.length > 0) rows.push(['', locales.map(([l, t]) => `${l}: ${t}`).join(', ')]);
  rows.push(['SDK', `min ${info.minSdkVersion}, target ${info.targetSdkVersion}`]);
  if (info.splitName !== undefined) rows.push(['split', info.splitName]);
  const l = info.launcherActivity;
  rows.push([
    'launcher',
    l === undefined
      ? '(none: no MAIN/LAUNCHER activity)'
      : `${l.name}${l.targetActivity === undefined ? '' : ` (alias of ${l.targetActivity})`}`,
  ]);
  rows.push(['permissions', list(info.permissions, '(none)')]);
  rows.push(['native code', list(info.nativeAbis, '(none: runs on any ABI)')]);
  rows.push([
    'features',
    list(
      info.features.map((f) => (f.required ? f.name : `${f.name} (optional)`)),
      '(none)',
    ),
  ]);
  if (info.impliedFeatures.length > 0)
    rows.push([
      'implied',
      info.impliedFeatures.map((f) => `${f.name}${f.sdk23 ? ' (sdk 23+)' : ''}`).join(', '),
    ]);
  const icon = info.icon;
  rows.push([
    'icon',
    icon === null
      ? '(none)'
      : `${icon.path}, ${icon.width}×${icon.height}, ${icon.density} dpi (${icon.source})`,
  ]);
  if (info.icons.length > 1)
    rows.push([
      '',
      `densities: ${info.icons.map((i) => `${i.density} (${i.width}px)`).join(', ')}`,
    ]);
  rows.push(...signatureRows(info.signatures));
  rows.push(['entries', String(info.entryCount)]);
  for (const w of info.warnings) rows.push(['warning', w]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `${info.packageName}  (${version})`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
    '',
  ].join('\n');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 4096)
    throw new Error(`--icon-size must be a whole number of pixels from 1 to 4096, not ${value}`);
  return n;
}

/** Adds the `apk` command group to `program`. `deps` defaults to the real reader. */
export function register(
  program: Command,
  deps: ApkCommandDeps = { readInfo: readApkInfoInWorker },
): void {
  const apk = program.command('apk').description('inspect APK files');
  apk
    .command('info')
    .description('show what an APK is: package, versions, label, launcher, permissions, signer …')
    .argument('<file>', 'the APK')
    .option('--json', 'print the facts as JSON')
    .option('--icon-size <px>', 'pick the icon closest above this width', positiveInt)
    .option('--icon-out <file.png>', 'write the launcher icon PNG to this file')
    .action(
      async (
        file: string,
        options: { json?: boolean; iconSize?: number; iconOut?: string },
        command: Command,
      ) => {
        const { out, err } = outputOf(command);
        let info: ApkInfo;
        try {
          info = await deps.readInfo(
            file,
            options.iconSize === undefined ? {} : { iconSize: options.iconSize },
          );
        } catch (e) {
          if (!(e instanceof ApkError)) throw e;
          refuse(command, e, { json: options.json === true, prefix: `refused ${file}: ` });
        }
        if (options.iconOut !== undefined) {
          if (info.icon === null) {
            err(`droidway: ${file} has no PNG launcher icon to write\n`);
            throw new CliExit(EXIT_NEGATIVE);
          }
          await writeFile(options.iconOut, info.icon.png);
          // On stderr, so that stdout stays the facts (and valid JSON with --json).
          err(
            `droidway: wrote the ${info.icon.width}×${info.icon.height} launcher icon to ${resolve(options.iconOut)}\n`,
          );
        }
        out(
          options.json === true
            ? `${JSON.stringify(apkInfoJson(info), null, 2)}\n`
            : formatApkInfo(info),
        );
      },
    );
}
