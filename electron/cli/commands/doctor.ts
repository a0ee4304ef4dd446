/**
 * `droidway doctor [--json]`: runs the doctor checks and prints a table (or the report as JSON).
 * Exits 0 when the demo guest can run, 1 when it cannot.
 */
import type { Command } from 'commander';
import { runDoctor } from '../../core/doctor/index.js';
import type { DoctorCheck, DoctorReport, DoctorVerdict } from '../../shared/doctor.js';
import { CliExit, EXIT_NEGATIVE, outputOf } from '../cli-io.js';

/** What the command calls; tests pass a fake. */
export interface DoctorCommandDeps {
  runDoctor: () => Promise<DoctorReport>;
}

const IMPACT_TEXT: Record<DoctorCheck['impact'], string> = {
  demo: 'blocks the demo guest and Android',
  android: 'blocks Android',
  optional: 'optional',
};

function verdictLine(verdict: DoctorVerdict): string {
  return `${verdict.canRun ? '✔' : '✘'} ${verdict.summary}`;
}

/**
 * The report as a table a person reads: one line per check (✔/✘, title, what was seen), the
 * impact and fix indented under each failure, then the two verdicts.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = [
    `Droidway doctor — ${report.host.distro}, Linux ${report.host.kernel} ${report.host.arch}, uid ${report.host.uid}`,
    '',
  ];
  for (const check of report.checks) {
    lines.push(`  ${check.ok ? '✔' : '✘'} ${check.title.padEnd(width)}  ${check.seen}`);
    if (!check.ok) {
      lines.push(`      ${IMPACT_TEXT[check.impact]} — fix: ${check.fix ?? 'no fix known'}`);
    }
  }
  lines.push('', verdictLine(report.demoGuest), verdictLine(report.android), '');
  return lines.join('\n');
}

/** Adds `doctor` to `program`. `deps` defaults to the real doctor. */
export function register(
  program: Command,
  deps: DoctorCommandDeps = { runDoctor: () => runDoctor() },
): void {
  program
    .command('doctor')
    .description('check whether this machine can run the demo guest and Android, and what to fix')
    .option('--json', 'print the report as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const report = await deps.runDoctor();
      const { out } = outputOf(command);
      out(
        options.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report),
      );
      if (!report.demoGuest.canRun) throw new CliExit(EXIT_NEGATIVE);
    });
}
