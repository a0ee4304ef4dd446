/**
 * The core side of the IPC contract, free of Electron: one handler per channel, calling the real
 * core services, and `dispatch`, which validates a raw call and wraps its outcome in a `Result`.
 * Electron main's IPC wrapper (`electron/main/ipc.ts`) and the e2e test host
 * (`tests/e2e/test-host.ts`) both go through `dispatch`, so what the tests exercise is what the
 * app runs; only the sender check is Electron's own.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runDoctor } from './doctor/index.js';
import { inspectSessionShm } from './session/shm-report.js';
import { defaultAppsService, type AppsService } from './apps/apps-service.js';
import type { AppCatalog } from './apps/catalog.js';
import { refreshOnInstall } from './apps/install-refresh.js';
import { findRunningGuest, lxcGuestExecutor } from './android/guest-exec.js';
import { stagingRootFor } from './install/install-pipeline.js';
import { InstallQueue } from './install/install-queue.js';
import { sessionPaths } from './runtime/session-client.js';
import type { ShmReport } from '../shared/shm.js';
import type { Notice } from '../shared/settings.js';
import type { ServiceLocations } from './session/plan.js';
import { openSettings, type SettingsStore } from './settings/settings-store.js';
import { loadPreset, PRESET_NAMES } from './policy/presets.js';
import { findImages, type DiscoveryOptions } from './images/image-discovery.js';
import { listInstances } from './runtime/instance-list.js';
import {
  applyPolicy,
  checkPolicy,
  diffJson,
  policyInForce,
  storedPolicy,
  verifyPolicy,
  type PolicyTarget,
} from './ui/policy-editor.js';
import { sessionPanel, type SessionPanel } from './ui/session-panel.js';
import type { DoctorReport } from '../shared/doctor.js';
import {
  IPC_ARG_VALIDATORS,
  UNKNOWN_CHANNEL_CODE,
  isIpcChannel,
  type AppInfo,
  type IpcArgs,
  type IpcChannel,
  type IpcEventSink,
  type IpcValue,
} from '../shared/ipc-contract.js';
import { err, settle, type Result } from '../shared/result.js';
import { packageRoot, readOwnManifest } from './package-root.js';

/** One async handler per contract channel, taking the validated argument tuple. */
export type CoreApi = {
  readonly [C in IpcChannel]: (...args: IpcArgs<C>) => Promise<IpcValue<C>>;
};

/** The services the handlers call; each defaults to the real one. */
export interface CoreServices {
  runDoctor: () => Promise<DoctorReport>;
  appInfo: () => AppInfo;
  /** Catalog, launch, pins and uninstall behind the `apps:*` channels. */
  apps: AppsService;
  /**
   * The catalog of an instance, for the default `apps` (Electron main passes one that keeps the
   * desktop entries and a disk cache); default in memory, with icons.
   */
  catalogs?: (instance: string) => AppCatalog;
  /**
   * Makes `apps` when it is not given, from how to ask for the current instance (the
   * `instanceName` setting, read at each call); default `defaultAppsService` over `catalogs`.
   */
  appsOf?: (currentInstance: () => string) => AppsService;
  /** The install queue behind `install:*`; its finished installs refresh `apps`' catalog. */
  install: InstallQueue;
  /** The session's shared-memory report (`shm:inspect`). */
  inspectShm: () => Promise<ShmReport>;
  /** Where main → renderer events go; default nowhere (no window to tell). */
  emit: IpcEventSink;
  /**
   * The user's settings; default `openSettings()` (conf, the user's config folder), opened on
   * first use so handlers that never touch settings never create the file.
   */
  settings?: SettingsStore;
  /** Where instances live and the demo guest is; default the user's. */
  locations: ServiceLocations;
  /** The Session page's operations; default over the real session service. */
  session?: SessionPanel;
  /** Where the image picker looks (`settings:choices`); default the user's store and Waydroid's. */
  imageDiscovery?: DiscoveryOptions;
}

/** Notices kept for pages that open later (`notices:pending`), at most. */
const MAX_PENDING_NOTICES = 20;

/**
 * Builds the handlers for every channel. `overrides` replaces individual services (unit tests of
 * the dispatch branches); the app and the e2e host pass nothing and get the real ones.
 */
