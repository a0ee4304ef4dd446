/**
 * The `doctor` report: whether this machine can run the demo guest and a real Android image, and
 * what to fix. Produced by `electron/core/doctor/`, printed by `droidway doctor`, shown by the
 * renderer. Plain data, so it crosses IPC and JSON unchanged.
 */

/** What a failed check blocks. */
export type DoctorImpact = 'demo' | 'android' | 'optional';

export interface DoctorCheck {
  /** Stable identifier, e.g. `'kernel.namespaces.pid'`, `'lxc.tools'`, `'binder'`. */
  id: string;
  /** Short human title, e.g. `'PID namespace'`. */
  title: string;
  ok: boolean;
  /** What was seen, in words and values (`'cgroup v1 + v2 unified (hybrid)'`, `'lxc 5.0.2'`). */
  seen: string;
  /** What to do when `ok` is false; absent when ok. */
  fix?: string;
  /** A failed `demo` check blocks the demo guest (and Android); `android` blocks only Android. */
  impact: DoctorImpact;
}

export interface DoctorVerdict {
  canRun: boolean;
  /** Ids of the failed checks that block it. */
  blockers: string[];
  summary: string;
}

export interface DoctorReport {
  /** ISO-8601 time the report was made. */
  generatedAt: string;
  host: { kernel: string; arch: string; distro: string; uid: number };
  checks: DoctorCheck[];
  demoGuest: DoctorVerdict;
  android: DoctorVerdict;
}
