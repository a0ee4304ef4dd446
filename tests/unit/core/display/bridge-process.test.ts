/**
 * BridgeProcess's supervision, against a stand-in executable (a Node script speaking the bridge
 * process's protocol) so that it runs without the native build or a compositor: ready and the
 * effective configuration, stats and stop over the pipes, restarts after a crash with the end
 * in the record, the per-minute cap, and no restart for a process that never got ready.
 * The real executable is exercised by tests/integration/bridge-process.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BridgeProcess,
  type BridgeProcessEnd,
} from '../../../../electron/core/display/bridge-process.js';
import type { BridgeEvent } from '../../../../electron/core/display/bridge.js';

// The stand-in: its behaviour is named by the socket path's last component.
const FAKE = `#!${process.execPath}
const readline = require('node:readline');
const lines = readline.createInterface({ input: process.stdin });
let config = null;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
lines.on('line', (line) => {
  if (config === null) {
    config = JSON.parse(line);
    const mode = require('node:path').basename(config.socketPath);
    if (mode === 'refuse') { out({ type: 'error', reason: 'config', message: 'refused' }); process.exit(2); }
    out({ type: 'ready', pid: process.pid, globals: [{ interface: 'wl_shm', version: 1 }], config });
    if (mode === 'crash') setTimeout(() => process.kill(process.pid, 'SIGKILL'), 20);
    return;
  }
  if (line === 'stats') out({ type: 'stats', stats: { running: true, clientsTotal: 3, clients: [] } });
  if (line === 'stop') { out({ type: 'stopped', reason: 'stopped' }); process.exit(0); }
});
lines.on('close', () => process.exit(0));
`;

let dir = '';
let exe = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'droidway-bridge-process-unit-'));
  exe = path.join(dir, 'fake-bridge');
  writeFileSync(exe, FAKE, { mode: 0o755 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const config = (mode: string) => ({
  socketPath: path.join(dir, mode),
  hostSocketPath: '/run/host-0',
  globals: ['wl_shm' as const],
  limits: { maxFds: 64 },
});

describe('BridgeProcess', () => {
  it('gets ready with the effective configuration, answers stats, and stops for good', async () => {
    const events: BridgeEvent[] = [];
    const ends: BridgeProcessEnd[] = [];
    const bridge = BridgeProcess.start({
      config: config('normal'),
      executable: exe,
      onEvent: (e) => events.push(e),
      onEnd: (e) => ends.push(e),
    });
    expect(await bridge.ready).toEqual([{ interface: 'wl_shm', version: 1 }]);
    expect(bridge.serving).toBe(true);
    expect(bridge.effectiveConfig).toEqual(config('normal'));
    expect(bridge.pid).toBeGreaterThan(0);
    expect(bridge.readyMs).toBeGreaterThan(0);
    expect(await bridge.stats()).toEqual({ running: true, clientsTotal: 3, clients: [] });
    await bridge.stop();
    expect(bridge.pid).toBeNull();
    expect(bridge.serving).toBe(false);
    expect(ends).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['ready', 'stopped']);
    await expect(bridge.stats()).rejects.toThrow(/no bridge process/);
    await bridge.stop();
  });

  it('restarts a crashed process, records each end, and gives up after the per-minute cap', async () => {
    const ends: BridgeProcessEnd[] = [];
    const bridge = BridgeProcess.start({
      config: config('crash'),
      executable: exe,
      onEnd: (e) => ends.push(e),
      restart: { maxPerMinute: 3, backoffMs: [0, 10] },
    });
    await bridge.ready;
    const deadline = Date.now() + 10_000;
    while (ends.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(ends).toHaveLength(4);
    for (const end of ends.slice(0, 3)) {
      expect(end).toMatchObject({ signal: 'SIGKILL', code: null });
      expect(end.restartedAt).not.toBeNull();
      expect(end.summary).toMatch(
        new RegExp(`^bridge process ${end.pid} ended by signal SIGKILL, restarted at \\d{4}-`),
      );
    }
    expect(new Set(ends.map((e) => e.pid)).size).toBe(4);
    expect(ends[3]!.restartedAt).toBeNull();
    expect(ends[3]!.summary).toMatch(
      /ended by signal SIGKILL, not restarted: 4 ends within a minute/,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(bridge.pid).toBeNull();
    expect(bridge.ends).toHaveLength(4);
    await bridge.stop();
  });

  it('does not restart a process that refused its configuration, and rejects ready', async () => {
    const ends: BridgeProcessEnd[] = [];
    const events: BridgeEvent[] = [];
    const bridge = BridgeProcess.start({
      config: config('refuse'),
      executable: exe,
      onEnd: (e) => ends.push(e),
      onEvent: (e) => events.push(e),
    });
    await expect(bridge.ready).rejects.toMatchObject({ code: 'EBRIDGEHOST', message: 'refused' });
    await new Promise((r) => setTimeout(r, 100));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({ code: 2, signal: null, restartedAt: null });
    expect(events).toEqual([{ type: 'error', reason: 'config', message: 'refused' }]);
    expect(bridge.pid).toBeNull();
    await bridge.stop();
  });

  it('rejects ready when the executable cannot run', async () => {
    const bridge = BridgeProcess.start({
      config: config('normal'),
      executable: path.join(dir, 'missing'),
    });
    await expect(bridge.ready).rejects.toThrow(/ENOENT/);
    await bridge.stop();
  });
});
