/**
 * Renders a `VerifyReport` for people (a fixed-width table) and for programs (`--json`).
 */
import type { VerifyReport } from './verify.js';

/** Widest a column may grow before its text wraps onto continuation lines. */
const MAX_WIDTH = { check: 44, expected: 40, seen: 60 };

/** Splits `text` into lines of at most `width` characters, preferring breaks after spaces/commas. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text.replace(/[\r\n\t]/g, ' ');
  while (rest.length > width) {
    let cut = Math.max(rest.lastIndexOf(' ', width), rest.lastIndexOf(',', width - 1) + 1);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** Strips control characters (the seen values come from inside the guest). */
function clean(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

/**
 * The report as a table: one row per check (`PASS`/`FAIL`, check, expected, seen), long cells
 * wrapped, then a summary line. Control characters in guest-provided values are replaced so
 * they cannot drive the terminal.
 */
export function renderReportTable(report: VerifyReport): string {
  const cells = report.rows.map((r) => ({
    status: r.pass ? 'PASS' : 'FAIL',
    check: wrap(clean(r.title), MAX_WIDTH.check),
    expected: wrap(clean(r.expected), MAX_WIDTH.expected),
    seen: wrap(clean(r.seen), MAX_WIDTH.seen),
  }));
  const width = (key: 'check' | 'expected', header: string) =>
    Math.max(header.length, ...cells.flatMap((c) => c[key].map((l) => l.length)));
  const wc = width('check', 'CHECK');
  const we = width('expected', 'EXPECTED');
  const line = (s: string, c: string, e: string, v: string) =>
    `${s.padEnd(4)}  ${c.padEnd(wc)}  ${e.padEnd(we)}  ${v}`.trimEnd();
  const out = [line('', 'CHECK', 'EXPECTED', 'SEEN')];
  for (const c of cells) {
    const n = Math.max(c.check.length, c.expected.length, c.seen.length);
    for (let i = 0; i < n; i++) {
      out.push(
        line(i === 0 ? c.status : '', c.check[i] ?? '', c.expected[i] ?? '', c.seen[i] ?? ''),
      );
    }
  }
  const failed = report.rows.filter((r) => !r.pass).length;
  out.push('');
  if (report.hostEquivalent)
    out.push('host-equivalent: guest root is host root (no user namespace of its own)');
  out.push(
    failed === 0
      ? `isolation verified: all ${report.rows.length} checks passed`
      : `isolation NOT verified: ${failed} of ${report.rows.length} checks failed`,
  );
  return `${out.join('\n')}\n`;
}

/**
 * The report as JSON (`policy verify --json`): `{ pass, hostEquivalent, rows, observations }`
 * and the policy names in `names` (which policy's promises were checked, and the session's own),
 * indented.
 */
export function reportToJson(
  report: VerifyReport,
  names: { policy?: string; sessionPolicy?: string } = {},
): string {
  return `${JSON.stringify({ ...names, ...report }, null, 2)}\n`;
}
