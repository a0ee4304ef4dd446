/**
 * The policy editor's core: the instance's stored policy (`applied-policy.json` in its data
 * folder, used by its next start), validation with the core's own schema and rules, a value by
 * value diff, and Verify through the in-container probe.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  PolicyChange,
  PolicyCheck,
  PolicyInForce,
  PolicyVerifyResult,
} from '../../shared/policy-view.js';
import { POLICY_INVALID, PolicyError } from '../policy/policy-errors.js';
import type { ValidatedPolicy } from '../policy/policy-document.js';
import { validatePolicy } from '../policy/policy-validate.js';
import { loadPreset } from '../policy/presets.js';
import { userStateDir, instancePaths, type InstanceRoots } from '../runtime/instance-paths.js';
import { defaultPresetFor } from '../session/plan.js';
import { readSessionRecord } from '../session/record.js';
import { sessionStatus } from '../runtime/session-client.js';
import { verifySession } from '../session/verify.js';

/** File name of the applied policy in the instance's data folder. */
export const APPLIED_POLICY_FILE = 'applied-policy.json';

/** Which instance the editor works on. */
export interface PolicyTarget extends InstanceRoots {
  instance: string;
  /** Image of the instance's sessions; picks the default preset. */
  image: string;
}

/** Checks `doc` with `validatePolicy` and reports the field errors. */
export function checkPolicy(doc: unknown): PolicyCheck {
  const result = validatePolicy(doc);
  return result.ok ? { valid: true } : { valid: false, errors: result.issues };
}

/**
 * The policy the instance's next start uses: the applied one, else the image's default
 * preset. An applied file that no longer validates is reported, never silently replaced.
 */
export async function storedPolicy(
  target: PolicyTarget,
): Promise<{ policy: ValidatedPolicy; source: 'preset' | 'applied' }> {
  const file = join(
    userStateDir(instancePaths(target.instance, target), target),
    APPLIED_POLICY_FILE,
  );
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return { policy: loadPreset(defaultPresetFor(target.image)), source: 'preset' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PolicyError(POLICY_INVALID, [
      { path: '', message: `${file} is not JSON: ${(e as Error).message}` },
    ]);
  }
  const result = validatePolicy(parsed);
  if (!result.ok) throw new PolicyError(POLICY_INVALID, result.issues);
  return { policy: result.policy, source: 'applied' };
}

/** The stored policy with what the running session uses. */
export async function policyInForce(target: PolicyTarget): Promise<PolicyInForce> {
  const { policy, source } = await storedPolicy(target);
  const status = await sessionStatus({ ...target, instance: target.instance });
  let runningPolicyName: string | null = null;
  let restartNeeded = false;
  if (status.state.name === 'running' || status.state.name === 'frozen') {
    const paths = instancePaths(target.instance, target);
    try {
      const record = await readSessionRecord(paths);
      runningPolicyName = record.policyName;
      const started = Date.parse(record.startedAt);
      restartNeeded = source === 'applied' && (await appliedAt(target)) > started;
    } catch {
      runningPolicyName = null;
    }
  }
  return {
    instance: target.instance,
    source,
    policy: JSON.parse(JSON.stringify(policy)) as unknown,
    runningPolicyName,
    restartNeeded,
  };
}

async function appliedAt(target: PolicyTarget): Promise<number> {
  const file = join(
    userStateDir(instancePaths(target.instance, target), target),
    APPLIED_POLICY_FILE,
  );
  try {
    const text = JSON.parse(await readFile(`${file}.meta`, 'utf8')) as { appliedAt?: unknown };
    return typeof text.appliedAt === 'number' ? text.appliedAt : 0;
  } catch {
    return 0;
  }
}

/**
 * Stores `doc` as the instance's policy (written to a temporary file, then renamed, so a crash
 * never leaves half a policy). Throws `PolicyError` (`POLICY_INVALID`, with every field) when
 * it does not validate.
 */
export async function applyPolicy(target: PolicyTarget, doc: unknown): Promise<PolicyInForce> {
  const result = validatePolicy(doc);
  if (!result.ok) throw new PolicyError(POLICY_INVALID, result.issues);
  const dir = userStateDir(instancePaths(target.instance, target), target);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, APPLIED_POLICY_FILE);
  await writeFile(`${file}.tmp`, `${JSON.stringify(result.policy, null, 2)}\n`, { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  await writeFile(`${file}.meta`, JSON.stringify({ appliedAt: Date.now() }), { mode: 0o600 });
  return policyInForce(target);
}

/** Every value that differs between `before` and `after`, by JSON Pointer, in document order. */
export function diffJson(before: unknown, after: unknown, path = ''): PolicyChange[] {
  if (Object.is(before, after)) return [];
  const bothObjects =
    typeof before === 'object' &&
    before !== null &&
    typeof after === 'object' &&
    after !== null &&
    Array.isArray(before) === Array.isArray(after);
  if (!bothObjects) {
    return [
      {
        path,
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
      },
    ];
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    // Lists of names (capabilities, devices, globals) read best as whole values.
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before, after }];
  }
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((key) =>
    diffJson(a[key], b[key], `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`),
  );
}

/** Runs Verify on the instance's running session. */
export async function verifyPolicy(target: PolicyTarget): Promise<PolicyVerifyResult> {
  const verification = await verifySession({ ...target, instance: target.instance });
  return {
    policyName: verification.policyName,
    pass: verification.report.pass,
    rows: verification.report.rows.map((r) => ({
      id: r.id,
      title: r.title,
      expected: r.expected,
      seen: r.seen,
      pass: r.pass,
    })),
  };
}
