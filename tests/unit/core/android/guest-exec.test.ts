import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { findRunningGuest, runAttach } from '../../../../electron/core/android/guest-exec.js';

describe('runAttach (the spawn under lxc-attach, run here with plain commands)', () => {
  it('streams stdin through and collects stdout and stderr', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const r = await runAttach('sh', ['-c', 'wc -c; echo err >&2; exit 3'], {
      stdin: Readable.from([big.subarray(0, 1000), big.subarray(1000)]),
    });
    expect(r).toMatchObject({ exitCode: 3, stdout: `${big.length}\n`, stderr: 'err\n' });
  });

  it('caps the output it keeps and says so', async () => {
    const r = await runAttach('sh', ['-c', 'head -c 100000 /dev/zero'], { maxOutputBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stderrTruncated).toBe(false);
  });

  it('copes with a program that stops reading early', async () => {
    const r = await runAttach('sh', ['-c', 'head -c 10 >/dev/null; echo done'], {
      stdin: Readable.from([Buffer.alloc(8 * 1024 * 1024)]),
    });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'done\n' });
  });

  it('kills a program that outlives the timeout', async () => {
    const started = Date.now();
    await expect(runAttach('sleep', ['30'], { timeoutMs: 200 })).rejects.toMatchObject({
      code: 'GUEST_EXEC_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kills the program on abort, also while stdin is still streaming', async () => {
    const controller = new AbortController();
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const run = runAttach('sh', ['-c', 'cat >/dev/null'], {
      stdin: endless,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(endless.destroyed).toBe(true);
    await expect(runAttach('true', [], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
  });

  it('reports a command that cannot run', async () => {
    await expect(runAttach('/nonexistent/lxc-attach', [])).rejects.toMatchObject({
      code: 'GUEST_EXEC_FAILED',
    });
  });
});

describe('findRunningGuest', () => {
  it("looks for a desktop user's own instance, and says when none runs", async () => {
    const uid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      await expect(findRunningGuest({ instance: 'x' })).rejects.toMatchObject({
        code: 'GUEST_NOT_RUNNING',
        message: expect.stringContaining('droidway session start'),
      });
    } finally {
      uid.mockRestore();
    }
  });
});
