/**
 * Planning a session: where the instance lives, which policy (a preset, a file, a document;
 * shared folders checked against this host), which guest (the demo guest, or an Android image
 * checked for readiness, then mounted with binderfs), the probe mount, and the policy compiled
 * for this host. Nothing is started here; `start.ts` launches what a plan prepared.
 */
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { androidPropsText } from '../images/android-props.js';
import {
  assertAndroidReady,
  checkAndroidReadiness,
  prepareBinder,
  type AndroidReadiness,
  type BinderInstance,
  type ReadinessOptions,
} from '../images/android-readiness.js';
import type { AndroidImage, DiscoveryOptions } from '../images/image-discovery.js';
import { ImageError } from '../images/image-errors.js';
import { mountAndroidImage, type MountedImage } from '../images/image-mount.js';
import { SYSTEM_IMG, VENDOR_IMG } from '../images/image-store.js';
import { DEFAULT_INIT_FD_TARGETS } from '../policy/probe-expectations.js';
import { LINUX_CAPABILITIES } from '../policy/capabilities.js';
import { apparmorEnabled, detectCgroupSupport } from '../policy/cgroup-host.js';
import type { HostDeviceClassName } from '../policy/devices.js';
import type { HostDeviceNode } from '../policy/policy-compile.js';
import {
  compilePolicy,
  type CompileContext,
  type CompiledPolicy,
  type ExtraMount,
} from '../policy/policy-compile.js';
import type { ValidatedPolicy } from '../policy/policy-document.js';
import { POLICY_INVALID, PolicyError } from '../policy/policy-errors.js';
import { MAX_POLICY_TEXT_LENGTH, parsePolicyText } from '../policy/policy-validate.js';
import { loadPreset } from '../policy/presets.js';
import { assertSharedFoldersAllowed } from '../policy/shared-folders.js';
import { androidMountDir, releaseAndroidMounts } from '../runtime/android-mounts.js';
import { ensureDemoGuest, hostToolMountEntries, type DemoGuest } from '../runtime/demo-guest.js';
import { emptyReport } from '../runtime/host-cleanup.js';
import { allocateIdRange, ensureSubordinateIds, type IdRange } from '../runtime/id-ranges.js';
import { reclaimInstance } from '../runtime/instance-cleanup.js';
import { type InstancePaths, type InstanceRoots } from '../runtime/instance-paths.js';
import { type GuestSocketOwner } from '../runtime/session-bridge.js';
import { sessionPaths } from '../runtime/session-client.js';
import { defaultHostScript } from '../runtime/session-host-launcher.js';
import type { SessionStorage } from '../runtime/session-storage.js';
import { SessionServiceError } from './session-errors.js';
import { packageRoot } from '../package-root.js';
import { DEMO_IMAGE } from './default-preset.js';

export { DEMO_IMAGE, defaultPresetFor } from './default-preset.js';

/** Android's init: `/init` of the system-as-root image (a link to `/system/bin/init`). */
export const ANDROID_INIT = '/init';

/** Where the probe's build folder is mounted in the guest (read-only). */
export const PROBE_GUEST_DIR = '/opt/droidway/probe';

/** The probe inside the guest. */
export const PROBE_GUEST_PATH = `${PROBE_GUEST_DIR}/droidway-probe`;

/** The init wrapper that keeps guest processes from debugging each other (built with the probe). */
export const NODUMP_GUEST_PATH = `${PROBE_GUEST_DIR}/droidway-nodump`;

/** Writable folder in the guest for the probe's attempts to create nodes and mounts. */
export const PROBE_SCRATCH_DIR = '/tmp';

/** Where things live; every field has a default for this user (root: `/var/lib/droidway`). */
export interface ServiceLocations extends InstanceRoots {
  /** Demo guest rootfs; default `defaultDemoGuestDir()`. */
  demoGuestDir?: string;
  /** Folder holding the built probe (`droidway-probe`); default `native/probe/build` of this checkout. */
  probeBuildDir?: string;
  /** The session host's entry script; default the compiled one (see `resolveHostScript`). */
  hostScript?: string;
  /** Where Android image names are looked up; default the store and Waydroid's folders. */
  imageDiscovery?: DiscoveryOptions;
  /** The subordinate id registry (see `id-ranges.ts`); default `/var/lib/droidway/idmap`. */
  idRegistryDir?: string;
}

