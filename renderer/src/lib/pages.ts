/** The pages of the shell, in sidebar order. */

/** Identifier of a page. */
export type PageId = 'apps' | 'session' | 'isolation' | 'shared-memory' | 'settings';

/** Icon names drawn by `Icon.svelte`. */
export type IconName =
  | 'apps'
  | 'session'
  | 'isolation'
  | 'shared-memory'
  | 'settings'
  | 'check'
  | 'cross'
  | 'refresh'
  | 'alert';

/** A sidebar entry. */
export interface PageEntry {
  id: PageId;
  label: string;
  icon: IconName;
}

/** Sidebar entries, in order. */
export const PAGES: readonly PageEntry[] = [
  { id: 'apps', label: 'Apps', icon: 'apps' },
  { id: 'session', label: 'Session', icon: 'session' },
  { id: 'isolation', label: 'Isolation', icon: 'isolation' },
  { id: 'shared-memory', label: 'Shared memory', icon: 'shared-memory' },
  { id: 'settings', label: 'Settings', icon: 'settings' },
];
