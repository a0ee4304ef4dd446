/**
 * The session record: what a started session's policy promised (probe expectations, compile
 * notes and context), written in the instance's data folder at start and read back by `verify`
 * and the UI.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { validateSessionRecord } from '../../generated/session-record.js';
import { type CompileContext, type CompileNote } from '../policy/policy-compile.js';
import type { ProbeExpectations } from '../policy/probe-expectations.js';
import { requestRecord } from '../runtime/control-client.js';
import { type InstancePaths } from '../runtime/instance-paths.js';
import { describeSchemaError } from '../schema-errors.js';
import { SESSION_RECORD_SCHEMA } from './record-schema.js';
import { SessionServiceError } from './session-errors.js';

/** Name of the session record (what the policy promised) in the instance's data folder. */
export const SESSION_RECORD_FILE = 'session-policy.json';

/** The record of a started session, `SESSION_RECORD_FILE` in the data folder. */
export interface SessionRecord {
  version: 1;
  instance: string;
  /** `demo`, or the Android image's name. */
  image: string;
  policyName: string;
  startedAt: string;
  expectations: ProbeExpectations;
  notes: CompileNote[];
  /** The probe's path in the guest, or null when it was not built at start. */
  probe: string | null;
  /**
   * What the policy was compiled with for this host and instance, so `verify --against` can
   * compile a reference policy the same way. Absent in records of older sessions.
   */
  context?: CompileContext;
}

/** Writes the record of a started session (0600, replaced whole). */
export async function writeSessionRecord(
  paths: InstancePaths,
  record: SessionRecord,
): Promise<void> {
  const file = path.join(paths.dataDir, SESSION_RECORD_FILE);
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(`${file}.tmp`, file);
}

/** Reads the record `startSession` wrote. Throws `SESSION_RECORD_INVALID` when it is missing or malformed. */
export async function readSessionRecord(paths: InstancePaths): Promise<SessionRecord> {
  const file = path.join(paths.dataDir, SESSION_RECORD_FILE);
  let parsed: unknown;
  try {
    // A desktop user cannot read its instance's root-owned data folder; its host reads it.
    parsed =
      process.getuid?.() === 0
        ? JSON.parse(await fs.readFile(file, 'utf8'))
        : await requestRecord(paths.controlSocket);
    if (parsed === null) throw new Error('the session host has no record');
  } catch (e) {
    throw new SessionServiceError(
      'SESSION_RECORD_INVALID',
      `the session of ${paths.name} has no readable policy record (${file}: ${(e as Error).message}); restart it with droidway session start`,
    );
  }
  return parseSessionRecord(parsed, file);
}

const validate = validateSessionRecord as ValidateFunction<SessionRecord>;

/**
 * Checks a session record read from `source` (a file, or the session host's answer) against
 * `SESSION_RECORD_SCHEMA` and returns it typed. Throws `SESSION_RECORD_INVALID` naming the first
 * field that is missing, unknown or of the wrong type.
 */
export function parseSessionRecord(value: unknown, source: string): SessionRecord {
  if (!validate(value)) {
    const { path: field, reason } = describeSchemaError(
      validate.errors![0]!,
      value,
      SESSION_RECORD_SCHEMA,
    );
    throw new SessionServiceError(
      'SESSION_RECORD_INVALID',
      `${source} is not a session record (${field === '' ? 'the record' : field} ${reason}); restart the session with droidway session start`,
    );
  }
  if (value.context === null) delete value.context;
  if (value.expectations.initFdTargets === null) delete value.expectations.initFdTargets;
  return value;
}
