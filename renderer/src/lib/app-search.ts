/**
 * Searching the app list. Each app gets one search key, built once per listing (its label and
 * package name, normalised): a keystroke then costs one `includes` per app, not two lowercasings.
 */
import type { AppSummary } from '../../../electron/shared/apps.js';

/**
 * Text as the search compares it: NFKC (full-width and compatibility forms fold to their plain
 * ones), lower case, runs of white space as one space, trimmed.
 */
export function normaliseSearchText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * The search keys of `apps`, index for index: label and package name, normalised, joined by a
 * line feed (which no normalised query contains, so no match spans the two).
 */
export function appSearchKeys(apps: readonly AppSummary[]): string[] {
  return apps.map((app) => `${normaliseSearchText(app.label)}\n${app.packageName.toLowerCase()}`);
}

/**
 * The apps whose label or package name contains `query` (normalised); `apps` itself when the
 * query is empty. `keys` are `appSearchKeys(apps)`.
 */
export function filterApps(
  apps: readonly AppSummary[],
  keys: readonly string[],
  query: string,
): readonly AppSummary[] {
  const q = normaliseSearchText(query);
  if (q === '') return apps;
  const out: AppSummary[] = [];
  apps.forEach((app, i) => {
    if (keys[i]?.includes(q)) out.push(app);
  });
  return out;
}
