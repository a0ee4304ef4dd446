/**
 * The core side of the IPC contract, free of Electron: one handler per channel, calling the real
 * core services, and `dispatch`, which validates a raw call and wraps its outcome in a `Result`.
 * Electron main's IPC wrapper (`electron/main/ipc.ts`) and the e2e test host
 * (`tests/e2e/test-host.ts`) both go through `dispatch`, so what the tests exercise is what the
 * app runs; only the sender check is Electron's own.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDoctor } from './doctor/index.js';
import type { DoctorReport } from '../shared/doctor.js';
import {
  IPC_ARG_VALIDATORS,
  UNKNOWN_CHANNEL_CODE,
  isIpcChannel,
  type AppInfo,
  type IpcArgs,
  type IpcChannel,
  type IpcValue,
} from '../shared/ipc-contract.js';
import { err, settle, type Result } from '../shared/result.js';

/** One async handler per contract channel, taking the validated argument tuple. */
export type CoreApi = {
  readonly [C in IpcChannel]: (...args: IpcArgs<C>) => Promise<IpcValue<C>>;
};

/** The services the handlers call; each defaults to the real one. */
export interface CoreServices {
  runDoctor: () => Promise<DoctorReport>;
  appInfo: () => AppInfo;
}

/**
 * Builds the handlers for every channel. `overrides` replaces individual services (unit tests of
 * the dispatch branches); the app and the e2e host pass nothing and get the real ones.
 */
export function createCoreApi(overrides: Partial<CoreServices> = {}): CoreApi {
  const services: CoreServices = { runDoctor, appInfo: readAppInfo, ...overrides };
  return Object.freeze({
    'app:info': async () => services.appInfo(),
    'doctor:run': async () => services.runDoctor(),
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
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      const manifest = readManifest(join(dir, 'package.json'));
      if (manifest !== null) {
        cachedAppInfo = Object.freeze({
          name: manifest.productName ?? 'Droidway',
          version: manifest.version,
          platform: process.platform,
        });
        break;
      }
      const parent = dirname(dir);
      if (parent === dir)
        throw Object.assign(new Error('package.json of droidway not found'), { code: 'ENOENT' });
      dir = parent;
    }
  }
  return cachedAppInfo;
}

function readManifest(path: string): { version: string; productName?: string } | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const parsed = JSON.parse(text) as { name?: unknown; version?: unknown; productName?: unknown };
  if (parsed.name !== 'droidway' || typeof parsed.version !== 'string') return null;
  return {
    version: parsed.version,
    ...(typeof parsed.productName === 'string' ? { productName: parsed.productName } : {}),
  };
}
