import { describe, expect, it } from 'vitest';
import {
  SESSION_TRANSITIONS,
  SessionStateMachine,
  canTransition,
  type SessionStateChange,
  type SessionStateName,
} from '../../../../electron/core/runtime/session-state.js';

const ALL: SessionStateName[] = ['stopped', 'starting', 'running', 'frozen', 'stopping', 'error'];

describe('session state machine', () => {
  it('allows exactly the documented transitions', () => {
    const allowed = ALL.flatMap((from) =>
      ALL.filter((to) => canTransition(from, to)).map((to) => `${from}->${to}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'stopped->starting',
        'starting->running',
        'starting->stopping',
        'starting->error',
        'running->frozen',
        'running->stopping',
        'running->stopped',
        'running->error',
        'frozen->running',
        'frozen->stopping',
        'frozen->stopped',
        'frozen->error',
        'stopping->stopped',
        'stopping->error',
        'error->starting',
      ].sort(),
    );
    // No state may stay in place: a "change" event always means a change.
    for (const s of ALL) expect(SESSION_TRANSITIONS[s]).not.toContain(s);
  });

  it('walks a full life and emits each change in order with reasons', () => {
    let t = 100;
    const m = new SessionStateMachine('stopped', () => t++);
    const seen: SessionStateChange[] = [];
    m.on('change', (c) => seen.push(c));
    m.transition('starting');
    m.transition('running');
    m.transition('frozen');
    m.transition('running');
    m.transition('stopping');
    m.transition('stopped', { reason: 'stopped' });
    expect(seen.map((c) => `${c.from.name}->${c.to.name}`)).toEqual([
      'stopped->starting',
      'starting->running',
      'running->frozen',
      'frozen->running',
      'running->stopping',
      'stopping->stopped',
    ]);
    expect(m.state).toEqual({ name: 'stopped', reason: 'stopped', since: 106 });
  });

  it('refuses an illegal transition without changing state or emitting', () => {
    const m = new SessionStateMachine();
    let events = 0;
    m.on('change', () => events++);
    expect(() => m.transition('running')).toThrow(
      expect.objectContaining({ code: 'SESSION_BAD_STATE' }),
    );
    expect(() => m.transition('frozen')).toThrow(/cannot go from stopped to frozen/);
    expect(m.state.name).toBe('stopped');
    expect(events).toBe(0);
  });

  it('keeps an error reason and code, and restarts only through starting', () => {
    const m = new SessionStateMachine();
    m.transition('starting');
    m.transition('error', { code: 'LXC_START_FAILED', reason: 'lxc-start exited with status 1' });
    expect(m.state).toMatchObject({
      name: 'error',
      code: 'LXC_START_FAILED',
      reason: 'lxc-start exited with status 1',
    });
    expect(() => m.transition('running')).toThrow(
      expect.objectContaining({ code: 'SESSION_BAD_STATE' }),
    );
    m.transition('starting');
    expect(m.state.reason).toBeUndefined();
  });

  it('names the operation and the states it needs when refusing it', () => {
    const m = new SessionStateMachine();
    expect(() => m.expect('freeze', 'running')).toThrow(
      'cannot freeze a session that is stopped (needs running)',
    );
    m.transition('starting');
    expect(() => m.expect('start', 'stopped', 'error')).toThrow(/needs stopped or error/);
    expect(() => m.expect('stop', 'starting')).not.toThrow();
  });

  it('hands out copies, so a caller cannot edit the state', () => {
    const m = new SessionStateMachine();
    const s = m.state;
    s.name = 'running';
    expect(m.state.name).toBe('stopped');
  });
});
