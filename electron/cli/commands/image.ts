/**
 * `droidway image …`: Android images from the command line.
 * - `image list [--json] [--dir DIR]… [--store DIR]`: every image found (Droidway's store,
 *   Waydroid's folders, the given folders) with its Android version, SDK, ABI, filesystems, size.
 * - `image import PATH [VENDOR_ZIP] [--name NAME]`: a folder with `system.img` + `vendor.img`,
 *   a folder with Waydroid's system and vendor zips, or a system zip and its vendor zip.
 * - `image download [--channel URL] [--vendor-channel URL] [--name NAME]`: the newest image of
 *   the OTA channels (Waydroid's by default), with a progress line; resumes when run again.
 * - `image remove NAME [--store DIR]`: deletes an image from Droidway's store; refuses (exit 1)
 *   Waydroid's images, names the store does not hold, and an image a running session mounted.
 */
import type { Command } from 'commander';
import {
  defaultImageStoreRoot,
  discoverImages,
  downloadImage,
  importImage,
  removeStoredImage,
  type AndroidImage,
  type ChannelSettings,
  type DiscoveryOptions,
  type DownloadImageOptions,
  type ImportResult,
} from '../../core/images/index.js';
import { channelsFromSetting } from '../../core/images/ota-channel.js';
import { readSettingsFile } from '../../core/settings/settings-store.js';
import { ImageError } from '../../core/images/image-errors.js';
import { refuse } from '../cli-errors.js';
import { outputOf } from '../cli-io.js';

/** What the commands call; tests pass fakes or point them at temporary folders. */
export interface ImageCommandDeps {
  discover: (options: DiscoveryOptions) => Promise<AndroidImage[]>;
  importImage: typeof importImage;
  downloadImage: (options: DownloadImageOptions) => Promise<ImportResult>;
  removeImage: (storeRoot: string, name: string) => Promise<string>;
  /** The channel settings: from Settings' "Image channel URL", else Waydroid's. */
  channels: () => ChannelSettings;
  /** Whether stderr is a terminal (progress redraws one line) or not (a line per 10 %). */
  interactive: () => boolean;
}

