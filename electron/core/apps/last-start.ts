/**
 * The options a launch uses to start a stopped session: the ones remembered from the last start
 * of the instance (`apps-start-options.json` in its data folder, written by whoever starts a
 * session through `rememberStartOptions`), else what the session record of the last start says
 * (image and policy name), else the demo guest with its default preset.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEMO_IMAGE, defaultPresetFor } from '../session/default-preset.js';
import type { StartSessionOptions } from '../session/plan.js';
import { readSessionRecord } from '../session/record.js';
import { sessionPaths, type SessionRef } from '../runtime/session-client.js';
import { userStateDir } from '../runtime/instance-paths.js';
import { writeFileAtomic } from './desktop-entry.js';

/** The file, in the instance's data folder. */
export const START_OPTIONS_FILE = 'apps-start-options.json';

/** What is remembered: the parts of `StartSessionOptions` a person chose. */
export interface RememberedStart {
  image: string;
  policy: { preset: string } | { file: string };
  androidTools?: string;
  scale?: number;
}

function parseRemembered(value: unknown): RememberedStart | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.image !== 'string' || v.image === '' || v.image.length > 4096) return null;
  const p = v.policy as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null) return null;
  const policy =
    typeof p.preset === 'string'
      ? { preset: p.preset }
      : typeof p.file === 'string' && path.isAbsolute(p.file)
        ? { file: p.file }
        : null;
  if (policy === null) return null;
  const out: RememberedStart = { image: v.image, policy };
  if (typeof v.androidTools === 'string' && path.isAbsolute(v.androidTools))
    out.androidTools = v.androidTools;
  if (typeof v.scale === 'number' && Number.isFinite(v.scale) && v.scale > 0 && v.scale <= 8)
    out.scale = v.scale;
  return out;
}

/** Where the start options of `ref`'s instance are kept (see `userStateDir`). */
function rememberDir(ref: SessionRef): string {
  return userStateDir(sessionPaths(ref.instance, ref), ref);
}

/** Remembers how `ref`'s instance was started, for the next launch that must start it. */
export async function rememberStartOptions(ref: SessionRef, start: RememberedStart): Promise<void> {
  const file = path.join(rememberDir(ref), START_OPTIONS_FILE);
  await writeFileAtomic(file, `${JSON.stringify(start, null, 2)}\n`, 0o600);
}

/** The options to start `ref`'s instance with (see the module doc). */
export async function lastStartOptions(ref: SessionRef = {}): Promise<StartSessionOptions> {
  const paths = sessionPaths(ref.instance, ref);
  const base: StartSessionOptions = { ...ref, instance: paths.name, policy: { preset: 'strict' } };
  try {
    const remembered = parseRemembered(
      JSON.parse(await fs.readFile(path.join(rememberDir(ref), START_OPTIONS_FILE), 'utf8')),
    );
    if (remembered !== null) return { ...base, ...remembered };
  } catch {
    // No remembered start: fall through to the session record.
  }
  try {
    const record = await readSessionRecord(paths);
    return { ...base, image: record.image, policy: { preset: record.policyName } };
  } catch {
    return { ...base, image: DEMO_IMAGE, policy: { preset: defaultPresetFor(DEMO_IMAGE) } };
  }
}
