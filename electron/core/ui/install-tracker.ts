/**
 * The install queue as the window sees it: one item per dropped file, refused at once when its
 * name is not an APK, else run one at a time through an `Installer` (the install pipeline), with
 * every change emitted as `progress` (the `install:progress` event) and kept for `install:list`.
 */
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import {
  FINAL_INSTALL_STAGES,
  INSTALLABLE_EXTENSIONS,
  isInstallableName,
  type InstallItem,
  type InstallStage,
} from '../../shared/apps.js';

/** What an installer reports while it works. */
export interface InstallContext {
  signal: AbortSignal;
  progress(stage: 'copying' | 'checking' | 'installing', bytes: number, totalBytes: number): void;
}

/** The outcome of one successful install. */
export interface InstallOutcome {
  packageName: string | null;
  /** Plain words for the user (`Installed Demo 1.2`). */
  message: string;
  /** Android's verdict verbatim (`Success`). */
  verdict: string | null;
}

/**
 * Installs one file. Resolves on success; rejects with an error whose `message` is plain words
 * (and, when Android gave one, `verdict` the raw verdict); rejects with `signal.reason` (or any
 * error once `signal.aborted`) when cancelled.
 */
export type Installer = (path: string, context: InstallContext) => Promise<InstallOutcome>;

/** Items kept at most; the oldest finished ones go first. */
const MAX_ITEMS = 200;

interface Entry {
  item: InstallItem;
  path: string;
  controller: AbortController;
}

/** The queue; see the module doc. */
export class InstallTracker extends EventEmitter<{ progress: [InstallItem] }> {
  readonly #installer: Installer;
  readonly #entries: Entry[] = [];
  #nextId = 1;
  #running = false;

  constructor(installer: Installer) {
    super();
    this.#installer = installer;
  }

  /** Queues `paths` and returns their items (refused ones already final). */
  start(paths: readonly string[]): InstallItem[] {
    const added = paths.map((path) => {
      const fileName = basename(path);
      const installable = isInstallableName(fileName);
      const entry: Entry = {
        path,
        controller: new AbortController(),
        item: {
          id: `install-${this.#nextId++}`,
          fileName,
          stage: installable ? 'queued' : 'refused',
          bytes: 0,
          totalBytes: 0,
          packageName: null,
          message: installable
            ? null
            : `Not an Android app: only ${INSTALLABLE_EXTENSIONS.join(', ')} files can be installed.`,
          verdict: null,
        },
      };
      this.#entries.push(entry);
      return entry;
    });
    this.#trim();
    for (const entry of added) this.#emit(entry);
    void this.#drain();
    return added.map((e) => ({ ...e.item }));
  }

  /** Cancels a queued or running item; false when it is unknown or already final. */
  cancel(id: string): boolean {
    const entry = this.#entries.find((e) => e.item.id === id);
    if (entry === undefined || isFinal(entry.item.stage)) return false;
    entry.controller.abort(new Error('cancelled'));
    if (entry.item.stage === 'queued')
      this.#finish(entry, 'cancelled', 'Cancelled before it started.');
    return true;
  }

  /** Every item, oldest first. */
  list(): InstallItem[] {
    return this.#entries.map((e) => ({ ...e.item }));
  }

  async #drain(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const entry = this.#entries.find((e) => e.item.stage === 'queued');
        if (entry === undefined) break;
        await this.#run(entry);
      }
    } finally {
      this.#running = false;
    }
  }

  async #run(entry: Entry): Promise<void> {
    const { signal } = entry.controller;
    const context: InstallContext = {
      signal,
      progress: (stage, bytes, totalBytes) => {
        if (signal.aborted || isFinal(entry.item.stage)) return;
        Object.assign(entry.item, { stage, bytes, totalBytes });
        this.#emit(entry);
      },
    };
    try {
      const outcome = await this.#installer(entry.path, context);
      if (signal.aborted) {
        this.#finish(entry, 'cancelled', 'Cancelled.');
        return;
      }
      entry.item.packageName = outcome.packageName;
      entry.item.verdict = outcome.verdict;
      entry.item.bytes = entry.item.totalBytes;
      this.#finish(entry, 'done', outcome.message);
    } catch (error) {
      if (signal.aborted) {
        this.#finish(entry, 'cancelled', 'Cancelled; nothing was installed.');
        return;
      }
      const e = error as { message?: unknown; verdict?: unknown };
      entry.item.verdict = typeof e.verdict === 'string' ? e.verdict : null;
      this.#finish(
        entry,
        'failed',
        typeof e.message === 'string' && e.message !== '' ? e.message : String(error),
      );
    }
  }

  #finish(entry: Entry, stage: InstallStage, message: string): void {
    if (isFinal(entry.item.stage)) return;
    entry.item.stage = stage;
    entry.item.message = message;
    this.#emit(entry);
  }

  #emit(entry: Entry): void {
    this.emit('progress', { ...entry.item });
  }

  #trim(): void {
    while (this.#entries.length > MAX_ITEMS) {
      const index = this.#entries.findIndex((e) => isFinal(e.item.stage));
      if (index === -1) break;
      this.#entries.splice(index, 1);
    }
  }
}

function isFinal(stage: InstallStage): boolean {
  return FINAL_INSTALL_STAGES.includes(stage);
}
