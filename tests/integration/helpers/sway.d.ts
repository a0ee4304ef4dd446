import type { ChildProcess } from 'node:child_process';

/** A tiled window fills the 800×600 output exactly: no bar, no borders. */
export const SWAY_800x600: string;

/**
 * Starts sway as `uid` in `dir` with `config`; resolves once its Wayland socket exists, rejects
 * when sway exits first or the socket does not appear within 10 s (sway is killed then).
 */
export function startHeadlessSway(
  dir: string,
  config: string,
  uid: number,
): Promise<{ sway: ChildProcess; socket: string }>;

/** Stops a sway started by `startHeadlessSway` and waits until it has exited. */
export function stopHeadlessSway(sway: ChildProcess): Promise<void>;