/** Where a session's policy comes from: exactly one of a preset name, a file, or a document. */
export type PolicySource = { preset: string } | { file: string } | { policy: ValidatedPolicy };

/** Options of `startSession`. */
export interface StartSessionOptions extends ServiceLocations {
  /** Instance name; default `default`. */
  instance?: string;
  /**
   * Host the session in this process rather than in a spawned session host (the privileged
   * helper does, see `privileged/helper-main.ts`); the result then carries `hosted`.
   */
  hostHere?: boolean;
  /**
   * Image to boot: `demo` (the default), or an Android image's name (see `resolveImage`) or
   * folder path (holding `system.img` and `vendor.img`).
   */
  image?: string;
  policy: PolicySource;
  /** Host bridge for `network: nat`; default `lxcbr0`. */
  natBridge?: string;
  /** How long to wait for the guest's init; default the runtime's. */
  readyTimeoutMs?: number;
  /** Host scale factor for Android's density (`ro.sf.lcd_density`); default Android's own. */
  scale?: number;
  /** Android density in dpi, overriding the one from `scale`; 0 or absent: from the scale. */
  density?: number;
  /** Each Android app in a host window of its own (Waydroid's multi-window mode); default true. */
  multiWindows?: boolean;
  /**
   * The host Wayland compositor the display bridge draws on: a socket path or a display name
   * under `XDG_RUNTIME_DIR`; default `WAYLAND_DISPLAY` of `env`. Without one the session starts
   * with the bridge off, and its status says why.
   */
  hostDisplay?: string;
  /** Environment the host display is looked up in; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * The session host runs no display bridge, for this reason (a desktop user's session: its
   * bridge runs on the user's side, toward the user's own compositor).
   */
  bridgeOff?: string;
  /**
   * A desktop user's session (with `bridgeOff`): the user runs the bridge, so the socket folder
   * is prepared for this uid and gid (the gid of `bridgeGuestOwner` when given, so the guest's
   * compositor may connect).
   */
  userBridge?: { uid: number; gid: number };
  /**
   * The guest's compositor client as the host sees it (its uid/gid mapped by the container's
   * user namespace): the bridge socket and its folder are given to it and to nobody else.
   * Default: the socket stays the session host's (0600).
   */
  bridgeGuestOwner?: GuestSocketOwner;
  /**
   * Demo guest only: a host folder of stand-in Android tools (`pm`, `am`, `cmd`, e.g.
   * `tests/fixtures/android-guest`) bind-mounted read-only at `/system/bin`, with the instance's
   * persistent `/data` image (`storage.dataMaxBytes`) mounted read-write at `/data`.
   */
  androidTools?: string;
  /**
   * Told, before anything starts, what the user must know first: a host-equivalent policy (no
   * user namespace, the `privileged` preset) is named here.
   */
  onWarning?: (message: string) => void;
  /**
   * Tests only, never set by the CLI or the app: replaces `checkAndroidReadiness`, so that the
   * Android path past the readiness check can run on a host without binder.
   */
  androidReadinessForTests?: (options: ReadinessOptions) => Promise<AndroidReadiness>;
}

/** What `planSession` prepared: everything a start needs, nothing started yet. */
export interface SessionPlan {
  paths: InstancePaths;
  /** The demo guest, or null for an Android image. */
  guest: DemoGuest | null;
  /** The Android image, described, or null for the demo guest. */
  image: AndroidImage | null;
  policy: ValidatedPolicy;
  compiled: CompiledPolicy;
  /** What `compiled` was compiled with. */
  context: CompileContext;
  /** Runtime mount entries (the host's tools for `androidTools`). */
  extraMountEntries: string[];
  /** The session's writable layers, for the demo guest; null for an Android image (mounted here). */
  storage: SessionStorage | null;
  probe: string | null;
  /**
   * Releases what the plan mounted (an Android image's layout and binderfs) when the session is
   * not started after all; resolves with what could not be released. A no-op for the demo.
   */
  release(): Promise<string[]>;
}

