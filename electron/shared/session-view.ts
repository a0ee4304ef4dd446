/** What the Session page shows about the managed instance; crosses IPC as plain data. */

/** The session's lifecycle state (mirrors the runtime's `SessionStateName`). */
export type SessionStateView = 'stopped' | 'starting' | 'running' | 'frozen' | 'stopping' | 'error';

/** Resource use of the session's cgroup, when it runs. */
export interface SessionResources {
  /** Memory charged to the container in bytes, or null when the cgroup does not say. */
  memoryBytes: number | null;
  /** Tasks (processes and threads) in the container, or null when unknown. */
  pids: number | null;
}

/** The Session page's data. */
export interface SessionView {
  instance: string;
  state: SessionStateView;
  /** When the state was entered (ms since the epoch). */
  since: number;
  /** Why the session is in `error`, when it is. */
  detail: string | null;
  /** Image of the running (or last) session, from its record; null when unknown. */
  image: string | null;
  /** Policy the running (or last) session was started with; null when unknown. */
  policyName: string | null;
  resources: SessionResources | null;
  /** Last lines of the instance's console log, oldest first. */
  logTail: string[];
}