const realDeps: ImageCommandDeps = {
  discover: (options) => discoverImages(options),
  importImage,
  downloadImage: (options) => downloadImage(options),
  removeImage: (storeRoot, name) => removeStoredImage(storeRoot, name),
  channels: () => channelsFromSetting(readSettingsFile().channelUrl),
  interactive: () => process.stderr.isTTY === true,
};

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** The images as a table a person reads: one block per image, problems indented under it. */
export function formatImageList(images: readonly AndroidImage[]): string {
  if (images.length === 0) {
    return (
      'No Android images found.\n' +
      'Get one with `droidway image download`, or `droidway image import PATH`.\n'
    );
  }
  const lines: string[] = [];
  for (const image of images) {
    const version =
      image.androidVersion !== null
        ? `Android ${image.androidVersion}${image.sdk !== null ? ` (SDK ${image.sdk})` : ''}`
        : 'Android version unknown';
    lines.push(
      `${image.usable ? '✔' : '✘'} ${image.name}  [${image.source}]`,
      `    ${version}, ${image.abi ?? 'ABI unknown'}, system ${image.filesystems.system ?? '-'}, vendor ${image.filesystems.vendor ?? '-'}, ${formatBytes(image.size)}${image.vendorType !== null ? `, vendor type ${image.vendorType}` : ''}`,
      `    ${image.dir}`,
    );
    for (const problem of image.problems) lines.push(`    ! ${problem}`);
  }
  return `${lines.join('\n')}\n`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the `image` command group to `program`. `deps` defaults to the real implementation. */
export function register(program: Command, deps: ImageCommandDeps = realDeps): void {
  const image = program
    .command('image')
    .description('find, import and download Android images (Waydroid format)');

  image
    .command('list')
    .description("list Android images: Droidway's store, Waydroid's folders and the given folders")
    .option('--json', 'print the images as JSON')
    .option('--dir <dir>', 'also look in this folder (repeatable)', collect, [])
    .option('--store <dir>', "Droidway's image store", defaultImageStoreRoot())
    .action(async (options: { json?: boolean; dir: string[]; store: string }, command: Command) => {
      const images = await deps.discover({ storeRoot: options.store, userDirs: options.dir });
      const { out } = outputOf(command);
      out(options.json === true ? `${JSON.stringify(images, null, 2)}\n` : formatImageList(images));
    });

  image
    .command('import')
    .description(
      'copy an image into the store: a folder with system.img and vendor.img, or the system and vendor zips',
    )
    .argument('<path>', 'image folder, folder with the two zips, or the system zip')
    .argument('[vendor-zip]', 'the vendor zip, when <path> is the system zip')
    .option('--name <name>', 'name in the store (default: from the folder or zip name)')
    .option('--store <dir>', "Droidway's image store", defaultImageStoreRoot())
    .option('--json', 'print the result as JSON')
    .action(
      async (
        source: string,
        vendorZip: string | undefined,
        options: { name?: string; store: string; json?: boolean },
        command: Command,
      ) => {
        const result = await deps.importImage(source, {
          storeRoot: options.store,
          name: options.name,
          vendorZip,
        });
        const { out } = outputOf(command);
        out(
          options.json === true
            ? `${JSON.stringify({ ok: true, ...result }, null, 2)}\n`
            : `imported ${result.name} into ${result.dir}\n`,
        );
      },
    );

  image
    .command('download')
    .description("download the newest image from the OTA channels (Waydroid's by default)")
    .option('--channel <url>', 'system channel: a base URL or a channel .json URL')
    .option('--vendor-channel <url>', 'vendor channel: a base URL or a channel .json URL')
    .option('--system-type <type>', 'VANILLA or GAPPS')
    .option('--vendor-type <type>', 'MAINLINE, or HALIUM_<n> on Halium phones')
    .option('--name <name>', 'name in the store (default: from the system zip name)')
    .option('--store <dir>', "Droidway's image store", defaultImageStoreRoot())
    .option('--json', 'print the result as JSON')
    .action(
      async (
        options: {
          channel?: string;
          vendorChannel?: string;
          systemType?: string;
          vendorType?: string;
          name?: string;
          store: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const { out, err } = outputOf(command);
        const base = deps.channels();
        const channels: ChannelSettings = {
          ...base,
          system: options.channel ?? base.system,
          vendor: options.vendorChannel ?? base.vendor,
          systemType: options.systemType ?? base.systemType,
          vendorType: options.vendorType ?? base.vendorType,
        };
        const interactive = deps.interactive();
        let lastShown = '';
        const result = await deps.downloadImage({
          channels,
          storeRoot: options.store,
          name: options.name,
          onChannels: ({ system, vendor }) =>
            err(
              `system: ${system.filename} (${formatBytes(system.size)})\nvendor: ${vendor.filename} (${formatBytes(vendor.size)})\n`,
            ),
          onProgress: (part, bytes, total) => {
            const percent = total > 0 ? Math.floor((bytes * 100) / total) : 100;
            const line = `${part}: ${percent}% (${formatBytes(bytes)} of ${formatBytes(total)})`;
            if (interactive) {
              err(`\r${line.padEnd(60)}${bytes === total ? '\n' : ''}`);
            } else {
              const step = `${part}:${Math.floor(percent / 10)}`;
              if (step !== lastShown) {
                lastShown = step;
                err(`${line}\n`);
              }
            }
          },
        });
        out(
          options.json === true
            ? `${JSON.stringify({ ok: true, ...result }, null, 2)}\n`
            : `downloaded ${result.name} into ${result.dir}\n`,
        );
      },
    );

  image
    .command('remove')
    .description("delete an image from Droidway's store (never Waydroid's)")
    .argument('<name>', 'the image name droidway image list shows')
    .option('--store <dir>', "Droidway's image store", defaultImageStoreRoot())
    .option('--json', 'print the result as JSON')
    .action(async (name: string, options: { store: string; json?: boolean }, command: Command) => {
      const json = options.json === true;
      let dir: string;
      try {
        dir = await deps.removeImage(options.store, name);
      } catch (e) {
        // Name the other place an image of that name lives, so "not found" is not a mystery.
        const elsewhere =
          e instanceof ImageError && e.code === 'IMAGE_NOT_FOUND'
            ? (await deps.discover({ storeRoot: options.store }).catch(() => [])).find(
                (i) => i.name === name && i.source !== 'store',
              )
            : undefined;
        refuse(
          command,
          elsewhere === undefined
            ? e
            : new ImageError(
                'IMAGE_NOT_FOUND',
                `${name} is ${elsewhere.source === 'waydroid' ? "Waydroid's image" : 'an image'} in ${elsewhere.dir}; Droidway removes only images in its own store (${options.store})`,
              ),
          { json },
        );
      }
      outputOf(command).out(
        json
          ? `${JSON.stringify({ ok: true, name, dir }, null, 2)}\n`
          : `removed ${name} from ${dir}\n`,
      );
    });
}
