/**
 * The one label rule of the grid, the tray, the CLI and the desktop entries: which of an APK's
 * labels an app is shown by, made fit for a one-line name.
 */

/** Most characters of a label (a desktop entry's `Name`, the grid, the tray). */
export const MAX_LABEL_CHARS = 256;

/**
 * A label made fit for a one-line name: lone surrogates replaced, line breaks and tabs turned
 * into single spaces, bidi overrides and other control characters dropped (a label must not
 * reorder or hide text around it), surrounding whitespace trimmed, capped at `MAX_LABEL_CHARS`.
 */
export function cleanLabel(label: string): string {
  const wellFormed = Buffer.from(label, 'utf8').toString('utf8');
  const clean = wellFormed
    .replace(/[\t\n\r\u2028\u2029]+/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ufeff]/g, '')
    .trim();
  const chars = [...clean];
  return chars.length > MAX_LABEL_CHARS ? chars.slice(0, MAX_LABEL_CHARS).join('') : clean;
}

/**
 * The label to show for an app: the first of the label of `locale` (when given), the default
 * label and the other labels in order that is not blank once cleaned (`cleanLabel`), else the
 * package name.
 */
export function displayLabel(
  labels: Readonly<Record<string, string>>,
  pkg: string,
  locale?: string,
): string {
  const candidates = [
    ...(locale !== undefined && Object.hasOwn(labels, locale) ? [labels[locale]] : []),
    ...(Object.hasOwn(labels, '') ? [labels['']] : []),
    ...Object.values(labels),
  ];
  for (const text of candidates) {
    const clean = cleanLabel(String(text));
    if (clean !== '') return clean;
  }
  return pkg;
}
