/**
 * The install queue, the only one (the CLI's `app install` and the window's `install:*` channels
 * both use it): installs run one after another (the guest's package manager installs one package
 * at a time, and one stream at a time keeps the disk and the attach simple). Each file gets an
 * id; `cancel(id)` stops it wherever it is (queued, copying, checking, streaming); one failure
 * never stops the others. Every file also has an `InstallItem`, what the window shows: its stage,
 * bytes, and the outcome in plain words with Android's verdict.
 *
 * Events: `progress` (`InstallProgress`), `installed` (`InstalledEvent`, after Android accepted
 * a package), `result` (`QueueOutcome`, once per file; `apps/install-refresh.ts` refreshes the
 * catalog on each success), `item` (`InstallItem`, at every change of one), `idle` (nothing left
 * to do).
 */
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import {
  FINAL_INSTALL_STAGES,
  INSTALLABLE_EXTENSIONS,
  isInstallableName,
  type InstallItem,
  type InstallStage as ItemStage,
} from '../../shared/apps.js';
import { toResultError, type ResultError } from '../../shared/result.js';
import {
  installFile,
  type InstallOptions,
  type InstallProgress,
  type InstallResult,
  type InstalledEvent,
} from './install-pipeline.js';

/** How one file ended. */
export type QueueOutcome =
  | { id: string; file: string; ok: true; value: InstallResult }
  | { id: string; file: string; ok: false; error: ResultError };

/** Where installs go: the guest and the staging folder. */
export type InstallTarget = Pick<InstallOptions, 'exec' | 'stagingRoot'>;

/** Options of the queue: those of `installFile` shared by every file. */
export type QueueOptions = Omit<
  InstallOptions,
  'id' | 'signal' | 'onProgress' | 'onInstalled' | 'exec' | 'stagingRoot'
> & {
  /** The installer; default `installFile` (tests pass a fake). */
  install?: typeof installFile;
} & (
    | InstallTarget
    | {
        /**
         * The target of each file, asked when it starts: files queued before a session started
         * install once it runs (or fail with "no session is running").
         */
        target: () => Promise<InstallTarget>;
      }
  );

interface Job {
  id: string;
  file: string;
  controller: AbortController;
  item: InstallItem;
}

/** Typed events of `InstallQueue`. */
export interface InstallQueueEvents {
  progress: [InstallProgress];
  installed: [InstalledEvent];
  result: [QueueOutcome];
  item: [InstallItem];
  idle: [];
}

/** Items kept at most for `list()`; the oldest finished ones go first. */
const MAX_ITEMS = 200;

/** Sequential install queue (see the module doc). */
export class InstallQueue extends EventEmitter<InstallQueueEvents> {
  private readonly pending: Job[] = [];
  private current: Job | null = null;
  private readonly outcomes: QueueOutcome[] = [];
  private readonly items: InstallItem[] = [];
  private counter = 0;
  private readonly options: QueueOptions;

  constructor(options: QueueOptions) {
    super();
    this.options = options;
  }

  /** Queues `file`; resolves nothing, returns its id (`1`, `2` …). */
  add(file: string): string {
    return this.queue(file).id;
  }

  /**
   * Queues `paths` as the window drops them: a name that is not an APK or bundle is refused at
   * once (its item final), the others are queued. Returns their items, in order.
   */
  start(paths: readonly string[]): InstallItem[] {
    const added = paths.map((file) => {
      if (isInstallableName(basename(file))) return this.queue(file).item;
      const item = this.newItem(file, 'refused');
      item.message = `Not an Android app: only ${INSTALLABLE_EXTENSIONS.join(', ')} files can be installed.`;
      this.changed(item);
      return item;
    });
    return added.map((item) => ({ ...item }));
  }

  /** Every file's item still kept, oldest first. */
  list(): InstallItem[] {
    return this.items.map((item) => ({ ...item }));
  }

  /** Cancels the file with `id` (queued or running); false when it is unknown or finished. */
  cancel(id: string): boolean {
    if (this.current?.id === id) {
      this.current.controller.abort();
      return true;
    }
    const i = this.pending.findIndex((j) => j.id === id);
    if (i < 0) return false;
    const [job] = this.pending.splice(i, 1);
    this.finishCancelled(job!);
    if (this.current === null && this.pending.length === 0) this.emit('idle');
    return true;
  }

  /** Cancels everything queued and the running install. */
  cancelAll(): void {
    for (const job of this.pending.splice(0)) this.finishCancelled(job);
    this.current?.controller.abort();
  }

  /** Whether nothing is queued or running. */
  get idle(): boolean {
    return this.current === null && this.pending.length === 0;
  }