export function createCoreApi(overrides: Partial<CoreServices> = {}): CoreApi {
  // One current instance for every page, the tray and launches: the one Settings names, read at
  // each call (settings are opened lazily below; until then the default).
  let currentSettings: (() => { instanceName: string }) | null = null;
  const currentInstance = (): string => currentSettings?.().instanceName ?? 'default';
  const services: CoreServices = {
    runDoctor,
    appInfo: readAppInfo,
    apps:
      overrides.apps ??
      (overrides.appsOf ?? ((ci) => defaultAppsService(ci, overrides.catalogs)))(currentInstance),
    install:
      overrides.install ??
      new InstallQueue({
        // The guest is looked up for each file: files dropped before a session started install
        // once it runs (or fail with "no session is running").
        target: async () => {
          const instance = currentInstance();
          const guest = await findRunningGuest({ instance });
          return {
            exec: lxcGuestExecutor(guest),
            stagingRoot: stagingRootFor(sessionPaths(instance)),
          };
        },
      }),
    inspectShm: () => inspectSessionShm({ instance: currentInstance() }),
    emit: () => undefined,
    locations: {},
    ...overrides,
  };
  const { apps, install, locations } = services;
  // Every change of an install reaches the windows; a finished one refreshes the catalog (and
  // with it the desktop entries), then the app list changed for the window and the tray.
  install.on('item', (item) => services.emit('install:progress', item));
  refreshOnInstall(install, () => apps.catalog?.() ?? null, {
    onRefreshed: () => services.emit('apps:changed', null),
  });
  const notices: Notice[] = [];
  const notify = (notice: Notice): void => {
    notices.push(notice);
    if (notices.length > MAX_PENDING_NOTICES) notices.shift();
    services.emit('notice', notice);
  };
  let opened: SettingsStore | undefined;
  const openStore = (): SettingsStore => {
    if (opened === undefined) {
      opened = services.settings ?? openSettings();
      if (opened.recovered !== null) notify(opened.recovered);
    }
    return opened;
  };
  const settings = {
    get: () => openStore().get(),
    set: (...args: Parameters<SettingsStore['set']>) => openStore().set(...args),
  };
  currentSettings = () => settings.get();
  if (services.settings !== undefined) openStore();
  const target = (): PolicyTarget => {
    const { instanceName, image } = settings.get();
    return { ...locations, instance: instanceName, image };
  };
  const session =
    services.session ??
    sessionPanel({
      locations,
      emit: services.emit,
      target: () => {
        const s = settings.get();
        return {
          instance: s.instanceName,
          image: s.image,
          scale: s.displayScale,
          density: s.density,
          multiWindows: s.multiWindow,
        };
      },
    });
  return Object.freeze({
    'app:info': async () => services.appInfo(),
    'doctor:run': async () => services.runDoctor(),
    'apps:list': () => apps.list(),
    'apps:launch': async (pkg: string) => (await apps.launch(pkg), null),
    'apps:pin': async (pkg: string) => (await apps.pin(pkg), null),
    'apps:unpin': async (pkg: string) => (await apps.unpin(pkg), null),
    'apps:remove': async (pkg: string) => (await apps.remove(pkg), null),
    'apps:info': (pkg: string) => apps.info(pkg),
    'install:start': async (paths: string[]) => install.start(paths),
    'install:cancel': async (id: string) => install.cancel(id),
    'install:list': async () => install.list(),
    'shm:inspect': () => services.inspectShm(),
    'session:status': () => session.status(),
    'session:start': () => session.start(),
    'session:stop': () => session.stop(),
    'session:freeze': () => session.freeze(),
    'session:unfreeze': () => session.unfreeze(),
    'settings:get': async () => settings.get(),
    'settings:choices': async () => {
      // Only complete images: a half-copied folder cannot boot.
      const found = (await findImages(services.imageDiscovery ?? {})).filter(
        (image) =>
          existsSync(join(image.dir, 'system.img')) && existsSync(join(image.dir, 'vendor.img')),
      );
      return {
        images: [...new Set(['demo', ...found.map((image) => image.name)])],
        presets: [...PRESET_NAMES],
        instances: await listInstances(locations),
      };
    },
    'settings:set': async (key, value) => {
      const all = settings.set(key, value);
      services.emit('settings:changed', all);
      return all;
    },
    'notices:pending': async () => (openStore(), [...notices]),
    'policy:preset': async (name: string) =>
      JSON.parse(JSON.stringify(loadPreset(name))) as unknown,
    'policy:current': () => policyInForce(target()),
    'policy:validate': async (doc: unknown) => checkPolicy(doc),
    'policy:diff': async (doc: unknown) => diffJson((await storedPolicy(target())).policy, doc),
    'policy:apply': (doc: unknown) => applyPolicy(target(), doc),
    'policy:verify': () => verifyPolicy(target()),
  });
}

/**
 * Runs one raw IPC call against `api`: checks that `channel` is in the contract (else
 * `'IPC_UNKNOWN_CHANNEL'`), validates `args` with the channel's validator (else
 * `'IPC_BAD_ARGS'`), runs the handler and returns its value or error as a `Result`. Never
 * rejects, and never passes a stack to the caller.
 */
export async function dispatch(
  api: CoreApi,
  channel: unknown,
  args: unknown,
): Promise<Result<unknown>> {
  if (!isIpcChannel(channel)) {
    return err(
      UNKNOWN_CHANNEL_CODE,
      `unknown IPC channel ${JSON.stringify(String(channel)).slice(0, 80)}`,
    );
  }
  return settle(() => invoke(api, channel, args));
}

function invoke<C extends IpcChannel>(
  api: CoreApi,
  channel: C,
  args: unknown,
): Promise<IpcValue<C>> {
  const validated = IPC_ARG_VALIDATORS[channel](args);
  const handler = api[channel] as (...a: IpcArgs<C>) => Promise<IpcValue<C>>;
  return handler(...validated);
}

let cachedAppInfo: AppInfo | undefined;

/**
 * Name and version from Droidway's own package.json, found by walking up from this module: the
 * same code runs from `electron/core/` (tests, CLI via a TS loader) and from `out/electron/core/`
 * (the built app), at different depths.
 */
function readAppInfo(): AppInfo {
  if (cachedAppInfo === undefined) {
    const root = packageRoot();
    const manifest = root === null ? null : readOwnManifest(root);
    if (manifest === null || typeof manifest.version !== 'string')
      throw Object.assign(new Error('package.json of droidway not found'), { code: 'ENOENT' });
    cachedAppInfo = Object.freeze({
      name: typeof manifest.productName === 'string' ? manifest.productName : 'Droidway',
      version: manifest.version,
      platform: process.platform,
    });
  }
  return cachedAppInfo;
}