/** `relative` under the package root when it exists there, else null. */
function inPackage(relative: string): string | null {
  const root = packageRoot();
  if (root === null) return null;
  const candidate = path.join(root, relative);
  return existsSync(candidate) ? candidate : null;
}

/**
 * The session host's entry script: `session-host-main.js` beside this module when it runs
 * compiled (`out/`), else the compiled copy in `out/` of the checkout (this module runs from
 * TypeScript sources under Vitest). Throws `HOST_ENTRY_MISSING` when neither exists.
 */
export function resolveHostScript(): string {
  const beside = defaultHostScript();
  if (existsSync(beside)) return beside;
  const built = inPackage('out/electron/core/runtime/session-host-main.js');
  if (built !== null) return built;
  throw new SessionServiceError(
    'HOST_ENTRY_MISSING',
    'the session host is not built: run `npm run build:ts` (tsc -p tsconfig.build.json)',
  );
}

/** The probe's build folder of this checkout (`native/probe/build`), or null when not built. */
export function defaultProbeBuildDir(): string | null {
  const probe = inPackage('native/probe/build/droidway-probe');
  return probe === null ? null : path.dirname(probe);
}

/**
 * Loads the policy of `source`: a preset by name, or a file read (size-capped), parsed and
 * validated. Either way the shared folders are checked against this host for `uid`. Throws a
 * `PolicyError` naming each refused field, or `POLICY_SOURCE_INVALID` for an unreadable file.
 */
