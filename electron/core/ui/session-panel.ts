/**
 * The Session page's core: the managed instance's view (state, image, policy, resource use,
 * console tail) and its start/stop/freeze/unfreeze, each announced as `session:changed`.
 */
import { startSessionAsUser } from '../privileged/user-session.js';
import { open } from 'node:fs/promises';
import type { IpcEventSink } from '../../shared/ipc-contract.js';
import type { SessionView } from '../../shared/session-view.js';
import { instancePaths, type InstanceRoots } from '../runtime/instance-paths.js';
import {
  freezeSession,
  sessionStatus,
  stopSession,
  unfreezeSession,
} from '../runtime/session-client.js';
import { readSessionRecord } from '../session/record.js';
import { defaultPresetFor, type ServiceLocations } from '../session/plan.js';
import { rememberStartOptions } from '../apps/last-start.js';
import type { SessionStatus } from '../runtime/session.js';
import { readCgroupUsage } from './cgroup-usage.js';
import { storedPolicy } from './policy-editor.js';

/** Console lines the view carries, at most. */
export const LOG_TAIL_LINES = 40;
/** Bytes read from the end of the console log for the tail. */
const LOG_TAIL_BYTES = 16 * 1024;

/** What the panel works on; `target()` is read on every call (the settings may change). */
export interface SessionPanelOptions {
  target: () => {
    instance: string;
    image: string;
    scale: number;
    /** Settings' Density (0: from the scale) and "Each Android app in a window of its own". */
    density?: number;
    multiWindows?: boolean;
  };
  /** Where instances live and the demo guest is; default the user's. */
  locations?: ServiceLocations;
  emit: IpcEventSink;
}

/** The Session page's operations. */
export interface SessionPanel {
  status(): Promise<SessionView>;
  start(): Promise<SessionView>;
  stop(): Promise<SessionView>;
  freeze(): Promise<SessionView>;
  unfreeze(): Promise<SessionView>;
}

/** Builds the panel over the real session service. */
export function sessionPanel(options: SessionPanelOptions): SessionPanel {
  const locations = options.locations ?? {};
  const ref = () => ({ ...locations, instance: options.target().instance });
  const announce = async (status: SessionStatus): Promise<SessionView> => {
    options.emit('session:changed', { instance: status.instance, state: status.state.name });
    return viewOf(status, locations);
  };
  return {
    status: async () => viewOf(await sessionStatus(ref()), locations),
    async start() {
      const { instance, image, scale, density, multiWindows } = options.target();
      const { policy, source } = await storedPolicy({ ...locations, instance, image });
      options.emit('session:changed', { instance, state: 'starting' });
      try {
        const started = await startSessionAsUser({
          ...locations,
          instance,
          image,
          policy: { policy },
          ...(scale !== 1 ? { scale } : {}),
          ...(density !== undefined && density > 0 ? { density } : {}),
          ...(multiWindows !== undefined ? { multiWindows } : {}),
        });
        // As `droidway session start` does: a launch while stopped (tray, --launch) starts the
        // instance the same way, and the instance picker finds a desktop user's instance by
        // these files (an applied policy is already kept there). Not remembering costs neither.
        if (source === 'preset')
          await rememberStartOptions(ref(), {
            image,
            policy: { preset: defaultPresetFor(image) },
            ...(scale !== 1 ? { scale } : {}),
          }).catch(() => undefined);
        return await announce(started.status);
      } catch (error) {
        await announce(await sessionStatus(ref())).catch(() => undefined);
        throw error;
      }
    },
    async stop() {
      options.emit('session:changed', { instance: options.target().instance, state: 'stopping' });
      return announce(await stopSession(ref()));
    },
    freeze: async () => announce(await freezeSession(ref())),
    unfreeze: async () => announce(await unfreezeSession(ref())),
  };
}

/** The view of `status`: adds the record's image and policy, cgroup use and the console tail. */
async function viewOf(status: SessionStatus, roots: InstanceRoots): Promise<SessionView> {
  const paths = instancePaths(status.instance, roots);
  const record = await readSessionRecord(paths).catch(() => null);
  const live = status.state.name === 'running' || status.state.name === 'frozen';
  return {
    instance: status.instance,
    state: status.state.name,
    since: status.state.since,
    detail: status.state.reason ?? null,
    image: record?.image ?? null,
    policyName: record?.policyName ?? null,
    resources: live && status.initPid !== null ? await readCgroupUsage(status.initPid) : null,
    logTail: await tailLines(paths.consoleLog, LOG_TAIL_LINES),
  };
}

/** `text` without C0 control characters other than tab, and without DEL. */
function stripControls(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) continue;
    out += ch;
  }
  return out;
}

/** The last `count` lines of `file` (its last 16 KiB at most); none when it does not exist. */
export async function tailLines(file: string, count: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split(/\r?\n/);
    if (size > length) lines.shift(); // a partial first line
    if (lines.at(-1) === '') lines.pop();
    // Terminal control sequences from the guest's console are not for the page.
    return lines.slice(-count).map(stripControls);
  } finally {
    await handle.close();
  }
}
