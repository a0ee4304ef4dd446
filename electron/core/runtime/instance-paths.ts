/**
 * Where an instance lives on disk. Each instance has a name, a persistent data folder (its
 * config, logs and guest data) and a runtime folder (LXC's `-P` path, the control socket, the
 * guest's run dir), so several instances can exist side by side and nothing touches
 * `/var/lib/lxc`:
 *
 * - data: `/var/lib/droidway/instances/NAME` for root's instances, `/var/lib/droidway/users/UID/NAME`
 *   for an instance a desktop user created through the privileged helper;
 * - runtime: `/run/droidway/instances/NAME`, or `/run/droidway/users/UID/NAME` (tmpfs: a reboot
 *   clears it, a crashed host leaves it for the next start to clean).
 *
 * An instance belongs to the uid that created it (its owner): the owner's uid is part of its
 * folders and of its container name (`droidway-NAME` for root, `droidway-uUID_NAME` otherwise —
 * `_` cannot appear in an instance name, so no name of one owner collides with another's), and
 * the privileged side keeps those folders root-owned and reachable by the owner only. Every
 * caller computes the same paths for its own uid, so another user can neither find nor reach it.
 */
import os from 'node:os';
import path from 'node:path';
import { RuntimeError } from './runtime-errors.js';
import {
  DEFAULT_INSTANCE,
  INSTANCE_NAME_PATTERN,
  instanceNameProblem,
} from '../../shared/instance-name.js';

export { DEFAULT_INSTANCE, INSTANCE_NAME_PATTERN };

/** Prefix of every Droidway container name (`droidway-NAME`). */
export const CONTAINER_PREFIX = 'droidway-';

/** Every path of one instance. */
export interface InstancePaths {
  name: string;
  /** The uid the instance belongs to. */
  owner: number;
  /** LXC container name, `droidway-NAME`. */
  containerName: string;
  /** Persistent folder of the instance. */
  dataDir: string;
  /** The LXC config of the current (or last) session, as the session host was given it. */
  configFile: string;
  /** The seccomp profile of the current session, when the policy has one. */
  seccompFile: string;
  /** Logs: `lxc.log` (LXC, `-l DEBUG`), `session-host.log` (the host's stdio), `console.log`. */
  logDir: string;
  lxcLog: string;
  hostLog: string;
  consoleLog: string;
  /**
   * Guest data kept across sessions (`/data`): while a session runs, the instance's fixed-size
   * image (`dataImage`) is mounted here, so host readers find the guest's files at the same place.
   */
  guestDataDir: string;
  /** The fixed-size ext4 image holding `/data` (created at the policy's `storage.dataMaxBytes`). */
  dataImage: string;
  /** Where `guestDataDir` is bound for LXC to reach (the guest's root cannot traverse `dataDir`). */
  guestDataMount: string;
  /** The empty, read-only file bound over masked files (recreated at each start). */
  maskFile: string;
  /**
   * Per-session folder; removed when the session ends. Owned by the guest's (mapped) root, mode
   * 0700: LXC mounts the guest's folders as that id, and no other host user reaches inside.
   */
  runtimeDir: string;
  /** Mountpoint of the session's root layer (a sized tmpfs holding a copy of the guest tree). */
  rootfsDir: string;
  /** LXC's `-P` path; the container's folder and config live under it. */
  lxcPath: string;
  containerDir: string;
  /** The config `lxc-start -f` reads; `lxc-attach` finds it too, so attached processes get the policy. */
  lxcConfigFile: string;
  /** Seccomp profile the config names (`lxc.seccomp.profile`). */
  lxcSeccompFile: string;
  /** Owner-only folder (0700) holding the control socket. */
  controlDir: string;
  controlSocket: string;
  /** JSON record of the session host owning the instance (pid, start time). */
  hostRecord: string;
  /** A 1 MiB tmpfs bind-mounted at `/run/droidway` in the guest; init writes `ready` into it. */
  guestRunDir: string;
  readyMarker: string;
  /** Host folder bind-mounted at `/run/xdg` in the guest; holds the display bridge's socket. */
  xdgDir: string;
  /** The display bridge's guest-facing socket (`/run/xdg/wayland-0` in the guest). */
  bridgeSocket: string;
}

/** Root folders; tests and the CLI override them, else they follow the owner (see the module doc). */
export interface InstanceRoots {
  dataRoot?: string;
  runtimeRoot?: string;
  /** The uid owning the instance; default the calling process's uid. */
  owner?: number;
}

