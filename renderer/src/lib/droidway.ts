/**
 * Access to `window.droidway`, the capability API the preload exposes (see
 * `electron/shared/ipc-contract.ts`). Outside the app (a plain browser tab) it is absent, and
 * every call resolves to an `API_UNAVAILABLE` error instead of throwing.
 */
import type { DroidwayApi } from '../../../electron/shared/ipc-contract.js';
import type { Result } from '../../../electron/shared/result.js';

declare global {
  interface Window {
    readonly droidway?: DroidwayApi;
  }
}

const unavailable = <T>(): Promise<Result<T>> =>
  Promise.resolve({
    ok: false,
    error: {
      code: 'API_UNAVAILABLE',
      message: 'The Droidway API is not available: this page must run inside the Droidway app.',
    },
  });

/** The API, or a stand-in whose every call resolves to `API_UNAVAILABLE`. */
export function droidway(): DroidwayApi {
  return (
    window.droidway ?? {
      app: { info: unavailable },
      doctor: { run: unavailable },
      apps: {
        list: unavailable,
        launch: unavailable,
        pin: unavailable,
        unpin: unavailable,
        remove: unavailable,
        info: unavailable,
      },
      install: { start: unavailable, cancel: unavailable, list: unavailable },
      shm: { inspect: unavailable },
      session: {
        status: unavailable,
        start: unavailable,
        stop: unavailable,
        freeze: unavailable,
        unfreeze: unavailable,
      },
      settings: { get: unavailable, choices: unavailable, set: unavailable },
      notices: { pending: unavailable },
      policy: {
        preset: unavailable,
        current: unavailable,
        validate: unavailable,
        diff: unavailable,
        apply: unavailable,
        verify: unavailable,
      },
      on: () => () => undefined,
      files: { pathFor: () => '' },
    }
  );
}
