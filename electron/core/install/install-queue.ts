/**
 * A queue of installs run one after another (the guest's package manager installs one package
 * at a time, and one stream at a time keeps the disk and the attach simple). Each file gets an
 * id; `cancel(id)` stops it wherever it is (queued, copying, checking, streaming); one failure
 * never stops the others.
 *
 * Events: `progress` (`InstallProgress`), `installed` (`InstalledEvent`, after Android accepted
 * a package), `result` (`QueueOutcome`, once per file), `idle` (nothing left to do).
 */
import { EventEmitter } from 'node:events';
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

/** Options of the queue: those of `installFile` shared by every file. */
export type QueueOptions = Omit<InstallOptions, 'id' | 'signal' | 'onProgress' | 'onInstalled'> & {
  /** The installer; default `installFile` (tests pass a fake). */
  install?: typeof installFile;
};

interface Job {
  id: string;
  file: string;
  controller: AbortController;
}

/** Typed events of `InstallQueue`. */
export interface InstallQueueEvents {
  progress: [InstallProgress];
  installed: [InstalledEvent];
  result: [QueueOutcome];
  idle: [];
}

/** Sequential install queue (see the module doc). */
export class InstallQueue extends EventEmitter<InstallQueueEvents> {
  private readonly pending: Job[] = [];
  private current: Job | null = null;
  private readonly outcomes: QueueOutcome[] = [];
  private counter = 0;
  private readonly options: QueueOptions;

  constructor(options: QueueOptions) {
    super();
    this.options = options;
  }

  /** Queues `file`; resolves nothing, returns its id (`1`, `2` …). */
  add(file: string): string {
    const id = String(++this.counter);
    this.pending.push({ id, file, controller: new AbortController() });
    if (this.current === null) void this.runNext();
    return id;
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
    this.record({ id: job.id, file: job.file, ok: false, error });
  }

  private record(outcome: QueueOutcome): void {
    this.outcomes.push(outcome);
    this.emit('result', outcome);
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
        id: job.id,
        signal: job.controller.signal,
        onProgress: (e) => this.emit('progress', e),
        onInstalled: (e) => this.emit('installed', e),
      });
      this.record({ id: job.id, file: job.file, ok: true, value });
    } catch (e) {
      this.record({ id: job.id, file: job.file, ok: false, error: toResultError(e) });
    }
    await this.runNext();
  }
}
