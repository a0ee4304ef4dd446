/**
 * Every JSON schema the product validates with, and how each is compiled. The build
 * (`npm run build:validators`, part of `build:ts`; also run before the unit tests) turns each
 * entry into a standalone validator module, `electron/generated/<file>.ts`, which the product
 * imports: no schema is compiled, and ajv's compiler is not loaded, when a process starts.
 *
 * Schema modules import types and plain constants only, never a generated module (the build
 * refuses a list whose imports reach one).
 */
import type { Options } from 'ajv';
import { PROBE_OUTPUT_SCHEMA } from './inspect/probe-output-schema.js';
import { POLICY_SCHEMA } from './policy/policy-document.js';
import { HELPER_REQUEST_SCHEMA } from './privileged/helper-request-schema.js';
import { BRIDGE_STATS_SCHEMA } from './runtime/control-protocol-schema.js';
import { FD_CHANNEL_REQUEST_SCHEMA } from './runtime/fd-channel-schema.js';
import { SESSION_RECORD_SCHEMA } from './session/record-schema.js';
import { SETTINGS_SCHEMA } from './settings/settings-schema.js';

/** One generated module: its schemas (by export name), their dialect and ajv's options. */
export interface ValidatorEntry {
  /** The module's name in `electron/generated/`, without `.ts`. */
  file: string;
  dialect: 'draft-07' | '2020-12';
  options: Omit<Options, 'code'>;
  /** Export name → schema. */
  schemas: Record<string, object>;
}

/** Ajv's options the untrusted-input parsers share: stop at the first error, say where. */
const FIRST_ERROR: Options = { allErrors: false, strict: true };

export const VALIDATOR_SCHEMAS: readonly ValidatorEntry[] = [
  {
    file: 'policy',
    dialect: '2020-12',
    // strictTuples is off only because an argument filter is a 3- or 4-element tuple by design
    // (the mask is optional); minItems/maxItems bound it.
    options: { allErrors: true, strict: true, strictTuples: false },
    schemas: { validatePolicyDocument: POLICY_SCHEMA },
  },
  {
    file: 'settings',
    dialect: 'draft-07',
    options: { allErrors: true, strict: true, strictTypes: false },
    schemas: SETTINGS_SCHEMA,
  },
  {
    file: 'helper-request',
    dialect: 'draft-07',
    options: { allErrors: false },
    schemas: { validateHelperRequest: HELPER_REQUEST_SCHEMA },
  },
  {
    file: 'fd-channel',
    dialect: 'draft-07',
    options: { allErrors: false },
    schemas: { validateFdChannelRequest: FD_CHANNEL_REQUEST_SCHEMA },
  },
  {
    file: 'probe-output',
    dialect: 'draft-07',
    // The probe's document is rebuilt from checked fields only: unknown keys are dropped.
    options: { ...FIRST_ERROR, removeAdditional: true, inlineRefs: false },
    schemas: { validateProbeOutput: PROBE_OUTPUT_SCHEMA },
  },
  {
    file: 'session-record',
    dialect: 'draft-07',
    options: FIRST_ERROR,
    schemas: { validateSessionRecord: SESSION_RECORD_SCHEMA },
  },
  {
    file: 'control-protocol',
    dialect: 'draft-07',
    // A newer bridge's counters are dropped, not refused.
    options: { ...FIRST_ERROR, removeAdditional: true },
    schemas: { validateBridgeStats: BRIDGE_STATS_SCHEMA },
  },
];
