import { describe, expect, it } from 'vitest';
import {
  appSearchKeys,
  filterApps,
  normaliseSearchText,
} from '../../../../../renderer/src/lib/app-search.js';
import type { AppSummary } from '../../../../../electron/shared/apps.js';

function app(packageName: string, label: string): AppSummary {
  return {
    packageName,
    label,
    versionName: '1.0',
    versionCode: 1,
    iconDataUrl: null,
    launchable: true,
    pinned: false,
  };
}

const apps = [
  app('org.example.maps', 'Maps'),
  app('com.example.notes', 'Quick  Notes'),
  app('jp.example.app', '日本語アプリ'),
  app('org.example.wide', 'ＷＩＤＥ Calc'),
];
const keys = appSearchKeys(apps);
const names = (query: string): string[] => filterApps(apps, keys, query).map((a) => a.packageName);

describe('app search', () => {
  it('matches the label or the package name, whatever the case', () => {
    expect(names('MAPS')).toEqual(['org.example.maps']);
    expect(names('com.example')).toEqual(['com.example.notes']);
    expect(names('example')).toHaveLength(4);
  });

  it('folds full-width letters and runs of white space, and trims the query', () => {
    expect(names('wide')).toEqual(['org.example.wide']);
    expect(names('ｗｉｄｅ')).toEqual(['org.example.wide']);
    expect(names('  quick notes ')).toEqual(['com.example.notes']);
    expect(names('日本')).toEqual(['jp.example.app']);
  });

  it('returns the list itself for an empty query, and nothing for no match', () => {
    expect(filterApps(apps, keys, '   ')).toBe(apps);
    expect(names('zz')).toEqual([]);
  });

  it('never matches across the label and the package name', () => {
    // "Maps" then "org.example.maps": no query spans the two.
    expect(names('maps org')).toEqual([]);
    expect(names('maps\norg')).toEqual([]);
  });

  it('keeps odd input harmless: regex characters, lone surrogates, long queries', () => {
    expect(names('.*')).toEqual([]);
    expect(names('\ud800')).toEqual([]);
    expect(names('a'.repeat(10_000))).toEqual([]);
    expect(normaliseSearchText('Ａ\u3000\tB')).toBe('a b');
  });
});
