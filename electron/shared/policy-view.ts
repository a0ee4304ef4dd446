/** Policy editor data that crosses IPC: field errors, the diff, the policy in force, Verify rows. */

/** A problem with one field: JSON Pointer (`/limits/pidsMax`, `''` = the whole document). */
export interface PolicyFieldError {
  path: string;
  message: string;
}

/** Outcome of `policy:validate`. */
export type PolicyCheck = { valid: true } | { valid: false; errors: PolicyFieldError[] };

/** One changed value between two policies, by JSON Pointer; `undefined` sides are absent. */
export interface PolicyChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

/** The instance's stored policy, the one its next start uses. */
export interface PolicyInForce {
  instance: string;
  /** `preset` when nothing was applied yet (the image's default preset), else `applied`. */
  source: 'preset' | 'applied';
  /** The policy document (plain JSON). */
  policy: unknown;
  /** Policy name of the running session, or null when none runs. */
  runningPolicyName: string | null;
  /** Whether the running session runs an older policy than this one (a restart applies it). */
  restartNeeded: boolean;
}

/** One Verify row: what was checked, what the policy promises, what the probe saw. */
export interface PolicyVerifyRow {
  id: string;
  title: string;
  expected: string;
  seen: string;
  pass: boolean;
}

/** Outcome of `policy:verify`. */
export interface PolicyVerifyResult {
  policyName: string;
  pass: boolean;
  rows: PolicyVerifyRow[];
}
