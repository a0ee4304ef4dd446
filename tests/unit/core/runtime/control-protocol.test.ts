import { describe, expect, it } from 'vitest';
import {
  ATTACH_LIMITS,
  ControlRequestError,
  MAX_REQUEST_BYTES,
  encodeResponse,
  MAX_BRIDGE_STATS_CLIENTS,
  parseControlRequest,
  parseControlResponse,
} from '../../../../electron/core/runtime/control-protocol.js';
import { parseBridgeStatsValue } from '../../../../electron/core/runtime/bridge-stats-answer.js';

function refused(line: string): ControlRequestError {
  try {
    parseControlRequest(line);
  } catch (e) {
    expect(e).toBeInstanceOf(ControlRequestError);
    expect((e as ControlRequestError).code).toBe('CONTROL_BAD_REQUEST');
    return e as ControlRequestError;
  }
  throw new Error(`accepted: ${line.slice(0, 100)}`);
}

const req = (value: unknown): string => JSON.stringify(value);

describe('control requests', () => {
  it('accepts each method with valid params', () => {
    expect(parseControlRequest(req({ id: 1, method: 'status', params: {} }))).toEqual({
      id: 1,
      method: 'status',
      params: {},
    });
    expect(parseControlRequest(req({ id: 'a-1', method: 'freeze' }))).toMatchObject({
      method: 'freeze',
    });
    expect(parseControlRequest(req({ id: 2, method: 'unfreeze', params: {} }))).toMatchObject({
      method: 'unfreeze',
    });
    expect(
      parseControlRequest(req({ id: 3, method: 'stop', params: { timeoutSeconds: 5 } })),
    ).toEqual({
      id: 3,
      method: 'stop',
      params: { timeoutSeconds: 5 },
    });
    expect(
      parseControlRequest(
        req({
          id: 4,
          method: 'attach-exec',
          params: {
            argv: ['sh', '-c', 'echo hi'],
            env: { LANG: 'C' },
            stdin: 'aGkK',
            timeoutMs: 1000,
          },
        }),
      ),
    ).toEqual({
      id: 4,
      method: 'attach-exec',
      params: { argv: ['sh', '-c', 'echo hi'], env: { LANG: 'C' }, stdin: 'aGkK', timeoutMs: 1000 },
    });
  });

  it('refuses malformed JSON and non-objects without an id', () => {
    expect(refused('{"id": 1, "method": ').message).toMatch(/not valid JSON/);
    expect(refused('').message).toMatch(/not valid JSON/);
    for (const line of ['[]', 'null', '42', '"status"']) {
      const e = refused(line);
      expect(e.message).toMatch(/must be a JSON object/);
      expect(e.requestId).toBeNull();
    }
  });

  it('refuses an oversize line before parsing it', () => {
    const big = req({ id: 1, method: 'status', params: { pad: 'x'.repeat(MAX_REQUEST_BYTES) } });
    expect(refused(big).message).toMatch(/longer than 1048576 bytes/);
    // Bytes count, not characters: multi-byte text cannot slip under the cap.
    const wide = req({
      id: 1,
      method: 'status',
      params: { pad: 'é'.repeat(MAX_REQUEST_BYTES / 2 + 10) },
    });
    expect(refused(wide).message).toMatch(/longer than/);
  });

  it('refuses bad ids', () => {
    for (const id of [undefined, null, -1, 1.5, 'has space', 'x'.repeat(65), {}, [], true]) {
      expect(refused(req({ id, method: 'status' })).message).toMatch(/^id must be/);
    }
  });

  it('refuses unknown methods and keys, echoing a readable id', () => {
    const e = refused(req({ id: 9, method: 'reboot' }));
    expect(e.message).toMatch(
      /unknown method "reboot"; known: status, stop, freeze, unfreeze, attach-exec/,
    );
    expect(e.requestId).toBe(9);
    expect(refused(req({ id: 9, method: 7 })).message).toMatch(
      /method must be a string, got number/,
    );
    expect(refused(req({ id: 9, method: '__proto__' })).message).toMatch(/unknown method/);
    expect(refused(req({ id: 9, method: 'status', extra: 1 })).message).toMatch(
      /unknown request key "extra"/,
    );
    expect(refused(req({ id: 9, method: 'status', params: { x: 1 } })).message).toMatch(
      /unknown parameter "x" for status/,
    );
    expect(refused(req({ id: 9, method: 'stop', params: { force: true } })).message).toMatch(
      /unknown parameter "force"/,
    );
  });

  it('refuses params of the wrong type or out of range', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ id: 1, method: 'status', params: [] }, /params must be an object, got array/],
      [{ id: 1, method: 'status', params: 'x' }, /params must be an object, got string/],
      [
        { id: 1, method: 'stop', params: { timeoutSeconds: '5' } },
        /timeoutSeconds must be an integer from 0 to 300/,
      ],
      [{ id: 1, method: 'stop', params: { timeoutSeconds: -1 } }, /timeoutSeconds/],
      [{ id: 1, method: 'stop', params: { timeoutSeconds: 301 } }, /timeoutSeconds/],
      [{ id: 1, method: 'stop', params: { timeoutSeconds: 1.5 } }, /timeoutSeconds/],
      [{ id: 1, method: 'attach-exec', params: {} }, /argv must be an array of 1 to 256 strings/],
      [{ id: 1, method: 'attach-exec', params: { argv: [] } }, /argv must be an array/],
      [{ id: 1, method: 'attach-exec', params: { argv: 'ls' } }, /argv must be an array/],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls', 3] } },
        /argv\[1\] must be a string, got number/,
      ],
      [{ id: 1, method: 'attach-exec', params: { argv: [''] } }, /argv\[0\] must not be empty/],
      [{ id: 1, method: 'attach-exec', params: { argv: ['a\0b'] } }, /argv\[0\] contains a NUL/],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['x'.repeat(4097)] } },
        /argv\[0\] is longer than 4096/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: Array(257).fill('a') } },
        /argv must be an array of 1 to 256/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], env: [] } },
        /env must be an object, got array/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], env: { 'A=B': 'x' } } },
        /env name "A=B" is not a valid/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], env: { A: 1 } } },
        /env.A must be a string, got number/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], stdin: 'not base64!' } },
        /stdin must be a base64 string/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], stdin: 5 } },
        /stdin must be a base64 string/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], timeoutMs: 0 } },
        /timeoutMs must be an integer/,
      ],
      [
        { id: 1, method: 'attach-exec', params: { argv: ['ls'], timeoutMs: 1e9 } },
        /timeoutMs must be an integer/,
      ],
    ];
    for (const [value, message] of cases) {
      const e = refused(req(value));
      expect(e.message).toMatch(message);
      expect(e.requestId).toBe(1);
    }
  });

  it('caps decoded stdin and the number of env variables', () => {
    const stdin = Buffer.alloc(ATTACH_LIMITS.maxStdinBytes + 3).toString('base64');
    expect(
      refused(req({ id: 1, method: 'attach-exec', params: { argv: ['cat'], stdin } })).message,
    ).toMatch(/stdin is larger than 524288 bytes/);
    const env = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, 'x']));
    expect(
      refused(req({ id: 1, method: 'attach-exec', params: { argv: ['env'], env } })).message,
    ).toMatch(/more than 64 variables/);
  });
});