export async function resolvePolicy(
  source: PolicySource,
  uid: number = process.getuid?.() ?? 0,
): Promise<ValidatedPolicy> {
  let policy: ValidatedPolicy;
  if ('policy' in source) {
    policy = source.policy;
  } else if ('preset' in source) {
    policy = loadPreset(source.preset);
  } else {
    let buf: Buffer;
    try {
      buf = await fs.readFile(source.file);
    } catch (e) {
      throw new SessionServiceError(
        'POLICY_SOURCE_INVALID',
        `policy file ${source.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (buf.length > MAX_POLICY_TEXT_LENGTH) {
      throw new PolicyError(POLICY_INVALID, [
        { path: '', message: `is larger than ${MAX_POLICY_TEXT_LENGTH} bytes` },
      ]);
    }
    const parsed = parsePolicyText(buf.toString('utf8'));
    if (!parsed.ok) throw new PolicyError(POLICY_INVALID, parsed.issues);
    policy = parsed.policy;
  }
  await assertSharedFoldersAllowed(policy.sharedFolders, { uid });
  return policy;
}

/**
 * This process's capability bounding set, by name (`CapBnd` of `/proc/self/status`): the session
 * host and LXC inherit it, so the guest can hold nothing outside it. Null when unreadable.
 */
export async function ownBoundingSet(): Promise<string[] | null> {
  try {
    const status = await fs.readFile('/proc/self/status', 'utf8');
    const hex = /^CapBnd:\s*([0-9a-f]{1,16})$/m.exec(status)?.[1];
    if (hex === undefined) return null;
    const mask = BigInt(`0x${hex}`);
    return LINUX_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
  } catch {
    return null;
  }
}

/** The initial fds of the demo guest's init: the usual streams, plus its own script (`sh` keeps it open). */
function initFdTargets(guest: DemoGuest): string[] {
  return [...DEFAULT_INIT_FD_TARGETS, guest.init];
}

/**
 * The instance's subordinate id range when the policy asks for a user namespace (always, but in
 * the explicitly host-equivalent `privileged` preset): Droidway's block is registered for root
 * in `/etc/subuid` and `/etc/subgid` first (once), then the instance's range is claimed or found.
 * Needs root; null for a policy without a user namespace.
 */
export async function instanceIdRange(
  policy: ValidatedPolicy,
  paths: InstancePaths,
  options: ServiceLocations,
): Promise<IdRange | null> {
  if (!policy.namespaces.user) return null;
  const registry = options.idRegistryDir !== undefined ? { dir: options.idRegistryDir } : {};
  await ensureSubordinateIds(registry);
  return allocateIdRange(paths.dataDir, registry);
}

/** The probe's build folder, mounted read-only into the guest when the probe is built. */
function probeMount(options: StartSessionOptions): {
  extraMounts: ExtraMount[];
  probe: string | null;
  nodump: { nodumpWrapper: string } | Record<string, never>;
} {
  const probeDir = options.probeBuildDir ?? defaultProbeBuildDir();
  if (probeDir === null || !existsSync(path.join(probeDir, 'droidway-probe')))
    return { extraMounts: [], probe: null, nodump: {} };
  return {
    extraMounts: [
      { source: probeDir, target: PROBE_GUEST_DIR, options: 'bind,ro,nosuid,nodev,create=dir' },
    ],
    probe: PROBE_GUEST_PATH,
    nodump: existsSync(path.join(probeDir, 'droidway-nodump'))
      ? { nodumpWrapper: NODUMP_GUEST_PATH }
      : {},
  };
}

/**
 * Prepares a session without starting it: the instance's paths, the policy, the guest, the mask
 * file, and the policy compiled for this host. The compiled config names no seccomp profile:
 * the runtime writes the profile and names it itself.
 *
 * For the demo guest (built on first use) nothing is mounted. For an Android image the policy
 * and the host are checked first (see `startSession`), then the image and binderfs are mounted:
 * a caller that does not start the plan must call `release()`. Rejects with a `PolicyError`,
 * `SessionServiceError`, the images' `ImageError` (`ANDROID_NOT_READY` listing what the host
 * lacks, `IMAGE_NOT_FOUND`, `MOUNT_FAILED` …) or `SESSION_ALREADY_RUNNING`.
 */
export async function planSession(options: StartSessionOptions): Promise<SessionPlan> {
  const image = options.image ?? DEMO_IMAGE;
  return image === DEMO_IMAGE ? planDemoSession(options) : planAndroidSession(options, image);
}

async function planDemoSession(options: StartSessionOptions): Promise<SessionPlan> {
  const paths = sessionPaths(options.instance, options);
  const policy = await resolvePolicy(options.policy, options.owner ?? process.getuid?.() ?? 0);
  const guest = await ensureDemoGuest(
    options.demoGuestDir !== undefined ? { rootfs: options.demoGuestDir } : {},
  );
  const { extraMounts, probe, nodump } = probeMount(options);
  if (options.androidTools !== undefined)
    extraMounts.push(...(await androidToolsMounts(paths, options.androidTools)));
  // Recreated empty by the session host at each start, where the guest's root can reach it.
  const maskFile = paths.maskFile;
  const idRange = await instanceIdRange(policy, paths, options);
  const cgroup = detectCgroupSupport();
  const hostCapabilities = await ownBoundingSet();
  const context: CompileContext = {
    ...(idRange !== null ? { idRange } : {}),
    name: paths.containerName,
    // A per-session copy of the guest tree, made by the session host (see session-storage.ts).
    rootfsPath: paths.rootfsDir,
    logFile: paths.lxcLog,
    init: [guest.init],
    ...nodump,
    cgroupVersion: cgroup.version,
    unsupportedLimits: cgroup.unsupportedLimits,
    apparmorAvailable: apparmorEnabled(),
    maskFile,
    extraMounts,
    ...(hostCapabilities !== null ? { hostCapabilities } : {}),
    ...(options.natBridge !== undefined ? { natBridge: options.natBridge } : {}),
  };
  const compiled = compilePolicy(policy, context);
  compiled.expectations.initFdTargets = initFdTargets(guest);
  return {
    paths,
    guest,
    image: null,
    policy,
    compiled,
    context,
    // The stand-in Android tools run the host's aapt, python3, unzip and openssl (read-only);
    // the demo guest alone sees nothing of the host's /usr.
    extraMountEntries: [
      ...guest.mountEntries,
      ...(options.androidTools !== undefined ? hostToolMountEntries() : []),
    ],
    storage: {
      rootfsSource: guest.rootfs,
      rootfsMaxBytes: policy.storage.maxBytes,
      consoleMaxBytes: policy.storage.consoleMaxBytes,
      hostBase: idRange?.hostBase ?? 0,
      idCount: idRange?.count ?? 0,
      ...(options.androidTools !== undefined ? { dataMaxBytes: policy.storage.dataMaxBytes } : {}),
    },
    probe,
    release: async () => [],
  };
}

/** Where `androidTools` appear in the demo guest. */
export const ANDROID_TOOLS_GUEST_DIR = '/system/bin';

/**
 * The mounts of `StartSessionOptions.androidTools`: the folder (which must be a real folder,
 * not a symlink) read-only at `/system/bin`, and the instance's `/data` image (a fixed-size ext4
 * of the policy's `storage.dataMaxBytes`, mounted `nosuid,nodev` by the session host, its root
 * 0771 like Android's `/data`) read-write at `/data`. Throws `ANDROID_TOOLS_INVALID` otherwise.
 */
export async function androidToolsMounts(
  paths: InstancePaths,
  toolsDir: string,
): Promise<ExtraMount[]> {
  const dir = path.resolve(toolsDir);
  const st = await fs.lstat(dir).catch(() => null);
  if (st === null || !st.isDirectory())
    throw new SessionServiceError(
      'ANDROID_TOOLS_INVALID',
      `--android-tools ${JSON.stringify(toolsDir.slice(0, 200))} is not a folder`,
    );
  // The session host mounts the instance's /data image there (see session-storage.ts).
  return [
    { source: dir, target: ANDROID_TOOLS_GUEST_DIR, options: 'bind,ro,nosuid,nodev,create=dir' },
    { source: paths.guestDataMount, target: '/data', options: 'bind,rw,nosuid,nodev,create=dir' },
  ];
}

/**
 * Why `policy` cannot boot Android, one sentence per reason; empty when it can. Android's init
 * mounts its own file systems (needs CAP_SYS_ADMIN and `mount(2)`), and every Android service
 * talks over binder.
 */
export function androidPolicyProblems(policy: ValidatedPolicy): string[] {
  const problems: string[] = [];
  if (!policy.capabilities.includes('sys_admin'))
    problems.push(
      "it drops CAP_SYS_ADMIN (sys_admin), which Android's init needs to mount its own file systems",
    );
  const mountRule = policy.seccomp.rules.find(
    (r) => r.syscall === 'mount' && (r.args === undefined || r.args.length === 0),
  );
  if ((mountRule?.action ?? policy.seccomp.defaultAction) !== 'allow')
    problems.push("its seccomp filter denies mount(2), which Android's init calls at boot");
  if (!policy.devices.includes('binder'))
    problems.push('it does not allow the binder devices, without which no Android service starts');
  return problems;
}

/** Throws `POLICY_UNSUITABLE` naming each reason `policy` cannot boot Android. */
export function assertPolicyBootsAndroid(policy: ValidatedPolicy): void {
  const problems = androidPolicyProblems(policy);
  if (problems.length === 0) return;
  throw new SessionServiceError(
    'POLICY_UNSUITABLE',
    `policy ${policy.name} cannot boot Android: ${problems.join('; ')}. Use --preset android, or a policy based on it`,
  );
}

/** The device node at `hostPath` for the policy compiler, or null when it is not a character device. */
export async function hostDeviceNode(
  hostPath: string,
  guestPath: string,
): Promise<HostDeviceNode | null> {
  const st = await fs.stat(hostPath, { bigint: true }).catch(() => null);
  if (st === null || !st.isCharacterDevice()) return null;
  // glibc's encoding of dev_t (gnu_dev_major / gnu_dev_minor).
  const rdev = st.rdev;
  return {
    hostPath,
    guestPath,
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/** The host's first DRI render node (`/dev/dri/renderD128` …), or null. */
async function firstRenderNode(): Promise<HostDeviceNode | null> {
  const names = await fs.readdir('/dev/dri').catch(() => [] as string[]);
  const render = names
    .filter((n) => /^renderD[0-9]{1,4}$/.test(n))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))[0];
  if (render === undefined) return null;
  return hostDeviceNode(`/dev/dri/${render}`, `/dev/dri/${render}`);
}

/** The binder, ashmem and render nodes the policy allows, as this host provides them. */
async function androidHostDevices(
  policy: ValidatedPolicy,
  binder: BinderInstance | null,
  renderNode: HostDeviceNode | null,
): Promise<Partial<Record<HostDeviceClassName, HostDeviceNode[]>>> {
  const devices: Partial<Record<HostDeviceClassName, HostDeviceNode[]>> = {};
  if (binder !== null && policy.devices.includes('binder')) {
    const nodes: HostDeviceNode[] = [];
    for (const [name, hostPath] of Object.entries(binder.devices)) {
      const node = await hostDeviceNode(hostPath, `/dev/${name}`);
      if (node === null)
        throw new ImageError('BINDER_UNAVAILABLE', `${hostPath} is not a character device`);
      nodes.push(node);
    }
    devices.binder = nodes;
  }
  if (policy.devices.includes('ashmem')) {
    const ashmem = await hostDeviceNode('/dev/ashmem', '/dev/ashmem');
    if (ashmem !== null) devices.ashmem = [ashmem];
  }
  if (renderNode !== null && policy.devices.includes('dri-render'))
    devices['dri-render'] = [renderNode];
  return devices;
}

/**
 * Makes the folders the runtime and LXC mount onto real folders in a mounted image (`/run`,
 * `/tmp`, the probe's folder …), created in the overlay upper as host root. With a user
 * namespace LXC mounts as the guest's mapped root, which cannot create anything in the image's
 * root-owned tree. A symlink or a file on the way is refused, so no mount is ever redirected.
 */
async function ensureGuestDirs(rootfs: string, guestDirs: readonly string[]): Promise<void> {
  for (const guestDir of guestDirs) {
    let dir = rootfs;
    for (const part of guestDir.split('/').filter((p) => p !== '')) {
      dir = path.join(dir, part);
      const st = await fs.lstat(dir).catch(() => null);
      if (st === null) {
        await fs.mkdir(dir, { mode: 0o755 });
        continue;
      }
      if (!st.isDirectory() || st.isSymbolicLink())
        throw new ImageError(
          'MOUNT_FAILED',
          `${guestDir} in the image is not a folder; refusing to mount over it`,
        );
    }
  }
}

async function planAndroidSession(
  options: StartSessionOptions,
  image: string,
): Promise<SessionPlan> {
  // eslint-disable-next-line no-control-regex
  if (image === '' || image.length > 4096 || /[\u0000-\u001f\u007f]/.test(image)) {
    throw new SessionServiceError(
      'IMAGE_UNSUPPORTED',
      `image ${JSON.stringify(image.slice(0, 200))} is neither demo, an image name nor a folder path`,
    );
  }
  if (options.androidTools !== undefined)
    throw new SessionServiceError(
      'ANDROID_TOOLS_INVALID',
      'stand-in Android tools are for the demo guest only; an Android image has its own',
    );
  const paths = sessionPaths(options.instance, options);
  const policy = await resolvePolicy(options.policy, options.owner ?? process.getuid?.() ?? 0);
  assertPolicyBootsAndroid(policy);
  // Nothing is written or mounted before this answers: a host without binder gets the exact
  // kernel support it lacks, a missing image how to get one.
  const check = options.androidReadinessForTests ?? checkAndroidReadiness;
  const readiness = await check({
    image,
    ...(options.imageDiscovery !== undefined ? { discovery: options.imageDiscovery } : {}),
  });
  assertAndroidReady(readiness);
  const android = readiness.image;
  if (android === null)
    throw new SessionServiceError('IMAGE_UNSUPPORTED', 'the readiness check named no image');

  // Claimed as the host will claim it: a live host refuses this start before anything is
  // mounted; a crashed one's container and files go, and so do its image mounts.
  await reclaimInstance(paths);
  const stale = emptyReport();
  await releaseAndroidMounts(paths, stale);
  if (stale.problems.length > 0) {
    throw new SessionServiceError(
      'IMAGE_MOUNTS_STALE',
      `image mounts of an earlier session of ${paths.name} could not be released: ${stale.problems.join('; ')}`,
    );
  }

  const { extraMounts, probe, nodump } = probeMount(options);
  // Recreated empty by the session host at each start, where the guest's root can reach it.
  const maskFile = paths.maskFile;
  const idRange = await instanceIdRange(policy, paths, options);
  const dir = androidMountDir(paths);
  let mounted: MountedImage | null = null;
  let binder: BinderInstance | null = null;
  const release = async (): Promise<string[]> => {
    const report = emptyReport();
    await binder?.release();
    if (mounted !== null) report.problems.push(...(await mounted.unmountAll()).problems);
    await releaseAndroidMounts(paths, report);
    return report.problems;
  };
  try {
    const renderNode = policy.devices.includes('dri-render') ? await firstRenderNode() : null;
    const propsText = androidPropsText({
      hasAshmem: (await hostDeviceNode('/dev/ashmem', '/dev/ashmem')) !== null,
      renderNode: renderNode?.hostPath ?? null,
      scale: options.scale ?? null,
      density: options.density ?? null,
      multiWindows: options.multiWindows ?? true,
      vendorType: android.vendorType,
    });
    await fs.mkdir(dir, { recursive: true, mode: 0o711 });
    // LXC binds the probe as the guest's mapped root, which may not traverse the checkout (a
    // 0700 folder, e.g. a CI clone): bind a root-owned copy in the instance's Android folder.
    for (const m of extraMounts) {
      if (m.target !== PROBE_GUEST_DIR) continue;
      const copy = path.join(dir, 'probe');
      await fs.mkdir(copy, { recursive: true, mode: 0o755 });
      for (const name of await fs.readdir(m.source)) {
        const from = path.join(m.source, name);
        if (!(await fs.stat(from)).isFile()) continue;
        await fs.copyFile(from, path.join(copy, name));
        await fs.chmod(path.join(copy, name), 0o555);
      }
      m.source = copy;
    }
    mounted = await mountAndroidImage({
      systemImage: path.join(android.dir, SYSTEM_IMG),
      vendorImage: path.join(android.dir, VENDOR_IMG),
      dataDir: paths.dataDir,
      runtimeDir: dir,
      propsText,
    });
    await ensureGuestDirs(mounted.rootfs, ['/run', '/tmp', ...extraMounts.map((m) => m.target)]);
    // Android's /data is the instance's own: its top belongs to the guest's root (0771, as
    // Android makes it). The image's system and vendor files stay host root's, which the guest's
    // root only reads until the image layers are idmapped (see resources/policies/README.md).
    if (idRange !== null) {
      const data = path.join(paths.dataDir, 'data');
      await fs.chown(data, idRange.hostBase, idRange.hostBase);
      await fs.chmod(data, 0o771);
    }
    binder = readiness.binder === null ? null : await prepareBinder(readiness.binder, dir);
    const cgroup = detectCgroupSupport();
    const hostCapabilities = await ownBoundingSet();
    const context: CompileContext = {
      ...(idRange !== null ? { idRange } : {}),
      name: paths.containerName,
      rootfsPath: mounted.rootfs,
      logFile: paths.lxcLog,
      init: [ANDROID_INIT],
      ...nodump,
      cgroupVersion: cgroup.version,
      unsupportedLimits: cgroup.unsupportedLimits,
      apparmorAvailable: apparmorEnabled(),
      maskFile,
      extraMounts,
      hostDevices: await androidHostDevices(policy, binder, renderNode),
      ...(hostCapabilities !== null ? { hostCapabilities } : {}),
      ...(options.natBridge !== undefined ? { natBridge: options.natBridge } : {}),
    };
    const compiled = compilePolicy(policy, context);
    return {
      paths,
      guest: null,
      image: android,
      policy,
      compiled,
      context,
      extraMountEntries: [],
      storage: null,
      probe,
      release,
    };
  } catch (e) {
    const problems = await release();
    if (problems.length > 0 && e instanceof Error)
      e.message += ` (and releasing the mounts had problems: ${problems.join('; ')})`;
    throw e;
  }
}
