/**
 * The install queue of the window: the items main reports for the files dropped on it, kept
 * fresh by main's `install:progress` events, and by a slow poll of `install:list` while any
 * item is still moving (an event lost while the window was busy is caught up).
 */
import { droidway } from './droidway.js';
import { FINAL_INSTALL_STAGES, type InstallItem } from '../../../electron/shared/apps.js';

const POLL_MS = 1000;

/** Items, oldest first, and the last error of the queue channels. */
export const installQueue = $state<{ items: InstallItem[]; error: string | null }>({
  items: [],
  error: null,
});

let timer: ReturnType<typeof setTimeout> | null = null;
let localId = 0;
/** Items the user cleared from the view; main still lists them. */
// Bookkeeping, never rendered: a plain Set on purpose.
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const hidden = new Set<string>();
/** Called whenever an install finishes successfully (the Apps page refreshes its list). */
// Bookkeeping, never rendered: a plain Set on purpose.
// eslint-disable-next-line svelte/prefer-svelte-reactivity
const finishedListeners = new Set<() => void>();

/** Whether an item is still queued or running. */
export function isActive(item: InstallItem): boolean {
  return !FINAL_INSTALL_STAGES.includes(item.stage);
}

/** Subscribes to installs that end in `done`; returns the unsubscribe function. */
export function onInstalled(listener: () => void): () => void {
  finishedListeners.add(listener);
  return () => finishedListeners.delete(listener);
}

function merge(next: InstallItem[]): void {
  const before = new Map(installQueue.items.map((i) => [i.id, i.stage]));
  // Items made here (files without a path) are not main's: keep them.
  const local = installQueue.items.filter((i) => i.id.startsWith('local-'));
  installQueue.items = [...local, ...next.filter((i) => !hidden.has(i.id))];
  const newlyDone = next.some((i) => i.stage === 'done' && before.get(i.id) !== 'done');
  if (newlyDone) for (const listener of finishedListeners) listener();
}

/** Applies one `install:progress` event. */
function upsert(item: InstallItem): void {
  if (hidden.has(item.id)) return;
  const index = installQueue.items.findIndex((i) => i.id === item.id);
  const wasDone = index !== -1 && installQueue.items[index]?.stage === 'done';
  if (index === -1) installQueue.items = [...installQueue.items, item];
  else installQueue.items[index] = item;
  if (item.stage === 'done' && !wasDone) for (const listener of finishedListeners) listener();
  if (isActive(item)) schedule();
}

let subscribed = false;

/** Subscribes the queue to main's events (once per window). */
function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  droidway().on('install:progress', upsert);
}

async function poll(): Promise<void> {
  timer = null;
  const result = await droidway().install.list();
  if (result.ok) {
    installQueue.error = null;
    merge(result.value);
  } else {
    installQueue.error = result.error.message;
  }
  if (installQueue.items.some(isActive)) schedule();
}

function schedule(): void {
  if (timer === null) timer = setTimeout(() => void poll(), POLL_MS);
}

/**
 * Queues dropped files. A file without a path on disk (`path === ''`: made by a page, or
 * dragged from an app that shares no file) is refused here, with the reason, since main could
 * not read it anyway.
 */
export async function enqueue(files: { name: string; path: string }[]): Promise<void> {
  const pathless = files.filter((f) => f.path === '');
  installQueue.items = [
    ...installQueue.items,
    ...pathless.map((f): InstallItem => ({
      id: `local-${++localId}`,
      fileName: f.name,
      stage: 'refused',
      bytes: 0,
      totalBytes: 0,
      packageName: null,
      message:
        'This file is not on the disk (it came from another app); save it first, then drop it.',
      verdict: null,
    })),
  ];
  const paths = files.filter((f) => f.path !== '').map((f) => f.path);
  if (paths.length === 0) return;
  subscribe();
  const result = await droidway().install.start(paths);
  if (!result.ok) {
    installQueue.error = result.error.message;
    return;
  }
  installQueue.error = null;
  const known = installQueue.items.map((i) => i.id);
  installQueue.items = [
    ...installQueue.items,
    ...result.value.filter((i) => !known.includes(i.id)),
  ];
  schedule();
}

/** Cancels one item. */
export async function cancel(id: string): Promise<void> {
  const result = await droidway().install.cancel(id);
  if (!result.ok) installQueue.error = result.error.message;
  schedule();
}

/** Loads the queue once (a window opened while installs run picks them up). */
export function refreshQueue(): void {
  subscribe();
  schedule();
}

/** Removes finished items from the view. */
export function clearFinished(): void {
  for (const item of installQueue.items) if (!isActive(item)) hidden.add(item.id);
  installQueue.items = installQueue.items.filter(isActive);
}
