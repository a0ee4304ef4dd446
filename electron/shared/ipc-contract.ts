/**
 * The IPC contract: every channel between the renderer and Electron main, its argument tuple and
 * its result type, in one map. Main (`electron/main/ipc.ts`), the preload
 * (`electron/preload/preload.cts`), the core dispatcher (`electron/core/api.ts`) and the renderer
 * all derive their types from it, so a channel cannot change shape on one side only.
 *
 * Every call resolves to a `Result`: the value, or `{ code, message }`.
 */
import type { AppDetails, AppsListing, InstallItem } from './apps.js';
import type { DoctorReport } from './doctor.js';
import type { Result } from './result.js';
import type { ShmReport } from './shm.js';
import type {
  PolicyChange,
  PolicyCheck,
  PolicyInForce,
  PolicyVerifyResult,
} from './policy-view.js';
import type { SessionView } from './session-view.js';
import {
  SETTING_KEYS,
  type Notice,
  type SettingChoices,
  type SettingKey,
  type Settings,
} from './settings.js';
import {
  ValidationError,
  expectArgs,
  expectJsonValue,
  expectOneOf,
  expectPackageName,
  expectString,
  MAX_IPC_STRING_LENGTH,
} from './validate.js';

/** What `app:info` reports about the running application. */
export interface AppInfo {
  /** Product name, e.g. `'Droidway'`. */
  name: string;
  /** Semantic version from package.json, e.g. `'0.1.0'`. */
  version: string;
  /** `process.platform` of the main process, e.g. `'linux'`. */
  platform: string;
}

/** Channel → argument tuple and result value. Channel names are `namespace:verb`. */
export interface IpcContract {
  /** Name, version and platform of the app. */
  'app:info': { args: []; result: AppInfo };
  /** Runs every host check and returns the report (a few seconds at most). */
  'doctor:run': { args: []; result: DoctorReport };
  /** The installed apps of the session, with labels and icons. */
  'apps:list': { args: []; result: AppsListing };
  /** Starts an app's launcher activity (starting the session first when it is stopped). */
  'apps:launch': { args: [packageName: string]; result: null };
  /** Pins an app to the tray menu. */
  'apps:pin': { args: [packageName: string]; result: null };
  /** Unpins an app from the tray menu. */
  'apps:unpin': { args: [packageName: string]; result: null };
  /** Uninstalls an app from the guest and removes its desktop entry. */
  'apps:remove': { args: [packageName: string]; result: null };
  /** Version, permissions and signer of an installed app. */
  'apps:info': { args: [packageName: string]; result: AppDetails };
  /** Queues files for install; each gets an item, refused at once when it is not an APK. */
  'install:start': { args: [paths: string[]]; result: InstallItem[] };
  /** Cancels a queued or running install; false when it had already finished. */
  'install:cancel': { args: [id: string]; result: boolean };
  /** Every item of the install queue, newest last. */
  'install:list': { args: []; result: InstallItem[] };
  /** The shared-memory regions of the session's processes and the bridge's counters. */
  'shm:inspect': { args: []; result: ShmReport };
  /** The managed instance's state, image, policy, resource use and console log tail. */
  'session:status': { args: []; result: SessionView };
  /** Starts the session with the instance's policy; resolves once the guest's init runs. */
  'session:start': { args: []; result: SessionView };
  /** Stops the session and waits until its host has cleaned up. */
  'session:stop': { args: []; result: SessionView };
  /** Freezes every process of the session (cgroup freezer). */
  'session:freeze': { args: []; result: SessionView };
  /** Thaws a frozen session. */
  'session:unfreeze': { args: []; result: SessionView };
  /** Every setting with its value. */
  'settings:get': { args: []; result: Settings };
  /** The choices of the image and preset pickers (images found on this machine, presets). */
  'settings:choices': { args: []; result: SettingChoices };
  /** Sets one setting (checked against the settings schema); resolves with all settings. */
  'settings:set': { args: [key: SettingKey, value: unknown]; result: Settings };
  /** Notices raised before the page subscribed (e.g. a settings file that was reset). */
  'notices:pending': { args: []; result: Notice[] };
  /** A preset policy document by name (`android`, `strict`). */
  'policy:preset': { args: [name: string]; result: unknown };
  /** The instance's stored policy (used at its next start) and whether a restart would apply it. */
  'policy:current': { args: []; result: PolicyInForce };
  /** Checks a policy document with the core's schema and rules; field errors by JSON Pointer. */
  'policy:validate': { args: [policy: unknown]; result: PolicyCheck };
  /** What changes from the stored policy to `policy`, value by value. */
  'policy:diff': { args: [policy: unknown]; result: PolicyChange[] };
  /** Stores `policy` as the instance's policy (refused with field errors when invalid). */
  'policy:apply': { args: [policy: unknown]; result: PolicyInForce };
  /** Runs the isolation probe in the running session: each check, expected, seen, pass. */
  'policy:verify': { args: []; result: PolicyVerifyResult };
}

