/**
 * The desktop side, optional for everything headless: a reachable Wayland compositor with the
 * globals the display bridge uses, and DRM render nodes for dmabuf buffers.
 */
import type { DoctorCheck } from '../../shared/doctor.js';
import { failed, passed, type CheckIdentity } from '../host/check-result.js';
import type { HostProbe } from '../host/host-probe.js';
import type { WaylandGlobal } from '../host/wayland-registry.js';

/** Globals whose presence the Wayland check reports; the first two are required. */
export const WAYLAND_REPORTED_GLOBALS = ['xdg_wm_base', 'wl_shm', 'zwp_linux_dmabuf_v1'] as const;
const WAYLAND_REQUIRED_GLOBALS = ['xdg_wm_base', 'wl_shm'];
const WAYLAND_TIMEOUT_MS = 3000;

/**
 * Where libwayland would connect for `WAYLAND_DISPLAY`: the value itself when absolute, else
 * under `XDG_RUNTIME_DIR`. Returns an explanation instead when the environment does not say.
 */
export function waylandSocketPath(
  env: Readonly<Record<string, string | undefined>>,
): { path: string } | { missing: string } {
  const display = env.WAYLAND_DISPLAY;
  if (display === undefined || display === '') return { missing: 'WAYLAND_DISPLAY is not set' };
  if (display.startsWith('/')) return { path: display };
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime === undefined || runtime === '') {
    return { missing: `WAYLAND_DISPLAY=${display} is relative and XDG_RUNTIME_DIR is not set` };
  }
  return { path: `${runtime.replace(/\/+$/, '')}/${display}` };
}

function describeGlobals(globals: readonly WaylandGlobal[]): string {
  const parts = WAYLAND_REPORTED_GLOBALS.map((name) => {
    const global = globals.find((g) => g.interface === name);
    return global !== undefined ? `${name} v${global.version}` : `no ${name}`;
  });
  return `${globals.length} globals; ${parts.join(', ')}`;
}

/**
 * Wayland display (`optional`): connects to `$WAYLAND_DISPLAY`, does one registry round trip
 * over the wire protocol and reports how many globals the compositor has and whether
 * `xdg_wm_base`, `wl_shm` (both needed by the bridge) and `zwp_linux_dmabuf_v1` are among them.
 */
export async function checkWayland(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'display.wayland',
    title: 'Wayland display',
    impact: 'optional',
  };
  const sessionFix =
    'run Droidway inside a Wayland session (GNOME, KDE Plasma, sway, weston) so Android apps can get windows; ' +
    'the CLI and headless sessions work without one';
  const target = waylandSocketPath(host.env);
  if ('missing' in target) return failed(identity, target.missing, sessionFix);
  const socket = await host.stat(target.path);
  if (socket === null) return failed(identity, `no socket at ${target.path}`, sessionFix);
  if (socket.type !== 'socket')
    return failed(identity, `${target.path} is not a socket`, sessionFix);
  let globals: WaylandGlobal[];
  try {
    globals = await host.waylandGlobals(target.path, WAYLAND_TIMEOUT_MS);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    return failed(
      identity,
      `${target.path}: ${typeof code === 'string' ? `${code} ` : ''}${message}`,
      code === 'EACCES'
        ? `the socket belongs to another user: run Droidway as the user of the Wayland session`
        : `the compositor at ${target.path} did not answer a registry round trip; restart it or point WAYLAND_DISPLAY at a live one`,
    );
  }
  const seen = `${target.path}: ${describeGlobals(globals)}`;
  const missing = WAYLAND_REQUIRED_GLOBALS.filter(
    (name) => !globals.some((g) => g.interface === name),
  );
  if (missing.length > 0) {
    return failed(
      identity,
      seen,
      `the compositor lacks ${missing.join(' and ')}: use one with xdg-shell and wl_shm`,
    );
  }
  return passed(identity, seen);
}

/** DRM render nodes (`optional`): `/dev/dri/renderD*`, which dmabuf buffers need. */
export async function checkRenderNodes(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'display.drm',
    title: 'DRM render nodes',
    impact: 'optional',
  };
  let names: string[];
  try {
    names = await host.readdir('/dev/dri');
  } catch {
    names = [];
  }
  const nodes: string[] = [];
  for (const name of names.filter((n) => /^renderD\d+$/.test(n)).sort()) {
    if ((await host.stat(`/dev/dri/${name}`))?.type === 'char-device')
      nodes.push(`/dev/dri/${name}`);
  }
  return nodes.length > 0
    ? passed(identity, nodes.join(', '))
    : failed(
        identity,
        'no /dev/dri/renderD* device',
        'load the GPU driver (e.g. i915, amdgpu, virtio_gpu); without it buffers go through shared memory only',
      );
}
