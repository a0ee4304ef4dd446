/** Fuzz target: the privileged helper's request parser (text from an unprivileged caller). */
import {
  HelperRequestError,
  parseHelperRequest,
} from '../../../electron/core/privileged/helper-request.js';
import type { FuzzTarget } from '../engine.js';
import { JSON_TOKENS, jsonSeeds } from './common.js';

export const target: FuzzTarget = {
  name: 'helper-request',
  seeds: () =>
    jsonSeeds([
      { op: 'session-start', instance: 'default', image: 'demo', policy: { preset: 'strict' } },
      { op: 'session-start', instance: 'a-1', image: 'demo', policy: { document: { version: 1 } }, androidTools: '/home/u/tools', readyTimeoutMs: 5000 },
      { op: 'session-stop', instance: 'x', timeoutSeconds: 5 },
    ]), // prettier-ignore
  run: (input) => parseHelperRequest(input.toString('utf8')),
  typed: (e) => e instanceof HelperRequestError,
  dictionary: [...JSON_TOKENS, '"session-start"', '"session-stop"', '"instance"', '"image"', '"policy"', '"preset"', '"document"', '"../"'], // prettier-ignore
  maxLength: 8 * 1024,
};
