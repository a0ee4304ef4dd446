import { describe, expect, it } from 'vitest';
import { cleanLabel, displayLabel } from '../../../../electron/core/apps/app-label.js';
import { appEntryText } from '../../../../electron/core/apps/desktop-entry.js';

describe('cleanLabel', () => {
  it('cleans labels: controls and bidi overrides dropped, capped, lone surrogates replaced', () => {
    expect(cleanLabel('  A\u0007B\u202eC  ')).toBe('ABC');
    expect(cleanLabel('a\n\r\tb')).toBe('a b');
    expect(cleanLabel('x'.repeat(1000))).toHaveLength(256);
    expect(cleanLabel('a\ud800b')).toBe('a\ufffdb');
  });
});

describe('displayLabel: the one label rule of the grid, the tray and the desktop entries', () => {
  it('prefers the asked locale, then the default label, then the first', () => {
    const labels = { '': 'Notes', de: 'Notizen', fr: 'Bloc' };
    expect(displayLabel(labels, 'org.ex', 'de')).toBe('Notizen');
    expect(displayLabel(labels, 'org.ex', 'ja')).toBe('Notes');
    expect(displayLabel(labels, 'org.ex')).toBe('Notes');
    expect(displayLabel({ fr: 'Bloc' }, 'org.ex')).toBe('Bloc');
  });

  it('falls back to the package name for a missing or blank label, and trims', () => {
    expect(displayLabel({}, 'org.ex')).toBe('org.ex');
    expect(displayLabel({ '': '  \t' }, 'org.ex')).toBe('org.ex');
    expect(displayLabel({ de: '   ' }, 'org.ex', 'de')).toBe('org.ex');
    expect(displayLabel({ '': '  Notes ' }, 'org.ex')).toBe('Notes');
  });

  it('skips a blank or control-only label for the next one, as the desktop entry does', () => {
    const labels = { '': ' \u0007 ', fr: 'Bloc\u202e' };
    expect(displayLabel(labels, 'org.ex')).toBe('Bloc');
    const entry = appEntryText({
      packageName: 'org.ex',
      labels,
      launcher: ['droidway'],
      hasIcon: false,
      instance: 'default',
    });
    expect(entry).toMatch(/^Name=Bloc$/m);
  });

  it('ignores inherited keys and non-string values from a hostile cache', () => {
    const labels = JSON.parse('{"__proto__": {"": "Evil"}, "": 7}') as Record<string, string>;
    expect(displayLabel(labels, 'org.ex', 'toString')).toBe('7');
    expect(displayLabel({}, 'org.ex', 'constructor')).toBe('org.ex');
  });
});