/**
 * Events main pushes to every app window: small invalidations (re-query with a channel) or a
 * payload that is cheap to send whole.
 */
export interface IpcEvents {
  /** The session changed state. */
  'session:changed': { instance: string; state: SessionView['state'] };
  /** The installed apps changed; re-query `apps:list`. */
  'apps:changed': null;
  /** An install item changed (queued, progressing, done, failed). */
  'install:progress': InstallItem;
  /** Settings changed (from any window, or the tray). */
  'settings:changed': Settings;
  /** Something the user should know. */
  notice: Notice;
}

/** An event name. */
export type IpcEvent = keyof IpcEvents;
/** The payload of event `E`. */
export type IpcEventPayload<E extends IpcEvent> = IpcEvents[E];
/** Sends one event to every app window (main), or to every page (the e2e host). */
export type IpcEventSink = <E extends IpcEvent>(event: E, payload: IpcEventPayload<E>) => void;

/** Every event name; the preload refuses to subscribe to anything else. */
export const IPC_EVENTS: readonly IpcEvent[] = Object.freeze([
  'session:changed',
  'apps:changed',
  'install:progress',
  'settings:changed',
  'notice',
] as const satisfies readonly IpcEvent[]);

/** Limits of a policy document received over IPC (a policy is a few hundred values). */
export const POLICY_JSON_LIMITS = Object.freeze({ maxDepth: 12, maxNodes: 20_000 });

/** A channel name of the contract. */
export type IpcChannel = keyof IpcContract;
/** The argument tuple of channel `C`. */
export type IpcArgs<C extends IpcChannel> = IpcContract[C]['args'];
/** The value channel `C` resolves to on success. */
export type IpcValue<C extends IpcChannel> = IpcContract[C]['result'];

/**
 * For each channel, the validator that turns the raw argument list received over IPC into the
 * typed tuple, or throws a `ValidationError` (`'IPC_BAD_ARGS'`). Exhaustive by type: a channel
 * added to `IpcContract` without a validator does not compile.
 */
export const IPC_ARG_VALIDATORS: { readonly [C in IpcChannel]: (args: unknown) => IpcArgs<C> } =
  Object.freeze({
    'app:info': (args: unknown): [] => {
      expectArgs(args, 0);
      return [];
    },
    'doctor:run': (args: unknown): [] => {
      expectArgs(args, 0);
      return [];
    },
    'apps:list': noArgs,
    'apps:launch': onePackage,
    'apps:pin': onePackage,
    'apps:unpin': onePackage,
    'apps:remove': onePackage,
    'apps:info': onePackage,
    'install:start': (args: unknown): [string[]] => {
      const [paths] = expectArgs(args, 1);
      return [expectPathList(paths, 'paths')];
    },
    'install:cancel': (args: unknown): [string] => {
      const [id] = expectArgs(args, 1);
      return [
        expectString(id, 'id', {
          minLength: 1,
          maxLength: 64,
          pattern: /^[a-z0-9-]+$/,
          patternName: 'an install id',
        }),
      ];
    },
    'install:list': noArgs,
    'shm:inspect': noArgs,
    'session:status': noArgs,
    'session:start': noArgs,
    'session:stop': noArgs,
    'session:freeze': noArgs,
    'session:unfreeze': noArgs,
    'settings:get': noArgs,
    'settings:choices': noArgs,
    'settings:set': (args: unknown): [SettingKey, unknown] => {
      const [key, value] = expectArgs(args, 2);
      const name = expectOneOf(key, 'key', SETTING_KEYS);
      // Every setting is a scalar; the core checks it against the schema.
      if (!['string', 'number', 'boolean'].includes(typeof value)) {
        throw new ValidationError('value must be a string, number or boolean');
      }
      if (typeof value === 'string') {
        expectString(value, 'value', { maxLength: MAX_IPC_STRING_LENGTH });
      }
      return [name, value];
    },
    'notices:pending': noArgs,
    'policy:preset': (args: unknown): [string] => {
      const [name] = expectArgs(args, 1);
      return [
        expectString(name, 'name', {
          minLength: 1,
          maxLength: 32,
          pattern: /^[a-z0-9-]+$/,
          patternName: 'a preset name',
        }),
      ];
    },
    'policy:current': noArgs,
    'policy:validate': onePolicy,
    'policy:diff': onePolicy,
    'policy:apply': onePolicy,
    'policy:verify': noArgs,
  });