describe('control responses', () => {
  it('round-trips values and errors as one line each', () => {
    const line = encodeResponse({ id: 3, ok: true, value: { state: 'running' } });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(parseControlResponse(line.trim())).toEqual({
      id: 3,
      ok: true,
      value: { state: 'running' },
    });
    const bad = encodeResponse({
      id: null,
      ok: false,
      error: { code: 'CONTROL_BAD_REQUEST', message: 'no' },
    });
    expect(parseControlResponse(bad.trim())).toEqual({
      id: null,
      ok: false,
      error: { code: 'CONTROL_BAD_REQUEST', message: 'no' },
    });
  });

  it('refuses malformed answers with CONTROL_UNAVAILABLE', () => {
    for (const line of [
      'nope',
      '[]',
      '{"id":1}',
      '{"id":1,"ok":false,"error":"x"}',
      '{"id":-1,"ok":true,"value":1}',
    ]) {
      expect(() => parseControlResponse(line)).toThrow(
        expect.objectContaining({ code: 'CONTROL_UNAVAILABLE' }),
      );
    }
  });
});

describe('bridge-stats', () => {
  const client = {
    clientId: 1,
    pid: 42,
    uid: 0,
    connected: true,
    disconnectReason: null,
    commits: 10,
    buffersForwarded: { shm: 9, dmabuf: 0 },
    bytesCopied: 0,
    damageRectsDropped: 0,
    objects: 12,
    pools: 1,
    buffers: 3,
    surfaces: 3,
    fdsRejected: {},
    violations: {},
  };
  const stats = {
    running: true,
    clientsTotal: 2,
    poll: { ns: 1_500_000, workNs: 400_000, hits: 30, misses: 4 },
    clients: [client],
  };

  it('accepts the request with no params and refuses any param', () => {
    expect(parseControlRequest(req({ id: 7, method: 'bridge-stats' }))).toEqual({
      id: 7,
      method: 'bridge-stats',
      params: {},
    });
    expect(parseControlRequest(req({ id: 7, method: 'bridge-stats', params: {} }))).toEqual({
      id: 7,
      method: 'bridge-stats',
      params: {},
    });
    const e = refused(req({ id: 8, method: 'bridge-stats', params: { client: 1 } }));
    expect(e.message).toMatch(/unknown parameter "client" for bridge-stats/);
    expect(e.requestId).toBe(8);
    expect(refused(req({ id: 9, method: 'bridge-stats', params: [] })).message).toMatch(
      /params must be an object, got array/,
    );
    expect(refused(req({ id: 9, method: 'Bridge-Stats' })).message).toMatch(/unknown method/);
  });

  it('reads a well-formed answer, gone clients and reason maps included', () => {
    expect(parseBridgeStatsValue(stats)).toEqual(stats);
    const gone = {
      ...client,
      clientId: 2,
      connected: false,
      disconnectReason: 'violation:unsealed',
      fdsRejected: { unsealed: 1 },
      violations: { unsealed: 1 },
    };
    const parsed = parseBridgeStatsValue({ ...stats, clients: [client, gone] });
    expect(parsed.clients[1]).toEqual(gone);
    // The answer crossed a socket as JSON: it must survive a round trip.
    const line = encodeResponse({ id: 1, ok: true, value: parsed });
    const back = parseControlResponse(line.trimEnd());
    expect(back.ok && parseBridgeStatsValue(back.value)).toEqual(parsed);
  });

  it("drops a newer bridge's counters, and bounds reasons", () => {
    const newer = { ...stats, uptimeMs: 5, clients: [{ ...client, keymaps: 2 }] };
    expect(parseBridgeStatsValue(newer)).toEqual(stats);
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`r${i}`, 1]));
    expect(() =>
      parseBridgeStatsValue({ ...stats, clients: [{ ...client, violations: many }] }),
    ).toThrow(/clients\[0\]\.violations has more than 256 keys/);
    expect(() =>
      parseBridgeStatsValue({
        ...stats,
        clients: [{ ...client, disconnectReason: 'x'.repeat(513) }],
      }),
    ).toThrow(/clients\[0\]\.disconnectReason is longer than 512/);
    expect(() =>
      parseBridgeStatsValue({ ...stats, clients: [{ ...client, fdsRejected: { '': 1 } }] }),
    ).toThrow(/fdsRejected has a key "" that is shorter than 1/);
  });

  it('refuses malformed answers naming the field', () => {
    const bad = (value: unknown, message: RegExp): void => {
      let error: unknown;
      try {
        parseBridgeStatsValue(value);
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string }).code).toBe('CONTROL_UNAVAILABLE');
      expect((error as Error).message).toMatch(message);
    };
    bad(null, /the answer must be an object, got null/);
    bad([], /the answer must be an object, got array/);
    bad({ ...stats, running: 'yes' }, /running must be a boolean, got string/);
    bad({ ...stats, clientsTotal: -1 }, /clientsTotal must be >= 0/);
    bad({ ...stats, clientsTotal: 1.5 }, /clientsTotal must be an integer, got number/);
    bad({ ...stats, clients: {} }, /clients must be an array, got object/);
    bad({ ...stats, poll: undefined }, /poll is missing/);
    bad({ ...stats, poll: { ...stats.poll, ns: -1 } }, /poll\.ns must be >= 0/);
    bad(
      { ...stats, poll: { ...stats.poll, hits: 'many' } },
      /poll\.hits must be an integer, got string/,
    );
    bad({ ...stats, clients: [7] }, /clients\[0\] must be an object, got number/);
    bad(
      { ...stats, clients: [{ ...client, pid: '42' }] },
      /clients\[0\]\.pid must be an integer, got string/,
    );
    bad(
      { ...stats, clients: [{ ...client, commits: 2 ** 60 }] },
      /clients\[0\]\.commits must be <= 9007199254740991/,
    );
    bad(
      { ...stats, clients: [{ ...client, connected: 1 }] },
      /clients\[0\]\.connected must be a boolean, got number/,
    );
    bad(
      { ...stats, clients: [{ ...client, disconnectReason: 5 }] },
      /clients\[0\]\.disconnectReason must be a string, got number/,
    );
    bad(
      { ...stats, clients: [{ ...client, buffersForwarded: { shm: 1 } }] },
      /clients\[0\]\.buffersForwarded\.dmabuf is missing/,
    );
    bad(
      { ...stats, clients: [{ ...client, buffersForwarded: null }] },
      /clients\[0\]\.buffersForwarded must be an object, got null/,
    );
    bad(
      { ...stats, clients: [{ ...client, fdsRejected: [] }] },
      /clients\[0\]\.fdsRejected must be an object, got array/,
    );
    bad(
      { ...stats, clients: [{ ...client, violations: { unsealed: 'x' } }] },
      /clients\[0\]\.violations\.unsealed must be an integer, got string/,
    );
    bad(
      { ...stats, clients: [{ ...client, violations: { ['r'.repeat(200)]: 1 } }] },
      /clients\[0\]\.violations has a key "r{40}" that is longer than 128/,
    );
    bad(
      { ...stats, clients: new Array(MAX_BRIDGE_STATS_CLIENTS + 1).fill(client) },
      /clients has more than 2048 items/,
    );
  });
});