  /** Resolves, once the queue is idle, with every outcome so far, in the order files ended. */
  async settled(): Promise<QueueOutcome[]> {
    if (!this.idle) await new Promise<void>((resolve) => this.once('idle', () => resolve()));
    return [...this.outcomes];
  }

  private queue(file: string): Job {
    const item = this.newItem(file, 'queued');
    const job: Job = { id: item.id, file, controller: new AbortController(), item };
    this.pending.push(job);
    this.changed(item);
    if (this.current === null) void this.runNext();
    return job;
  }

  private newItem(file: string, stage: ItemStage): InstallItem {
    const item: InstallItem = {
      id: String(++this.counter),
      fileName: basename(file),
      stage,
      bytes: 0,
      totalBytes: 0,
      packageName: null,
      message: null,
      verdict: null,
    };
    this.items.push(item);
    while (this.items.length > MAX_ITEMS) {
      const index = this.items.findIndex((i) => FINAL_INSTALL_STAGES.includes(i.stage));
      if (index === -1) break;
      this.items.splice(index, 1);
    }
    return item;
  }

  private changed(item: InstallItem): void {
    this.emit('item', { ...item });
  }

  private finish(job: Job, stage: ItemStage, message: string, verdict: string | null): void {
    Object.assign(job.item, { stage, message, verdict });
    this.changed(job.item);
  }

  private finishCancelled(job: Job): void {
    const error = { code: 'CANCELLED', message: 'cancelled' };
    this.emit('progress', {
      id: job.id,
      file: job.file,
      stage: 'cancelled',
      bytes: 0,
      totalBytes: 0,
      error,
    });
    this.finish(job, 'cancelled', 'Cancelled before it started.', null);
    this.record({ id: job.id, file: job.file, ok: false, error });
  }

  private record(outcome: QueueOutcome): void {
    this.outcomes.push(outcome);
    this.emit('result', outcome);
  }

  private onProgress(job: Job, event: InstallProgress): void {
    this.emit('progress', event);
    const { stage } = event;
    if (job.controller.signal.aborted) return;
    if (stage !== 'copying' && stage !== 'checking' && stage !== 'installing') return;
    Object.assign(job.item, { stage, bytes: event.bytes, totalBytes: event.totalBytes });
    this.changed(job.item);
  }

  private async target(): Promise<InstallTarget> {
    const o = this.options;
    return 'target' in o ? o.target() : { exec: o.exec, stagingRoot: o.stagingRoot };
  }

  private async runNext(): Promise<void> {
    const job = this.pending.shift();
    if (job === undefined) {
      this.current = null;
      this.emit('idle');
      return;
    }
    this.current = job;
    const { install = installFile, ...shared } = this.options;
    try {
      const value = await install(job.file, {
        ...shared,
        ...(await this.target()),
        id: job.id,
        signal: job.controller.signal,
        onProgress: (e) => this.onProgress(job, e),
        onInstalled: (e) => this.emit('installed', e),
      });
      const version = value.versionName ?? `version code ${value.versionCode}`;
      Object.assign(job.item, { packageName: value.packageName, bytes: job.item.totalBytes });
      this.finish(job, 'done', `Installed ${value.packageName} ${version}.`, 'Success');
      this.record({ id: job.id, file: job.file, ok: true, value });
    } catch (e) {
      const error = toResultError(e);
      if (job.controller.signal.aborted || error.code === 'CANCELLED') {
        this.finish(job, 'cancelled', 'Cancelled; nothing was installed.', null);
        this.record({
          id: job.id,
          file: job.file,
          ok: false,
          error: { ...error, code: 'CANCELLED' },
        });
      } else {
        this.finish(job, 'failed', sentence(error.message), androidVerdict(e));
        this.record({ id: job.id, file: job.file, ok: false, error });
      }
    }
    await this.runNext();
  }
}

/**
 * Android's verdict as its package manager printed it (`Failure [INSTALL_FAILED_OLDER_SDK: …]`)
 * for an error that carries one of Android's codes, else null.
 */
export function androidVerdict(error: unknown): string | null {
  const e = error as { code?: unknown; guestDetail?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (!/^INSTALL_(FAILED|PARSE_FAILED)_|^DELETE_FAILED_/.test(code)) return null;
  const detail =
    typeof e?.guestDetail === 'string' && e.guestDetail !== '' ? `: ${e.guestDetail}` : '';
  return `Failure [${code}${detail}]`;
}

/**
 * `the file is not an APK` → `The file is not an APK.`; a message that starts with a file's
 * name keeps it as written (`does-not-exist.apk does not exist.`).
 */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return 'The install failed.';
  const firstWord = (t.split(/\s/, 1)[0] ?? '').replace(/[:,;]$/, '');
  const isName = /[./\\]/.test(firstWord.replace(/\.$/, ''));
  const capital = isName ? t : t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
