/**
 * Can this host boot Android, and with which image? `checkAndroidReadiness` answers before
 * anything is mounted, listing each missing piece with its fix — binder (which module or kernel
 * option), overlayfs, loop devices, privileges, an image (how to get one), an image the CPU can
 * run — so `session start --image` refuses cleanly instead of failing half-way.
 *
 * Binder for a container comes from binderfs, as on Waydroid with a current kernel: every new
 * mount of the `binder` filesystem is a private binder instance, and the kernel creates in it the
 * devices named by `CONFIG_ANDROID_BINDER_DEVICES` (default `binder,hwbinder,vndbinder`), so one
 * mount per container gives that container its own three devices. `mountBinderfs` does that and
 * returns the bind entries that put them at `/dev/binder`, `/dev/hwbinder`, `/dev/vndbinder` in
 * the container. A kernel built with an empty device list would need the `BINDER_CTL_ADD` ioctl
 * on `binder-control` (native code Droidway does not have yet): that case is refused, saying so.
 * Without binderfs, the host's own `/dev/binder`, `/dev/hwbinder`, `/dev/vndbinder` are shared.
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { checkBinder, checkLoopDevices, checkOverlayfs } from '../host/android-kernel.js';
import { createHostProbe, type HostProbe } from '../host/host-probe.js';
import type { DoctorCheck } from '../../shared/doctor.js';
import { ImageError } from './image-errors.js';
import {
  describeImage,
  resolveImage,
  type AndroidImage,
  type DiscoveryOptions,
} from './image-discovery.js';
import { runTool, runToolChecked } from './run-tool.js';

/** One thing missing for Android, and what to do about it. */
export interface MissingPiece {
  /** Stable id: the doctor check's (`binder`, `kernel.overlayfs`, `kernel.loop`), or `image`, `image.arch`, `privileges`. */
  id: string;
  /** What is missing, as seen. */
  what: string;
  fix: string;
}

/** How the container gets its binder devices. */
export type BinderSource =
  | { kind: 'binderfs' }
  | { kind: 'host-devices'; devices: { binder: string; hwbinder: string; vndbinder: string } };

/** The answer of `checkAndroidReadiness`. */
export interface AndroidReadiness {
  ready: boolean;
  /** Every missing piece; empty when ready. */
  missing: MissingPiece[];
  /** The image to boot, described, when one was found. */
  image: AndroidImage | null;
  /** Where binder comes from, when the host has it. */
  binder: BinderSource | null;
  /** One line: ready, or what to fix. */
  summary: string;
}

/** Options of `checkAndroidReadiness`. */
export interface ReadinessOptions {
  /** Image name or folder path (`session start --image`); default: the first image found. */
  image?: string;
  discovery?: DiscoveryOptions;
  host?: HostProbe;
}

/** How to get an image, for a refusal. */
const IMAGE_HOW_TO_GET =
  'download one with `droidway image download`, or import one with `droidway image import PATH` ' +
  "(a folder with system.img and vendor.img, or Waydroid's system and vendor zips)";

/** ABIs a host CPU runs natively (no translation layer in these images). */
function abiRunsOn(abi: string, machine: string): boolean {
  if (machine === 'x86_64') return abi === 'x86_64' || abi === 'x86';
  if (machine === 'aarch64') return abi === 'arm64-v8a' || abi === 'armeabi-v7a';
  return false;
}

function fromCheck(check: DoctorCheck): MissingPiece | null {
  return check.ok
    ? null
    : { id: check.id, what: check.seen, fix: check.fix ?? 'see droidway doctor' };
}

/**
 * Checks everything Android needs on this host without changing anything, and resolves the image
 * (see `resolveImage`). Never mounts, never rejects for a missing piece: each one is in
 * `missing`. Rejects only when the host itself cannot be probed.
 */
export async function checkAndroidReadiness(
  options: ReadinessOptions = {},
): Promise<AndroidReadiness> {
  const host = options.host ?? createHostProbe();
  const missing: MissingPiece[] = [];
  const binderCheck = await checkBinder(host);
  for (const check of [binderCheck, await checkOverlayfs(host), await checkLoopDevices(host)]) {
    const piece = fromCheck(check);
    if (piece !== null) missing.push(piece);
  }
  if (host.uid !== 0) {
    missing.push({
      id: 'privileges',
      what: `running as uid ${host.uid}`,
      fix: 'mounting images and binderfs needs root: start Android from the app (it asks through polkit) or as root',
    });
  }
  let binder: BinderSource | null = null;
  if (binderCheck.ok) {
    binder = /binderfs/.test(binderCheck.seen)
      ? { kind: 'binderfs' }
      : {
          kind: 'host-devices',
          devices: {
            binder: '/dev/binder',
            hwbinder: '/dev/hwbinder',
            vndbinder: '/dev/vndbinder',
          },
        };
  }
  let image: AndroidImage | null = null;
  try {
    image = await describeImage(await resolveImage(options.image, options.discovery));
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    missing.push({ id: 'image', what: e.message, fix: IMAGE_HOW_TO_GET });
  }
  if (image !== null) {
    if (!image.usable) {
      missing.push({
        id: 'image',
        what: `image ${image.name} cannot be mounted: ${image.problems.join('; ')}`,
        fix: 'use another image (droidway image list), or download one: droidway image download',
      });
    } else if (image.abi !== null && !abiRunsOn(image.abi, host.arch)) {
      missing.push({
        id: 'image.arch',
        what: `image ${image.name} is built for ${image.abi}; this machine is ${host.arch}`,
        fix: `use an image for ${host.arch === 'aarch64' ? 'arm64' : host.arch} (droidway image download picks this machine's)`,
      });
    }
  }
  return {
    ready: missing.length === 0,
    missing,
    image,
    binder,
    summary:
      missing.length === 0
        ? `Android can start with image ${image?.name ?? '?'}`
        : `Android cannot start: ${missing.map((m) => `${m.id} (${m.fix})`).join('; ')}`,
  };
}