/**
 * Checks an instance name and returns it. Throws `RuntimeError` (`INSTANCE_NAME_INVALID`) for
 * anything but 1–32 characters of `[a-z0-9-]` starting with a letter or digit.
 */
export function validateInstanceName(name: unknown): string {
  const problem = instanceNameProblem(name);
  if (problem !== null) throw new RuntimeError('INSTANCE_NAME_INVALID', problem);
  return name as string;
}

/** The calling process's uid (0 where the platform has none). */
export function callerUid(): number {
  return process.getuid?.() ?? 0;
}

/** Checks an owner uid: a non-negative 32-bit integer other than the overflow id. */
export function validateOwner(owner: unknown): number {
  if (typeof owner !== 'number' || !Number.isInteger(owner) || owner < 0 || owner >= 0xffffffff) {
    throw new RuntimeError(
      'INSTANCE_OWNER_INVALID',
      `instance owner ${String(owner)} is not a uid`,
    );
  }
  return owner;
}

/** Folder holding every data folder of `owner`'s instances. */
export function defaultDataRoot(owner: number = callerUid()): string {
  return owner === 0 ? '/var/lib/droidway/instances' : `/var/lib/droidway/users/${owner}`;
}

/** Folder holding every runtime folder of `owner`'s instances. */
export function defaultRuntimeRoot(owner: number = callerUid()): string {
  return owner === 0 ? '/run/droidway/instances' : `/run/droidway/users/${owner}`;
}

/** LXC's name of `owner`'s instance `name`. */
export function containerNameOf(name: string, owner: number): string {
  return owner === 0 ? `${CONTAINER_PREFIX}${name}` : `${CONTAINER_PREFIX}u${owner}_${name}`;
}

/**
 * Where the user side keeps its own files about an instance (the policy applied in the editor,
 * the options of the last start): the instance's data folder when this process may write it
 * (root, or roots given explicitly), else — a desktop user, whose instance folders are root's —
 * `$XDG_STATE_HOME/droidway/instances/NAME`.
 */
export function userStateDir(
  paths: Pick<InstancePaths, 'name' | 'dataDir'>,
  roots: InstanceRoots = {},
): string {
  if (callerUid() === 0 || roots.dataRoot !== undefined) return paths.dataDir;
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'droidway', 'instances', paths.name);
}

/** All paths of instance `name` (validated) under `roots` (defaults per the module doc). */
export function instancePaths(name: string, roots: InstanceRoots = {}): InstancePaths {
  validateInstanceName(name);
  const owner = validateOwner(roots.owner ?? callerUid());
  const dataDir = path.join(roots.dataRoot ?? defaultDataRoot(owner), name);
  const runtimeDir = path.join(roots.runtimeRoot ?? defaultRuntimeRoot(owner), name);
  const containerName = containerNameOf(name, owner);
  const lxcPath = path.join(runtimeDir, 'lxc');
  const containerDir = path.join(lxcPath, containerName);
  const logDir = path.join(dataDir, 'logs');
  const controlDir = path.join(runtimeDir, 'control');
  const guestRunDir = path.join(runtimeDir, 'guest-run');
  return {
    name,
    owner,
    containerName,
    dataDir,
    configFile: path.join(dataDir, 'lxc.conf'),
    seccompFile: path.join(dataDir, 'seccomp.profile'),
    logDir,
    lxcLog: path.join(logDir, 'lxc.log'),
    hostLog: path.join(logDir, 'session-host.log'),
    consoleLog: path.join(logDir, 'console.log'),
    guestDataDir: path.join(dataDir, 'data'),
    dataImage: path.join(dataDir, 'data.img'),
    guestDataMount: path.join(runtimeDir, 'data'),
    maskFile: path.join(runtimeDir, 'masked-empty'),
    runtimeDir,
    rootfsDir: path.join(runtimeDir, 'rootfs'),
    lxcPath,
    containerDir,
    lxcConfigFile: path.join(containerDir, 'config'),
    lxcSeccompFile: path.join(containerDir, 'seccomp.profile'),
    controlDir,
    controlSocket: path.join(controlDir, 'control.sock'),
    hostRecord: path.join(runtimeDir, 'host.json'),
    guestRunDir,
    readyMarker: path.join(guestRunDir, 'ready'),
    xdgDir: path.join(runtimeDir, 'xdg'),
    bridgeSocket: path.join(runtimeDir, 'xdg', 'wayland-0'),
  };
}
