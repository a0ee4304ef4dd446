/**
 * The JSON schema of the privileged helper's requests (`helper-request.ts`), compiled ahead of
 * time into `electron/generated/helper-request.ts` by `npm run build:validators`.
 */
import type { JSONSchemaType } from 'ajv';
import type { HelperRequest } from './helper-request.js';

const instance = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' } as const;

/** A request: a closed set of operations, no unknown keys, every string and number bounded. */
export const HELPER_REQUEST_SCHEMA = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'instance', 'image', 'policy'],
      properties: {
        op: { const: 'session-start' },
        instance,
        image: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
        policy: {
          oneOf: [
            {
              type: 'object',
              additionalProperties: false,
              required: ['preset'],
              properties: { preset: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$' } },
            },
            {
              type: 'object',
              additionalProperties: false,
              required: ['document'],
              properties: { document: { type: 'object' } },
            },
          ],
        },
        androidTools: { type: 'string', minLength: 2, maxLength: 4096, pattern: '^/[^\\u0000]*$' },
        readyTimeoutMs: { type: 'integer', minimum: 1000, maximum: 600000 },
        scale: { type: 'number', minimum: 0.5, maximum: 4 },
        density: { type: 'integer', minimum: 0, maximum: 960 },
        multiWindows: { type: 'boolean' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'instance'],
      properties: {
        op: { const: 'session-stop' },
        instance,
        timeoutSeconds: { type: 'integer', minimum: 1, maximum: 300 },
      },
    },
  ],
} as unknown as JSONSchemaType<HelperRequest>;
