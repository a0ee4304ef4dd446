import { describe, expect, it } from 'vitest';
import {
  MAX_HELPER_REQUEST_BYTES,
  parseHelperAnswer,
  parseHelperRequest,
} from '../../../../electron/core/privileged/helper-request.js';
import { tamperableHelperPath } from '../../../../electron/core/privileged/helper-checks.js';

describe('parseHelperRequest', () => {
  it('accepts the closed set of requests', () => {
    expect(
      parseHelperRequest(
        JSON.stringify({
          op: 'session-start',
          instance: 'default',
          image: 'demo',
          policy: { preset: 'strict' },
        }),
      ),
    ).toMatchObject({ op: 'session-start', instance: 'default' });
    expect(
      parseHelperRequest(
        JSON.stringify({
          op: 'session-start',
          instance: 'a-1',
          image: 'demo',
          policy: { document: { version: 1 } },
          androidTools: '/home/u/tools',
          readyTimeoutMs: 5000,
          scale: 1.5,
          density: 280,
          multiWindows: false,
        }),
      ),
    ).toMatchObject({
      androidTools: '/home/u/tools',
      scale: 1.5,
      density: 280,
      multiWindows: false,
    });
    expect(
      parseHelperRequest('{"op":"session-stop","instance":"x","timeoutSeconds":5}'),
    ).toMatchObject({
      op: 'session-stop',
    });
  });

  it('refuses malformed and hostile requests with a reason', () => {
    const bad: unknown[] = [
      'not json',
      '',
      'null',
      '[]',
      { op: 'session-start' },
      { op: 'shell', argv: ['sh'] },
      { op: 'session-start', instance: '../etc', image: 'demo', policy: { preset: 'strict' } },
      { op: 'session-start', instance: 'UPPER', image: 'demo', policy: { preset: 'strict' } },
      { op: 'session-start', instance: 'x', image: '/root/img', policy: { preset: 'strict' } },
      {
        op: 'session-start',
        instance: 'x',
        image: 'demo',
        policy: { preset: 'strict', document: {} },
      },
      { op: 'session-start', instance: 'x', image: 'demo', policy: { file: '/etc/shadow' } },
      {
        op: 'session-start',
        instance: 'x',
        image: 'demo',
        policy: { preset: 'strict' },
        androidTools: 'relative',
      },
      { op: 'session-start', instance: 'x', image: 'demo', policy: { preset: 'strict' }, extra: 1 },
      {
        op: 'session-start',
        instance: 'x',
        image: 'demo',
        policy: { preset: 'strict' },
        readyTimeoutMs: 1e12,
      },
      ...[
        { scale: 0 },
        { scale: 100 },
        { density: 2.5 },
        { density: 5000 },
        { multiWindows: 'yes' },
      ].map((display) => ({
        op: 'session-start',
        instance: 'x',
        image: 'demo',
        policy: { preset: 'strict' },
        ...display,
      })),
      { op: 'session-stop', instance: 'x', timeoutSeconds: -1 },
    ];
    for (const b of bad) {
      const text = typeof b === 'string' ? b : JSON.stringify(b);
      expect(() => parseHelperRequest(text), text).toThrow(/the request is/);
    }
    expect(() => parseHelperRequest(' '.repeat(MAX_HELPER_REQUEST_BYTES + 1))).toThrow(
      /larger than/,
    );
  });
});

describe('parseHelperAnswer', () => {
  it('reads the last line, and nothing that is not an answer', () => {
    expect(parseHelperAnswer('noise\n{"ok":true,"value":3}\n')).toEqual({ ok: true, value: 3 });
    expect(parseHelperAnswer('{"ok":false,"error":{"code":"X","message":"m"}}')).toEqual({
      ok: false,
      error: { code: 'X', message: 'm' },
    });
    for (const t of [
      '',
      'garbage',
      '{"ok":false}',
      '{"ok":"yes"}',
      '{"ok":false,"error":{"code":1}}',
    ])
      expect(parseHelperAnswer(t)).toBeNull();
  });
});

describe('tamperableHelperPath', () => {
  it('names a folder another user could change', () => {
    // /tmp is world-writable but sticky and root's: fine; a folder below it owned by nobody is not.
    expect(tamperableHelperPath('/usr/share')).toBeNull();
    expect(tamperableHelperPath('/tmp')).toBeNull();
  });
});

describe('tamperableHelperPath as root', () => {
  it.runIf(process.getuid?.() === 0)('refuses a checkout a user owns', async () => {
    const { mkdtempSync, chownSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/droidway-helper-');
    try {
      expect(tamperableHelperPath(dir)).toBeNull();
      chownSync(dir, 65534, 65534);
      expect(tamperableHelperPath(dir)).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