/**
 * Throws `ImageError` `ANDROID_NOT_READY` listing every missing piece and its fix unless
 * `readiness.ready`; for `session start` to call before mounting anything.
 */
export function assertAndroidReady(readiness: AndroidReadiness): void {
  if (readiness.ready) return;
  throw new ImageError(
    'ANDROID_NOT_READY',
    `Android cannot start on this host:\n${readiness.missing.map((m) => `  - ${m.what}\n    fix: ${m.fix}`).join('\n')}`,
  );
}

/** The binder devices one container gets, and how to release them. */
export interface BinderInstance {
  devices: { binder: string; hwbinder: string; vndbinder: string };
  /** `lxc.mount.entry` values putting the devices at the guest's `/dev/binder` etc. */
  lxcMountEntries: string[];
  /** Unmounts the binderfs instance; idempotent, never rejects. */
  release(): Promise<void>;
}

const BINDER_NAMES = ['binder', 'hwbinder', 'vndbinder'] as const;

/** The `lxc.mount.entry` values for binder device paths on the host. */
export function binderMountEntries(devices: BinderInstance['devices']): string[] {
  return BINDER_NAMES.map((n) => `${devices[n]} dev/${n} none bind,create=file 0 0`);
}

/**
 * Gives a container its binder devices. With binderfs: mounts a new binder instance at
 * `<runtimeDir>/binderfs` and checks that the kernel created `binder`, `hwbinder` and
 * `vndbinder` in it. With host devices: uses them as they are (nothing to release). Throws
 * `ImageError` `BINDER_UNAVAILABLE` when the mount fails or the devices are not there (the
 * mount is released first). Needs root. Not exercised on the build machines (no binder there).
 */
export async function prepareBinder(
  source: BinderSource,
  runtimeDir: string,
): Promise<BinderInstance> {
  if (source.kind === 'host-devices') {
    return {
      devices: source.devices,
      lxcMountEntries: binderMountEntries(source.devices),
      release: async () => {},
    };
  }
  const dir = path.join(runtimeDir, 'binderfs');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  // stats=global is not wanted; max bounds how many devices binder-control could add.
  await runToolChecked(
    ['mount', '-t', 'binder', '-o', 'max=16', 'binder', dir],
    'mounting binderfs',
    {
      timeoutMs: 15_000,
    },
  ).catch((e: unknown) => {
    throw new ImageError('BINDER_UNAVAILABLE', (e as Error).message, { cause: e });
  });
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    const run = await runTool(['umount', dir], { timeoutMs: 15_000 }).catch(() => null);
    if (run?.exitCode !== 0)
      await runTool(['umount', '-l', dir], { timeoutMs: 15_000 }).catch(() => null);
    await rmdir(dir).catch(() => {});
  };
  const devices = {
    binder: path.join(dir, 'binder'),
    hwbinder: path.join(dir, 'hwbinder'),
    vndbinder: path.join(dir, 'vndbinder'),
  };
  const absent: string[] = [];
  for (const n of BINDER_NAMES) {
    if (!(await stat(devices[n]).catch(() => null))?.isCharacterDevice()) absent.push(n);
  }
  if (absent.length > 0) {
    await release();
    throw new ImageError(
      'BINDER_UNAVAILABLE',
      `binderfs mounted without ${absent.join(', ')}: this kernel creates no default binder devices ` +
        '(CONFIG_ANDROID_BINDER_DEVICES is empty). Adding them needs the BINDER_CTL_ADD ioctl, which ' +
        'Droidway does not do yet; use a kernel with CONFIG_ANDROID_BINDER_DEVICES="binder,hwbinder,vndbinder" ' +
        'or load binder_linux with devices="binder,hwbinder,vndbinder"',
    );
  }
  return { devices, lxcMountEntries: binderMountEntries(devices), release };
}
