/** Fuzz target: the fd channel's request parser (bytes from the guest side of the channel). */
import { parseFdChannelRequest } from '../../../electron/core/runtime/fd-channel.js';
import type { FuzzTarget } from '../engine.js';
import { isRuntimeError, JSON_TOKENS, jsonSeeds } from './common.js';

export const target: FuzzTarget = {
  name: 'fd-channel-request',
  seeds: () =>
    jsonSeeds([
      { op: 'exec', argv: ['cmd', 'package', 'path', 'a.b'] },
      { op: 'exec', argv: ['am'], timeoutMs: 5000 },
      { op: 'open-data', path: '/data/app/x/base.apk' },
    ]),
  run: (input) => parseFdChannelRequest(input),
  typed: isRuntimeError,
  dictionary: [...JSON_TOKENS, '"exec"', '"open-data"', '"argv"', '"path"', '"timeoutMs"', '"/data/"', '"/../"'], // prettier-ignore
  maxLength: 8 * 1024,
};
