/**
 * The IPC contract: every channel between the renderer and Electron main, its argument tuple and
 * its result type, in one map. Main (`electron/main/ipc.ts`), the preload
 * (`electron/preload/preload.cts`), the core dispatcher (`electron/core/api.ts`) and the renderer
 * all derive their types from it, so a channel cannot change shape on one side only.
 *
 * Every call resolves to a `Result`: the value, or `{ code, message }`.
 */
import type { DoctorReport } from './doctor.js';
import type { Result } from './result.js';
import { expectArgs } from './validate.js';

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
}

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
  });

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

/**
 * What the preload exposes to the renderer as `window.droidway`: capabilities, never a raw IPC
 * handle. Each method maps to one contract channel and resolves to its `Result`; none rejects.
 */
export interface DroidwayApi {
  readonly app: {
    /** `app:info` */
    info(): Promise<Result<AppInfo>>;
  };
  readonly doctor: {
    /** `doctor:run` */
    run(): Promise<Result<DoctorReport>>;
  };
}

/** The property of `window` the preload exposes the API under. */
export const DROIDWAY_API_KEY = 'droidway';
