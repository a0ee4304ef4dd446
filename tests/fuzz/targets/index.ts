/** Every JavaScript fuzz target, by name. */
import type { FuzzTarget } from '../engine.js';
import { target as axml } from './axml.js';
import { target as controlRequest } from './control-request.js';
import { target as controlResponse } from './control-response.js';
import { target as fdChannelRequest } from './fd-channel-request.js';
import { target as helperRequest } from './helper-request.js';
import { target as png } from './png.js';
import { target as policy } from './policy.js';
import { target as probeOutput } from './probe-output.js';
import { target as resources } from './resources.js';
import { target as signatures } from './signatures.js';
import { target as v1Signature } from './v1-signature.js';
import { target as zip } from './zip.js';

export const TARGETS: ReadonlyMap<string, FuzzTarget> = new Map(
  [
    axml,
    resources,
    zip,
    signatures,
    v1Signature,
    png,
    probeOutput,
    controlRequest,
    controlResponse,
    helperRequest,
    fdChannelRequest,
    policy,
  ].map((t) => [t.name, t]),
);
