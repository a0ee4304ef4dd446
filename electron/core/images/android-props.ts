/**
 * The properties file Android reads at boot, generated the way Waydroid generates
 * `waydroid_base.prop` + `waydroid.prop` (`tools/helpers/lxc.py` `make_base_props`,
 * `tools/helpers/images.py` `make_prop`) and bind-mounted at `/vendor/waydroid.prop`: graphics
 * stack (gralloc, EGL) from whether the host has a render node, `sys.use_memfd=true` without
 * `/dev/ashmem`, the density from the host scale, multi-window mode, and where the Wayland
 * socket is inside the container (the display bridge's socket, never the host compositor's).
 * User overrides from settings come last and replace generated values of the same key.
 */
import { ImageError, shown } from './image-errors.js';

/** Where the container sees its Wayland socket: `$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY`. */
export const CONTAINER_XDG_RUNTIME_DIR = '/run/xdg';
export const CONTAINER_WAYLAND_DISPLAY = 'wayland-0';
/** Where the file is bind-mounted in the guest (Waydroid's vendor init imports it from there). */
export const PROPS_GUEST_PATH = '/vendor/waydroid.prop';

/** What the properties are generated from. */
export interface AndroidPropsInput {
  /** `/dev/ashmem` exists on the host. */
  hasAshmem: boolean;
  /** A DRM render node (`/dev/dri/renderD128`) given to the guest, or null for software GL. */
  renderNode: string | null;
  /** Host scale factor (1, 1.25, 2 …); the density is 160 dpi × scale. Null leaves Android's default. */
  scale: number | null;
  /** Density in dpi that overrides the one from `scale` (Settings' Density); null or 0: none. */
  density?: number | null;
  /** Waydroid's multi-window mode: each Android app in its own host window. */
  multiWindows: boolean;
  /** Waydroid's vendor type; `MAINLINE` marks a VNDK-lite vendor (`ro.vndk.lite=true`). */
  vendorType?: string | null;
  /** User overrides from settings; validated by `validatePropOverrides`. */
  overrides?: Readonly<Record<string, string>>;
}

/** Property names accepted from settings. */
const OVERRIDE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,127}$/;
/** Longest override value (Android's `PROP_VALUE_MAX` is 92 for non-`ro.` properties). */
const MAX_VALUE = 92;
const MAX_RO_VALUE = 1024;
const MAX_OVERRIDES = 256;

/**
 * Checks user property overrides and returns them as entries. Throws `ImageError`
 * `PROPS_INVALID` naming the first bad one: not an object of strings, more than 256 entries, a
 * key outside `[A-Za-z0-9_.:@-]` (or with `..`), a value with a newline or other control
 * character, or longer than 92 characters (1024 for `ro.*`).
 */
export function validatePropOverrides(value: unknown): [string, string][] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ImageError('PROPS_INVALID', 'property overrides must be an object of key: "value"');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_OVERRIDES)
    throw new ImageError('PROPS_INVALID', `more than ${MAX_OVERRIDES} property overrides`);
  for (const [key, v] of entries) {
    if (!OVERRIDE_KEY.test(key) || key.includes('..') || key.endsWith('.'))
      throw new ImageError(
        'PROPS_INVALID',
        `property name ${shown(key)} is invalid: use A-Z, a-z, 0-9, '_', '.', ':', '@', '-'`,
      );
    if (typeof v !== 'string')
      throw new ImageError('PROPS_INVALID', `property ${key}: the value must be a string`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(v))
      throw new ImageError(
        'PROPS_INVALID',
        `property ${key}: the value holds a newline or control character`,
      );
    const max = key.startsWith('ro.') ? MAX_RO_VALUE : MAX_VALUE;
    if (v.length > max)
      throw new ImageError(
        'PROPS_INVALID',
        `property ${key}: the value is longer than ${max} characters`,
      );
  }
  return entries as [string, string][];
}

/** Android density for a host scale: 160 dpi × scale, kept within 120–640. */
export function densityForScale(scale: number): number {
  if (!Number.isFinite(scale) || scale <= 0)
    throw new ImageError('PROPS_INVALID', `scale ${scale} is not a positive number`);
  return Math.min(640, Math.max(120, Math.round(160 * scale)));
}

/**
 * The properties as ordered key/value pairs (generated first, then overrides replacing a
 * generated key in place or appended). Throws `PROPS_INVALID` for bad overrides, a bad scale
 * or a render node outside `/dev/dri/`.
 */
export function androidProps(input: AndroidPropsInput): [string, string][] {
  const props = new Map<string, string>();
  if (!input.hasAshmem) props.set('sys.use_memfd', 'true');
  // Waydroid's own hardening: adb needs authorisation, the build is not debuggable.
  props.set('ro.adb.secure', '1');
  props.set('ro.debuggable', '0');
  if (input.renderNode !== null) {
    if (!/^\/dev\/dri\/renderD[0-9]{1,4}$/.test(input.renderNode))
      throw new ImageError(
        'PROPS_INVALID',
        `render node ${shown(input.renderNode)} is not /dev/dri/renderD<n>`,
      );
    props.set('ro.hardware.gralloc', 'gbm');
    props.set('ro.hardware.egl', 'mesa');
    props.set('gralloc.gbm.device', input.renderNode);
  } else {
    props.set('ro.hardware.gralloc', 'default');
    props.set('ro.hardware.egl', 'swiftshader');
    props.set('debug.stagefright.ccodec', '0');
  }
  props.set('ro.opengles.version', '196610');
  if ((input.vendorType ?? 'MAINLINE') === 'MAINLINE') props.set('ro.vndk.lite', 'true');
  // Droidway images are not updated by the guest's own updater.
  props.set('waydroid.updater.disabled', 'true');
  props.set('waydroid.xdg_runtime_dir', CONTAINER_XDG_RUNTIME_DIR);
  props.set('waydroid.wayland_display', CONTAINER_WAYLAND_DISPLAY);
  props.set('persist.waydroid.multi_windows', input.multiWindows ? 'true' : 'false');
  if (input.density !== undefined && input.density !== null && input.density !== 0) {
    if (!Number.isInteger(input.density) || input.density < 1 || input.density > 960)
      throw new ImageError(
        'PROPS_INVALID',
        `density ${input.density} is not a whole number of dpi up to 960`,
      );
    props.set('ro.sf.lcd_density', String(input.density));
  } else if (input.scale !== null)
    props.set('ro.sf.lcd_density', String(densityForScale(input.scale)));
  for (const [key, value] of validatePropOverrides(input.overrides)) props.set(key, value);
  return [...props.entries()];
}

/** `androidProps` as the file text: one `key=value` line each, ending in a newline. */
export function androidPropsText(input: AndroidPropsInput): string {
  return androidProps(input)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');
}
