/**
 * Builders for `DoctorCheck` values, so every check (the doctor's and the host capability checks
 * the image code also runs) states the same fields the same way: a passing check never carries
 * a fix, a failing one always does.
 */
import type { DoctorCheck, DoctorImpact } from '../../shared/doctor.js';

/** Identity of a check: its stable id, title and what a failure blocks. */
export interface CheckIdentity {
  id: string;
  title: string;
  impact: DoctorImpact;
}

/** A passing check with what was seen. */
export function passed(identity: CheckIdentity, seen: string): DoctorCheck {
  return { ...identity, ok: true, seen };
}

/** A failing check with what was seen and what to do about it. */
export function failed(identity: CheckIdentity, seen: string, fix: string): DoctorCheck {
  return { ...identity, ok: false, seen, fix };
}

/** `passed` or `failed` by `ok`; `fix` is used only when failing. */
export function verdict(
  identity: CheckIdentity,
  ok: boolean,
  seen: string,
  fix: string,
): DoctorCheck {
  return ok ? passed(identity, seen) : failed(identity, seen, fix);
}
