/** Fuzz target: the control socket's request parser (one line from a client of the socket). */
import { parseControlRequest } from '../../../electron/core/runtime/control-protocol.js';
import type { FuzzTarget } from '../engine.js';
import { isRuntimeError, JSON_TOKENS, jsonSeeds } from './common.js';

export const target: FuzzTarget = {
  name: 'control-request',
  seeds: () =>
    jsonSeeds([
      { id: 1, method: 'status', params: {} },
      { id: 'a-1', method: 'freeze' },
      { id: 3, method: 'stop', params: { timeoutSeconds: 5 } },
      { id: 4, method: 'bridge-stats' },
      { id: 5, method: 'attach-exec', params: { argv: ['sh', '-c', 'echo hi'], env: { LANG: 'C' }, stdin: 'aGkK', timeoutMs: 1000 } },
    ]), // prettier-ignore
  run: (input) => parseControlRequest(input.toString('utf8')),
  typed: isRuntimeError,
  dictionary: [...JSON_TOKENS, '"attach-exec"', '"argv"', '"env"', '"stdin"', '"timeoutMs"', '"timeoutSeconds"', '"params"', '"method"', '"id"'], // prettier-ignore
  maxLength: 8 * 1024,
};
