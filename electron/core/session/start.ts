/**
 * Starting a session: under the instance's start lock, plans it (`plan.ts`), warns of a
 * host-equivalent policy, launches the detached session host (which owns the container from then
 * on) with the display bridge's settings (`display.ts`), then writes the session record
 * (`record.ts`). A start that fails releases what the plan mounted.
 */
import { type CompiledPolicy, type CompileNote } from '../policy/policy-compile.js';
import type { ValidatedPolicy } from '../policy/policy-document.js';
import { type InstancePaths } from '../runtime/instance-paths.js';
import { type GuestSocketOwner } from '../runtime/session-bridge.js';
import { sessionPaths } from '../runtime/session-client.js';
import {
  hostSessionHere,
  launchSessionHost,
  type HostedHere,
  type LaunchOptions,
} from '../runtime/session-host-launcher.js';
import type { SessionStatus } from '../runtime/session.js';
import { acquireStartLock } from '../runtime/start-lock.js';
import { bridgeConfigFor } from './display.js';
import type { SessionPlan, StartSessionOptions } from './plan.js';
import { DEMO_IMAGE, planSession, resolveHostScript } from './plan.js';
import { writeSessionRecord, type SessionRecord } from './record.js';

/** What `startSession` returns. */
export interface StartedSession {
  status: SessionStatus;
  policyName: string;
  /** What the policy asks for that this host does not enforce. */
  notes: CompileNote[];
  paths: InstancePaths;
  /** The policy's display bridge settings as compiled (a desktop user's bridge runs with them). */
  bridgePolicy: CompiledPolicy['bridge'];
  /** With `hostHere`: this process hosts the session until `untilDone` resolves. */
  hosted?: HostedHere;
}

/**
 * Starts a session: plans it (see `planSession`), records what the policy promises, and
 * launches the detached session host; resolves once the guest's init runs. Rejects with a
 * `PolicyError` for a refused policy, `SessionServiceError`, the images' `ImageError`
 * (`ANDROID_NOT_READY` before anything is mounted …), or the runtime's `RuntimeError`
 * (`SESSION_ALREADY_RUNNING`, `LXC_START_FAILED` with the host log's tail …). A start that
 * fails leaves nothing mounted. The whole start holds the instance's start lock: a second start
 * of the same instance meanwhile is refused with `SESSION_ALREADY_RUNNING`.
 */
export async function startSession(options: StartSessionOptions): Promise<StartedSession> {
  const lock = await acquireStartLock(sessionPaths(options.instance, options));
  try {
    return await startLocked(options);
  } finally {
    await lock.release();
  }
}

/** The warning a host-equivalent policy gets before its session starts. */
export function hostEquivalentWarning(policy: ValidatedPolicy): string | null {
  if (policy.namespaces.user) return null;
  return `policy ${policy.name} is HOST-EQUIVALENT: it runs the guest without a user namespace, so the guest's root is the host's root and anything that escapes the container owns this machine`;
}

/** Android's system uid and graphics gid: its composer's ids, the bridge socket's client. */
const ANDROID_COMPOSER_IDS = { uid: 1000, gid: 1003 };

/**
 * Who the bridge socket is given to when the caller names nobody: in a user namespace, the
 * guest's compositor client as the host sees it (the demo client runs as guest root; Android's
 * composer as system, group graphics), since the bridge's own uid is nobody to the guest.
 * Undefined without a user namespace (guest root is host root, which reaches any socket).
 */
export function guestCompositorOwner(
  plan: Pick<SessionPlan, 'compiled' | 'image' | 'policy'>,
): GuestSocketOwner | undefined {
  if (!plan.policy.namespaces.user) return undefined;
  const inside = plan.image === null ? { uid: 0, gid: 0 } : ANDROID_COMPOSER_IDS;
  return {
    uid: plan.compiled.rootIds.uid + inside.uid,
    gid: plan.compiled.rootIds.gid + inside.gid,
  };
}

async function startLocked(given: StartSessionOptions): Promise<StartedSession> {
  const plan = await planSession(given);
  const warning = hostEquivalentWarning(plan.policy);
  if (warning !== null) given.onWarning?.(warning);
  const guestOwner = given.bridgeGuestOwner ?? guestCompositorOwner(plan);
  const options: StartSessionOptions = {
    ...given,
    ...(guestOwner !== undefined ? { bridgeGuestOwner: guestOwner } : {}),
  };
  const record: SessionRecord = {
    version: 1,
    instance: plan.paths.name,
    image: plan.image?.name ?? DEMO_IMAGE,
    policyName: plan.policy.name,
    startedAt: new Date().toISOString(),
    expectations: plan.compiled.expectations,
    notes: plan.compiled.notes,
    probe: plan.probe,
    context: plan.context,
  };
  let status: SessionStatus;
  let hosted: HostedHere | undefined;
  try {
    const launch: LaunchOptions = {
      paths: plan.paths,
      lxcConfig: plan.compiled.lxcConfig,
      seccompProfile: plan.compiled.seccompProfile,
      extraMountEntries: plan.extraMountEntries,
      ...(plan.storage !== null ? { storage: plan.storage } : {}),
      hostScript: options.hostScript ?? resolveHostScript(),
      ...(options.userBridge !== undefined
        ? {
            userBridgeFolder: {
              uid: options.userBridge.uid,
              gid: options.bridgeGuestOwner?.gid ?? options.userBridge.gid,
            },
          }
        : {}),
      bridge:
        options.bridgeOff !== undefined
          ? { enabled: false, reason: options.bridgeOff }
          : bridgeConfigFor(plan, options),
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    };
    if (options.hostHere === true) {
      hosted = await hostSessionHere(launch);
      status = hosted.status;
    } else status = await launchSessionHost(launch);
  } catch (e) {
    // A host whose session failed has released the image mounts already; one that never got
    // that far (missing entry script, early exit) leaves them to this process.
    const problems = await plan.release();
    if (problems.length > 0 && e instanceof Error)
      e.message += ` (and releasing the image mounts had problems: ${problems.join('; ')})`;
    throw e;
  }
  // Written once this start owns the instance, so a refused start (another live host) never
  // replaces the running session's record.
  await writeSessionRecord(plan.paths, record);
  return {
    status,
    policyName: plan.policy.name,
    notes: plan.compiled.notes,
    paths: plan.paths,
    bridgePolicy: plan.compiled.bridge,
    ...(hosted !== undefined ? { hosted } : {}),
  };
}
