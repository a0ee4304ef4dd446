/**
 * The one place a finished install reaches the apps: each file the install queue installed
 * refreshes the catalog once, which (when it keeps them) writes the app's desktop entry and
 * icons. The CLI's `app install` and the core API behind Electron main both link their queue
 * here; the API then tells the window and the tray (`apps:changed`).
 */
import type { InstallQueue, QueueOutcome } from '../install/install-queue.js';
import type { AppCatalog } from './catalog.js';

/** A link made by `refreshOnInstall`. */
export interface InstallRefresh {
  /** Resolves once every refresh started so far has ended (the CLI waits before it exits). */
  settled(): Promise<void>;
  /** Stops listening to the queue. */
  dispose(): void;
}

/** Options of `refreshOnInstall`. */
export interface InstallRefreshOptions {
  /**
   * Called after each refresh a finished install started, with its error if it failed (the
   * session stopped meanwhile …): the install itself succeeded either way.
   */
  onRefreshed?: (error: Error | null) => void;
}

/**
 * Refreshes `catalog()` (asked at each install: the current instance's) once per file `queue`
 * installed; failed and cancelled files refresh nothing. With no catalog (null), `onRefreshed`
 * is still told, so the window re-reads its list.
 */
export function refreshOnInstall(
  queue: Pick<InstallQueue, 'on' | 'off'>,
  catalog: () => AppCatalog | null,
  options: InstallRefreshOptions = {},
): InstallRefresh {
  const running = new Set<Promise<void>>();
  const onResult = (outcome: QueueOutcome): void => {
    if (!outcome.ok) return;
    const current = catalog();
    const done = (current === null ? Promise.resolve() : current.refresh())
      .then(
        () => options.onRefreshed?.(null),
        (e: unknown) => options.onRefreshed?.(e instanceof Error ? e : new Error(String(e))),
      )
      .catch(() => undefined);
    running.add(done);
    void done.finally(() => running.delete(done));
  };
  queue.on('result', onResult);
  return {
    settled: async () => {
      while (running.size > 0) await Promise.all(running);
    },
    dispose: () => queue.off('result', onResult),
  };
}
