/**
 * The session state machine, kept free of I/O so every transition is unit-tested:
 *
 *     stopped ─► starting ─► running ⇄ frozen
 *        ▲           │          │        │
 *        │           ▼          ▼        ▼
 *        └──────── stopping ◄───┴────────┘          any live state ─► error(reason)
 *
 * `running`/`frozen` → `stopped` directly is a guest that shut itself down cleanly; `error` is
 * terminal until the next start. Listeners hear every change, in order.
 */
import { EventEmitter } from 'node:events';
import { RuntimeError } from './runtime-errors.js';

/** States of a session. */
export type SessionStateName = 'stopped' | 'starting' | 'running' | 'frozen' | 'stopping' | 'error';

/** A state with what a reader needs to know about it. */
export interface SessionState {
  name: SessionStateName;
  /** Why the session is in `error` (or why it stopped, when the guest ended it). */
  reason?: string;
  /** Error code of an `error` state (`LXC_START_FAILED`, `CONTAINER_DIED` …). */
  code?: string;
  /** Milliseconds since the epoch when this state was entered. */
  since: number;
}

/** Allowed transitions: from → the states it may go to. */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStateName, readonly SessionStateName[]>> =
  {
    stopped: ['starting'],
    starting: ['running', 'stopping', 'error'],
    running: ['frozen', 'stopping', 'stopped', 'error'],
    frozen: ['running', 'stopping', 'stopped', 'error'],
    stopping: ['stopped', 'error'],
    error: ['starting'],
  };

/** Whether `from` → `to` is allowed. */
export function canTransition(from: SessionStateName, to: SessionStateName): boolean {
  return SESSION_TRANSITIONS[from].includes(to);
}

/** A state change as listeners receive it. */
export interface SessionStateChange {
  from: SessionState;
  to: SessionState;
}

/** Holds the current state and enforces `SESSION_TRANSITIONS`; emits `'change'`. */
export class SessionStateMachine extends EventEmitter<{ change: [SessionStateChange] }> {
  #state: SessionState;

  /** Starts in `stopped` unless told otherwise. */
  constructor(initial: SessionStateName = 'stopped', now: () => number = Date.now) {
    super();
    this.#now = now;
    this.#state = { name: initial, since: now() };
  }

  readonly #now: () => number;

  /** The current state (a copy). */
  get state(): SessionState {
    return { ...this.#state };
  }

  /**
   * Moves to `to`. Throws `RuntimeError` (`SESSION_BAD_STATE`) when the transition is not in
   * `SESSION_TRANSITIONS`; the state is then unchanged and nothing is emitted.
   */
  transition(to: SessionStateName, detail: { reason?: string; code?: string } = {}): SessionState {
    const from = this.#state;
    if (!canTransition(from.name, to)) {
      throw new RuntimeError('SESSION_BAD_STATE', `session cannot go from ${from.name} to ${to}`);
    }
    const next: SessionState = { name: to, since: this.#now() };
    if (detail.reason !== undefined) next.reason = detail.reason;
    if (detail.code !== undefined) next.code = detail.code;
    this.#state = next;
    this.emit('change', { from: { ...from }, to: { ...next } });
    return { ...next };
  }

  /**
   * Throws `RuntimeError` (`SESSION_BAD_STATE`) naming `operation` unless the state is one of
   * `allowed`.
   */
  expect(operation: string, ...allowed: SessionStateName[]): void {
    if (!allowed.includes(this.#state.name)) {
      throw new RuntimeError(
        'SESSION_BAD_STATE',
        `cannot ${operation} a session that is ${this.#state.name} (needs ${allowed.join(' or ')})`,
      );
    }
  }
}
