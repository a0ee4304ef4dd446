/**
 * The JSON schema of a request on the session host's fd channel (`fd-channel.ts`), compiled
 * ahead of time into `electron/generated/fd-channel.ts` by `npm run build:validators`.
 */
import type { JSONSchemaType } from 'ajv';
import { ATTACH_LIMITS } from './control-protocol-schema.js';
import type { FdChannelRequest } from './fd-channel.js';

/** `exec` (a bounded argv) or `open-data` (a bounded path); no unknown keys. */
export const FD_CHANNEL_REQUEST_SCHEMA: JSONSchemaType<FdChannelRequest> = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'argv'],
      properties: {
        op: { type: 'string', const: 'exec' },
        argv: {
          type: 'array',
          minItems: 1,
          maxItems: ATTACH_LIMITS.maxArgs,
          items: {
            type: 'string',
            maxLength: ATTACH_LIMITS.maxArgLength,
            pattern: '^[^\\u0000]*$',
          },
        },
        timeoutMs: {
          type: 'integer',
          minimum: 1,
          maximum: ATTACH_LIMITS.maxTimeoutMs,
          nullable: true,
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['op', 'path'],
      properties: {
        op: { type: 'string', const: 'open-data' },
        path: { type: 'string', minLength: 1, maxLength: 4096 },
      },
    },
  ],
} as unknown as JSONSchemaType<FdChannelRequest>;
