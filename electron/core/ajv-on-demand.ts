/**
 * Ajv, loaded the first time a schema is compiled rather than when a module that validates is
 * imported: the library is large enough (~30 ms of CPU in a cold process) that every `droidway`
 * command paid for it, though most never validate a document. Its classes are resolved through
 * Node's own `require`, so a bundle of the CLI leaves it in node_modules and loads it only then.
 */
import { createRequire } from 'node:module';
import type { Ajv } from 'ajv';
import type { Ajv2020 } from 'ajv/dist/2020.js';

const loadFromHere = createRequire(import.meta.url);

/** Ajv's draft-07 class, loaded on the first call. */
export function ajvClass(): typeof Ajv {
  return (loadFromHere('ajv') as typeof import('ajv')).Ajv;
}

/** Ajv's draft 2020-12 class, loaded on the first call. */
export function ajv2020Class(): typeof Ajv2020 {
  return (loadFromHere('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')).Ajv2020;
}
