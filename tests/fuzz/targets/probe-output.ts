/** Fuzz target: the isolation probe's report parser (text written inside the guest). */
import { parseProbeOutput, ProbeOutputError } from '../../../electron/core/inspect/probe-output.js';
import type { FuzzTarget } from '../engine.js';
import { JSON_TOKENS } from './common.js';

export const target: FuzzTarget = {
  name: 'probe-output',
  // The real report (the built probe run on this host) is in tests/fuzz/corpus/probe-output/.
  seeds: () => [Buffer.from('{"format":"droidway-probe/1"}')],
  run: (input) => parseProbeOutput(input.toString('utf8')),
  typed: (e) => e instanceof ProbeOutputError,
  dictionary: [...JSON_TOKENS, '"droidway-probe/1"', '"errors":[]', '"EPERM"', '"SIGSYS"', '"dir"', '"chr"'],
  maxLength: 64 * 1024,
}; // prettier-ignore
