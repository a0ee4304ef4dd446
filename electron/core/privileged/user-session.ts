/**
 * Starting a session from whoever runs Droidway: root starts it in-process (the session host
 * then runs as root, as in CI); a desktop user reads its own policy file, then asks the
 * privileged helper (`pkexec`) to start the container as that user's instance, and gets back the
 * same `StartedSession` shape. Everything after the start (status, stop, freeze, verify, guest
 * commands) goes straight to the instance's session host, which answers its owner.
 */
import fs from 'node:fs/promises';
import { POLICY_INVALID, PolicyError } from '../policy/policy-errors.js';
import { MAX_POLICY_TEXT_LENGTH, parsePolicyText } from '../policy/policy-validate.js';
import type { SessionStatus } from '../runtime/session.js';
import { launchDisplayHost } from '../runtime/display-host.js';
import type { CompiledPolicy } from '../policy/policy-compile.js';
import { bridgeConfigFor } from '../session/display.js';
import { DEMO_IMAGE, type StartSessionOptions } from '../session/plan.js';
import { SessionServiceError } from '../session/session-errors.js';
import { sessionPaths } from '../runtime/session-client.js';
import { startSession, type StartedSession } from '../session/start.js';
import type { HelperPolicySource } from './helper-request.js';
import { privilegedRequest, type PrivilegedOptions } from './privileged-client.js';

/** Options of `startSessionAsUser`: the CLI's and the app's start options. */
export type UserStartOptions = StartSessionOptions & { privileged?: PrivilegedOptions };

/** Reads a policy file as this user (size-capped) and validates it. */
async function readPolicyDocument(file: string): Promise<unknown> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (e) {
    throw new SessionServiceError(
      'POLICY_SOURCE_INVALID',
      `policy file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (buf.length > MAX_POLICY_TEXT_LENGTH)
    throw new PolicyError(POLICY_INVALID, [
      { path: '', message: `is larger than ${MAX_POLICY_TEXT_LENGTH} bytes` },
    ]);
  const parsed = parsePolicyText(buf.toString('utf8'));
  if (!parsed.ok) throw new PolicyError(POLICY_INVALID, parsed.issues);
  return JSON.parse(buf.toString('utf8')) as unknown;
}

/**
 * Starts the session of `options.instance` for the calling user (see the module doc). Rejects
 * like `startSession`, plus the helper's `HELPER_MISSING` / `HELPER_REFUSED` (polkit said no).
 */
export async function startSessionAsUser(options: UserStartOptions): Promise<StartedSession> {
  if (process.getuid?.() === 0) return startSession(options);
  const source = options.policy;
  let policy: HelperPolicySource;
  if ('preset' in source) policy = { preset: source.preset };
  else if ('file' in source) policy = { document: await readPolicyDocument(source.file) };
  else policy = { document: JSON.parse(JSON.stringify(source.policy)) as unknown };
  const value = (await privilegedRequest(
    {
      op: 'session-start',
      instance: options.instance ?? 'default',
      image: options.image ?? DEMO_IMAGE,
      policy,
      ...(options.androidTools !== undefined ? { androidTools: options.androidTools } : {}),
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
      ...(options.scale !== undefined ? { scale: options.scale } : {}),
      ...(options.density !== undefined ? { density: options.density } : {}),
      ...(options.multiWindows !== undefined ? { multiWindows: options.multiWindows } : {}),
    },
    options.privileged ?? {},
  )) as {
    status: SessionStatus;
    policyName: string;
    notes: StartedSession['notes'];
    bridgePolicy: StartedSession['bridgePolicy'];
  };
  const paths = sessionPaths(options.instance, options);
  const status = value.status;
  // The bridge is this user's: toward this user's compositor, in this user's display host.
  const bridge = bridgeConfigFor(
    { compiled: { bridge: value.bridgePolicy, notes: value.notes } as CompiledPolicy },
    {
      ...(options.hostDisplay !== undefined ? { hostDisplay: options.hostDisplay } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
    },
  );
  if (bridge.enabled) {
    const shown = await launchDisplayHost({
      instance: paths.name,
      hostSocket: bridge.hostSocket,
      settings: bridge.settings,
      ...(options.env !== undefined ? { env: options.env } : {}),
    });
    if (shown !== null) status.bridge = shown;
  } else if (status.bridge !== undefined) {
    status.bridge = { ...status.bridge, state: 'off', reason: bridge.reason };
  }
  return {
    status,
    policyName: value.policyName,
    notes: value.notes,
    paths,
    bridgePolicy: value.bridgePolicy,
  };
}