function onePolicy(args: unknown): [unknown] {
  const [policy] = expectArgs(args, 1);
  return [expectJsonValue(policy, 'policy', POLICY_JSON_LIMITS)];
}

function noArgs(args: unknown): [] {
  expectArgs(args, 0);
  return [];
}

function onePackage(args: unknown): [string] {
  const [name] = expectArgs(args, 1);
  return [expectPackageName(name, 'packageName')];
}

/** Files dropped at once, at most. */
export const MAX_INSTALL_PATHS = 64;

/** A list of 1–64 absolute paths, each a checked string. */
function expectPathList(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new ValidationError(`${name} must be an array`);
  if (value.length < 1 || value.length > MAX_INSTALL_PATHS) {
    throw new ValidationError(`${name} must hold 1 to ${MAX_INSTALL_PATHS} paths`);
  }
  return value.map((entry: unknown, i) =>
    expectString(entry, `${name}[${i}]`, {
      minLength: 2,
      maxLength: MAX_IPC_STRING_LENGTH,
      pattern: /^\//,
      patternName: 'an absolute path',
    }),
  );
}

/** Every channel of the contract. */
export const IPC_CHANNELS: readonly IpcChannel[] = Object.freeze(
  Object.keys(IPC_ARG_VALIDATORS) as IpcChannel[],
);

/** Error code of a call on a channel that is not in the contract. */
export const UNKNOWN_CHANNEL_CODE = 'IPC_UNKNOWN_CHANNEL';

/** Whether `value` names a channel of the contract (own keys only: `'toString'` is not one). */
export function isIpcChannel(value: unknown): value is IpcChannel {
  return typeof value === 'string' && Object.hasOwn(IPC_ARG_VALIDATORS, value);
}

/** The namespace of a channel name: `apps` of `apps:launch`. */
type NamespaceOf<C extends string> = C extends `${infer N}:${string}` ? N : never;
/** The verbs of namespace `N`: `launch`, `pin` … of `apps`. */
type VerbOf<N extends string, C extends string = IpcChannel> = C extends `${N}:${infer V}`
  ? V
  : never;

/** The capability that calls channel `C`: its arguments in, its `Result` out; it never rejects. */
export type IpcMethod<C extends IpcChannel> = (...args: IpcArgs<C>) => Promise<Result<IpcValue<C>>>;

/** Every channel of the contract as a method: `apps:launch` is `apps.launch(packageName)`. */
export type IpcMethods = {
  readonly [N in NamespaceOf<IpcChannel>]: {
    [V in VerbOf<N>]: `${N}:${V}` extends IpcChannel ? IpcMethod<`${N}:${V}`> : never;
  };
};

/**
 * What the preload exposes to the renderer as `window.droidway`: capabilities, never a raw IPC
 * handle. The channels' methods are derived from the contract (`IpcMethods`); `settings.set`
 * narrows the value's type by the key, and two members are not channels.
 */
export interface DroidwayApi extends Omit<IpcMethods, 'settings'> {
  readonly settings: Omit<IpcMethods['settings'], 'set'> & {
    /** `settings:set`, with the value's type following the key. */
    set<K extends SettingKey>(key: K, value: Settings[K]): Promise<Result<Settings>>;
  };
  /**
   * Subscribes to a main → renderer event; returns the function that unsubscribes. An unknown
   * event name throws.
   */
  on<E extends IpcEvent>(event: E, listener: (payload: IpcEventPayload<E>) => void): () => void;
  readonly files: {
    /**
     * The path of a dropped or picked `File` (Electron's `webUtils.getPathForFile`); `''` when
     * it has none (a file made in the page).
     */
    pathFor(file: File): string;
  };
}

/** The property of `window` the preload exposes the API under. */
export const DROIDWAY_API_KEY = 'droidway';
