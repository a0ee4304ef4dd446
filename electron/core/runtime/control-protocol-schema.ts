/**
 * The JSON schemas of the control socket's messages (`control-protocol.ts`), compiled ahead of
 * time into `electron/generated/` by `npm run build:validators`.
 */

/** Limits of `attach-exec`. */
export const ATTACH_LIMITS = {
  maxArgs: 256,
  maxArgLength: 4096,
  maxEnv: 64,
  maxEnvValueLength: 4096,
  /** Decoded stdin bytes. */
  maxStdinBytes: 512 * 1024,
  maxTimeoutMs: 10 * 60 * 1000,
} as const;
