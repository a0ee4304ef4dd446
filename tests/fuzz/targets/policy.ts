/** Fuzz target: the policy document parser and validator (a user-supplied or imported file). */
import { readFileSync } from 'node:fs';
import { parsePolicyText } from '../../../electron/core/policy/policy-validate.js';
import type { FuzzTarget } from '../engine.js';
import { JSON_TOKENS } from './common.js';

/** A refusal parsePolicyText returned (its first issue). */
class PolicyRefusal extends Error {}

export const target: FuzzTarget = {
  name: 'policy',
  // The built-in presets: real documents, every section present.
  seeds: () => [
    Buffer.from('{"version":1}'),
    ...['android', 'strict', 'privileged'].map((name) =>
      readFileSync(new URL(`../../../resources/policies/${name}.json`, import.meta.url)),
    ),
  ],
  run: (input) => {
    const r = parsePolicyText(input.toString('utf8'));
    if (r.ok) return r;
    // The validator's contract: a policy, or at least one issue (never an empty refusal).
    if (r.issues.length === 0) throw new Error('refused without an issue');
    throw new PolicyRefusal(`${r.issues[0]!.path} ${r.issues[0]!.message}`);
  },
  // parsePolicyText returns its refusals (turned into PolicyRefusal above); it throws nothing.
  typed: (e) => e instanceof PolicyRefusal,
  dictionary: [...JSON_TOKENS, '"version"', '"seccomp"', '"capabilities"', '"devices"', '"wayland"', '"mounts"', '"allow"', '"deny"', '"errno"', '"EPERM"'], // prettier-ignore
  maxLength: 32 * 1024,
};
