/**
 * Where an instance lives on disk. Each instance has a name, a persistent data folder (its
 * config, logs and guest data) and a runtime folder (LXC's `-P` path, the control socket, the
 * guest's run dir), so several instances can exist side by side and nothing touches
 * `/var/lib/lxc`:
 *
 * - data: `/var/lib/droidway/instances/NAME` as root, else `$XDG_DATA_HOME/droidway/instances/NAME`;
 * - runtime: `/run/droidway/instances/NAME` as root, else `$XDG_RUNTIME_DIR/droidway/instances/NAME`
 *   (tmpfs: a reboot clears it, a crashed host leaves it for the next start to clean).
 */
import os from 'node:os';
import path from 'node:path';
import { RuntimeError } from './runtime-errors.js';

/** Instance names: short, lowercase, usable in a container name, a path and a cgroup. */
export const INSTANCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** The instance used when none is named. */
export const DEFAULT_INSTANCE = 'default';

/** Prefix of every Droidway container name (`droidway-NAME`). */
export const CONTAINER_PREFIX = 'droidway-';

/** Every path of one instance. */
export interface InstancePaths {
  name: string;
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

/** Root folders; tests and the CLI override them, else they follow the user (see the module doc). */
export interface InstanceRoots {
  dataRoot?: string;
  runtimeRoot?: string;
}

/**
 * Checks an instance name and returns it. Throws `RuntimeError` (`INSTANCE_NAME_INVALID`) for
 * anything but 1–32 characters of `[a-z0-9-]` starting with a letter or digit.
 */
export function validateInstanceName(name: unknown): string {
  if (typeof name !== 'string' || !INSTANCE_NAME_PATTERN.test(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 40)) : typeof name;
    throw new RuntimeError(
      'INSTANCE_NAME_INVALID',
      `instance name ${shown} is invalid: use 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit`,
    );
  }
  return name;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Folder holding every instance's data folder. */
export function defaultDataRoot(): string {
  if (isRoot()) return '/var/lib/droidway/instances';
  const xdg = process.env.XDG_DATA_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'droidway', 'instances');
}

/** Folder holding every instance's runtime folder. */
export function defaultRuntimeRoot(): string {
  if (isRoot()) return '/run/droidway/instances';
  const xdg = process.env.XDG_RUNTIME_DIR;
  const base =
    xdg && path.isAbsolute(xdg)
      ? xdg
      : path.join(os.tmpdir(), `droidway-${process.getuid?.() ?? 'user'}`);
  return path.join(base, 'droidway', 'instances');
}

/** All paths of instance `name` (validated) under `roots` (defaults per the module doc). */
export function instancePaths(name: string, roots: InstanceRoots = {}): InstancePaths {
  validateInstanceName(name);
  const dataDir = path.join(roots.dataRoot ?? defaultDataRoot(), name);
  const runtimeDir = path.join(roots.runtimeRoot ?? defaultRuntimeRoot(), name);
  const containerName = `${CONTAINER_PREFIX}${name}`;
  const lxcPath = path.join(runtimeDir, 'lxc');
  const containerDir = path.join(lxcPath, containerName);
  const logDir = path.join(dataDir, 'logs');
  const controlDir = path.join(runtimeDir, 'control');
  const guestRunDir = path.join(runtimeDir, 'guest-run');
  return {
    name,
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
