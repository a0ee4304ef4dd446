/**
 * A guest for the apps layer's unit tests: `pm list packages` answered from `packages`, each
 * APK a real file under a temporary instance's `/data` mapping, described by `infos` (what the
 * ApkReader would say about it).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GuestExecResult, GuestExecutor } from '../../electron/core/android/guest-exec.js';
import type { ApkInfo } from '../../electron/core/apk/apk-reader.js';
import type { XdgDirs } from '../../electron/core/apps/desktop-entry.js';

/** One package the fake guest lists. */
export interface FakePackage {
  pkg: string;
  versionCode: number;
  system?: boolean;
  /** Guest path of the base APK. */
  apk: string;
}

/** The fake guest and the folders around it. */
export interface FakeAppsGuest {
  root: string;
  instance: string;
  dirs: XdgDirs;
  exec: GuestExecutor;
  /** What `pm list packages` lists (an entry without an APK file is allowed). */
  packages: FakePackage[];
  /** What the ApkReader says, by host file. */
  infos: Map<string, Partial<ApkInfo>>;
  /** Host path of a guest `/data` path. */
  hostPath(guestPath: string): string;
  /** Every command the guest ran, joined by spaces. */
  calls: string[];
  /** Host files read by `readApk`. */
  reads: string[];
  readApk: (file: string) => Promise<ApkInfo>;
  /** Installs `p` with an APK file described by `info` (replacing one of the same package). */
  addApk(p: FakePackage, info: Partial<ApkInfo>): Promise<void>;
  /** Uninstalls `pkg` (its APK file stays). */
  removePackage(pkg: string): void;
  cleanup(): Promise<void>;
}

/** Makes a fake guest for instance `instance` in a fresh temporary folder. */
export async function fakeAppsGuest(instance = 'inst'): Promise<FakeAppsGuest> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'apps-guest-'));
  const infos = new Map<string, Partial<ApkInfo>>();
  const calls: string[] = [];
  const reads: string[] = [];
  const hostPath = (guestPath: string): string =>
    path.join(root, instance, 'data', guestPath.slice('/data/'.length));
  const exec: GuestExecutor = async (argv) => {
    calls.push(argv.join(' '));
    const third = argv.includes('-3');
    const lines = guest.packages
      .filter((p) => !third || p.system !== true)
      .map((p) => `package:${p.apk}=${p.pkg} versionCode:${p.versionCode}`);
    // Lines a hostile guest could add: all must be ignored.
    lines.push('package:/data/app/x.apk=../../evil versionCode:1', 'garbage', 'package:');
    const result: GuestExecResult = {
      exitCode: 0,
      signal: null,
      stdout: `${lines.join('\n')}\n`,
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
    };
    return result;
  };
  const guest: FakeAppsGuest = {
    root,
    instance,
    packages: [],
    infos,
    hostPath,
    dirs: { dataHome: path.join(root, 'xdg-data'), configHome: path.join(root, 'xdg-config') },
    exec,
    calls,
    reads,
    readApk: async (file) => {
      reads.push(file);
      const info = infos.get(file);
      if (info === undefined) throw new Error(`unreadable ${file}`);
      return info as ApkInfo;
    },
    async addApk(p, info) {
      guest.removePackage(p.pkg);
      guest.packages.push(p);
      const host = hostPath(p.apk);
      await fs.mkdir(path.dirname(host), { recursive: true });
      await fs.writeFile(host, `apk of ${p.pkg} v${p.versionCode}`);
      infos.set(host, { packageName: p.pkg, versionCode: p.versionCode, labels: {}, ...info });
    },
    removePackage(pkg) {
      guest.packages = guest.packages.filter((q) => q.pkg !== pkg);
    },
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
  return guest;
}
