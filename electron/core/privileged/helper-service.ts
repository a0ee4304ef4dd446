/**
 * What the privileged helper does for one validated request, as root, on behalf of `caller`.
 *
 * - `session-start`: the instance is the caller's (its folders and container name carry the
 *   caller's uid, see `runtime/instance-paths.ts`); the policy is a preset or a document this
 *   code validates and compiles itself; shared folders and the stand-in tools folder must be
 *   readable by the caller (checked by running `test` as the caller, with its groups), so a user
 *   cannot make root read what the user could not. The session host started here answers only the
 *   caller (and root) on its control socket and fd channel. The display bridge is not started
 *   here: it runs on the caller's side, as the caller, toward the caller's compositor.
 * - `session-stop`: stops the caller's session; other users' instances are not addressable.
 *
 * It never reads APK content or Wayland traffic: installs reach the guest through the session
 * host's fd channel, whose bytes the host never reads.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import { PolicyError, POLICY_INVALID } from '../policy/policy-errors.js';
import { validatePolicy } from '../policy/policy-validate.js';
import { RuntimeError } from '../runtime/runtime-errors.js';
import { DEMO_IMAGE, type PolicySource, type ServiceLocations } from '../session/plan.js';
import { sessionPaths, stopSession } from '../runtime/session-client.js';
import { startSession } from '../session/start.js';
import type { HostedHere } from '../runtime/session-host-launcher.js';
import type { HelperRequest } from './helper-request.js';

const execFileAsync = promisify(execFile);

/** Who asked (from `pkexec`'s `PKEXEC_UID`, or this process when the caller is root). */
export interface HelperCaller {
  uid: number;
  gid: number;
}

/** A refusal of the helper itself (what the caller asked for is not allowed). */
export class HelperRefusal extends Error {
  readonly code: 'HELPER_PATH_REFUSED' | 'HELPER_IMAGE_REFUSED';
  constructor(code: HelperRefusal['code'], message: string) {
    super(message);
    this.name = 'HelperRefusal';
    this.code = code;
  }
}

/** Why the bridge is not in the root host of a desktop user's session. */
export const USER_SIDE_BRIDGE =
  "the display bridge runs on the desktop user's side (droidway session start starts it)";

/**
 * Null when `caller` can read and enter folder `dir`, else why not. Runs `test -d -r -x` as the
 * caller with its supplementary groups (`setpriv`), so permissions, groups and ACLs count as the
 * kernel would count them for that user.
 */
export async function callerCanReadFolder(
  caller: HelperCaller,
  dir: string,
): Promise<string | null> {
  if (caller.uid === 0) return null;
  const testAs = (groups: '--init-groups' | '--clear-groups'): Promise<unknown> =>
    execFileAsync(
      'setpriv',
      [
        `--reuid=${caller.uid}`,
        `--regid=${caller.gid}`,
        groups,
        '--',
        'test',
        '-d',
        dir,
        '-a',
        '-r',
        dir,
        '-a',
        '-x',
        dir,
      ],
      { timeout: 10_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
  const refusal = `${dir} is not a folder you can read`;
  try {
    await testAs('--init-groups');
    return null;
  } catch (e) {
    if ((e as { code?: unknown }).code === 1) return refusal;
    // --init-groups needs a passwd entry for the uid; without one, test without groups.
    return testAs('--clear-groups').then(
      () => null,
      () => refusal,
    );
  }
}

/** Creates the root-owned parents of a desktop user's instance folders. */
async function prepareOwnerRoots(caller: HelperCaller): Promise<void> {
  if (caller.uid === 0) return;
  const paths = sessionPaths('default', { owner: caller.uid });
  const dataRoot = paths.dataDir.slice(0, paths.dataDir.lastIndexOf('/'));
  const runtimeRoot = paths.runtimeDir.slice(0, paths.runtimeDir.lastIndexOf('/'));
  // Data: root-only; runtime: traversable (LXC and the owner reach the control folder, which is
  // the owner's own 0700 folder), not listable, so other users cannot see which instances exist.
  await fs.mkdir(dataRoot, { recursive: true, mode: 0o700 });
  await fs.chmod(dataRoot, 0o700);
  await fs.mkdir(runtimeRoot, { recursive: true, mode: 0o711 });
  await fs.chmod(runtimeRoot, 0o711);
  await fs.chmod(runtimeRoot.slice(0, runtimeRoot.lastIndexOf('/')), 0o711);
}

/** How the helper process runs a request (see `helper-main.ts`). */
export interface HelperHandling {
  /**
   * Host a started session in this process (the pkexec'd helper goes on as its session host);
   * `onHosted` is then given the session to host once the answer is known.
   */
  hostHere?: boolean;
  onHosted?: (hosted: HostedHere) => void;
}

/** Runs one validated request for `caller`; resolves with the answer's value. */
export async function handleHelperRequest(
  request: HelperRequest,
  caller: HelperCaller,
  locations: ServiceLocations = {},
  handling: HelperHandling = {},
): Promise<unknown> {
  const where = { ...locations, owner: caller.uid };
  switch (request.op) {
    case 'session-start': {
      if (request.image !== DEMO_IMAGE && caller.uid !== 0 && request.image.includes('/'))
        throw new HelperRefusal('HELPER_IMAGE_REFUSED', 'images are named, not given as paths');
      let policy: PolicySource;
      if ('preset' in request.policy) {
        policy = { preset: request.policy.preset };
      } else {
        const checked = validatePolicy(request.policy.document);
        if (!checked.ok) throw new PolicyError(POLICY_INVALID, checked.issues);
        policy = { policy: checked.policy };
      }
      if (request.androidTools !== undefined) {
        const refusal = await callerCanReadFolder(caller, request.androidTools);
        if (refusal !== null) throw new HelperRefusal('HELPER_PATH_REFUSED', refusal);
      }
      await prepareOwnerRoots(caller);
      const started = await startSession({
        ...where,
        ...(handling.hostHere === true ? { hostHere: true } : {}),
        instance: request.instance,
        image: request.image,
        policy,
        ...(request.androidTools !== undefined ? { androidTools: request.androidTools } : {}),
        ...(request.readyTimeoutMs !== undefined ? { readyTimeoutMs: request.readyTimeoutMs } : {}),
        ...(request.scale !== undefined ? { scale: request.scale } : {}),
        ...(request.density !== undefined ? { density: request.density } : {}),
        ...(request.multiWindows !== undefined ? { multiWindows: request.multiWindows } : {}),
        ...(caller.uid !== 0
          ? { bridgeOff: USER_SIDE_BRIDGE, userBridge: { uid: caller.uid, gid: caller.gid } }
          : {}),
      });
      if (started.hosted !== undefined) handling.onHosted?.(started.hosted);
      return {
        status: started.status,
        policyName: started.policyName,
        notes: started.notes,
        bridgePolicy: started.bridgePolicy,
      };
    }
    case 'session-stop': {
      try {
        return await stopSession({ ...where, instance: request.instance }, request.timeoutSeconds);
      } catch (e) {
        if ((e as { code?: unknown }).code === 'SESSION_NOT_RUNNING') throw e;
        throw e instanceof Error ? e : new RuntimeError('CONTROL_UNAVAILABLE', String(e));
      }
    }
  }
}
