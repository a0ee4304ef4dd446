/**
 * What Droidway needs from a decoded `AndroidManifest.xml`: identity, versions, SDK levels,
 * permissions, the launcher activity, required features and the split name. Android attributes
 * are matched by resource id (what PackageManager does) and by name only when the document has
 * no resource id for them, so a renamed attribute string cannot smuggle a different value.
 */
import { ApkError, shown } from './apk-errors.js';
import type { AxmlAttribute, AxmlElement, AxmlValue } from './axml.js';

/** The Android namespace URI. */
export const ANDROID_NS = 'http://schemas.android.com/apk/res/android';

/** Resource ids of the framework attributes read here (from android.R.attr). */
const ATTR = {
  label: 0x01010001,
  icon: 0x01010002,
  name: 0x01010003,
  enabled: 0x0101000e,
  screenOrientation: 0x0101001e,
  targetActivity: 0x01010202,
  minSdkVersion: 0x0101020c,
  versionCode: 0x0101021b,
  versionName: 0x0101021c,
  targetSdkVersion: 0x01010270,
  glEsVersion: 0x01010281,
  required: 0x0101028e,
} as const;

/** A label or icon: a literal string, or a resource id still to resolve through resources.arsc. */
export type ResourceValue = { kind: 'string'; value: string } | { kind: 'reference'; id: number };

/** The launcher entry point. */
export interface LauncherActivity {
  /** Fully qualified class name (for an alias, the alias name). */
  name: string;
  /** For an `<activity-alias>`, the fully qualified activity it starts. */
  targetActivity?: string;
  label?: ResourceValue;
  icon?: ResourceValue;
}

/** A `<uses-feature>`. */
export interface RequiredFeature {
  /** Feature name, or `glEsVersion 0x00030000` style for an OpenGL ES requirement. */
  name: string;
  required: boolean;
}

/** A feature `aapt dump badging` says the app implies (`uses-implied-feature`). */
export interface ImpliedFeature {
  name: string;
  /** aapt's reason(s), sorted and joined with ", and " as aapt prints them. */
  reason: string;
  /** Implied only by `<uses-permission-sdk-23>` (aapt: `uses-implied-feature-sdk-23`). */
  sdk23: boolean;
}

/** Facts read from the manifest. */
export interface ManifestInfo {
  packageName: string;
  versionCode: number;
  versionName?: string;
  /** Lowest API level; 1 when the manifest does not say (Android's default). */
  minSdkVersion: number;
  /** Target API level; defaults to minSdkVersion as Android does. */
  targetSdkVersion: number;
  /** Name of a split APK (`split="config.xxhdpi"`); absent for a base APK. */
  splitName?: string;
  label?: ResourceValue;
  icon?: ResourceValue;
  permissions: string[];
  launcherActivity?: LauncherActivity;
  features: RequiredFeature[];
  /**
   * Features implied by permissions, orientation and defaults, and not declared, as
   * `aapt dump badging` lists them (`uses-implied-feature`), sorted by name.
   */
  impliedFeatures: ImpliedFeature[];
}

function androidAttr(el: AxmlElement, id: number, name: string): AxmlValue | undefined {
  const hit = el.attributes.find((a: AxmlAttribute) =>
    a.resourceId !== undefined && a.resourceId !== 0
      ? a.resourceId === id
      : a.namespace === ANDROID_NS && a.name === name,
  );
  return hit?.value;
}

function plainAttr(el: AxmlElement, name: string): string | undefined {
  const v = el.attributes.find((a) => a.namespace === '' && a.name === name)?.value;
  return v?.type === 'string' ? v.value : undefined;
}

function asString(v: AxmlValue | undefined): string | undefined {
  return v?.type === 'string' ? v.value : undefined;
}

function asInt(v: AxmlValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (v.type === 'int') return v.value;
  if (v.type === 'string' && /^\d{1,10}$/.test(v.value)) return Number(v.value);
  return undefined;
}

function asResource(v: AxmlValue | undefined): ResourceValue | undefined {
  if (v?.type === 'string') return { kind: 'string', value: v.value };
  if (v?.type === 'reference' && v.value !== 0) return { kind: 'reference', id: v.value };
  return undefined;
}

/** Android's class name expansion: `.Main` and `Main` are relative to the package. */
function className(pkg: string, name: string): string {
  if (name.startsWith('.')) return pkg + name;
  return name.includes('.') ? name : `${pkg}.${name}`;
}

function isLauncher(el: AxmlElement): boolean {
  return el.children.some((f) => {
    if (f.name !== 'intent-filter') return false;
    const has = (tag: string, value: string): boolean =>
      f.children.some(
        (c) => c.name === tag && asString(androidAttr(c, ATTR.name, 'name')) === value,
      );
    return (
      has('action', 'android.intent.action.MAIN') &&
      has('category', 'android.intent.category.LAUNCHER')
    );
  });
}

/**
 * Reads the manifest facts from a decoded document.
 * @throws ApkError `APK_MANIFEST_INVALID` when the root is not `<manifest>` or has no valid
 *   package name
 */
export function readManifest(root: AxmlElement): ManifestInfo {
  if (root.name !== 'manifest')
    throw new ApkError('APK_MANIFEST_INVALID', `root element is ${shown(root.name)}, not manifest`);
  const pkg = plainAttr(root, 'package');
  // PackageParser requires a dotted name of Java-like segments, except for the framework's
  // own package, `android` (framework-res.apk).
  if (
    pkg === undefined ||
    (pkg !== 'android' && !/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/.test(pkg))
  )
    throw new ApkError(
      'APK_MANIFEST_INVALID',
      pkg === undefined ? 'manifest has no package name' : `invalid package name ${shown(pkg)}`,
    );
  const info: ManifestInfo = {
    packageName: pkg,
    versionCode: asInt(androidAttr(root, ATTR.versionCode, 'versionCode')) ?? 0,
    minSdkVersion: 1,
    targetSdkVersion: 1,
    permissions: [],
    features: [],
    impliedFeatures: [],
  };
  /** Permissions requested only through `<uses-permission-sdk-23>`. */
  const sdk23Only = new Set<string>();
  const plain = new Set<string>();
  const orientations = new Set<'landscape' | 'portrait'>();
  const versionName = asString(androidAttr(root, ATTR.versionName, 'versionName'));
  if (versionName !== undefined) info.versionName = versionName;
  const split = plainAttr(root, 'split');
  if (split !== undefined) info.splitName = split;

  let target: number | undefined;
  for (const el of root.children) {
    switch (el.name) {
      case 'uses-sdk':
        info.minSdkVersion = asInt(androidAttr(el, ATTR.minSdkVersion, 'minSdkVersion')) ?? 1;
        target = asInt(androidAttr(el, ATTR.targetSdkVersion, 'targetSdkVersion'));
        break;
      case 'uses-permission':
      case 'uses-permission-sdk-23':
      case 'uses-permission-sdk-m': {
        const name = asString(androidAttr(el, ATTR.name, 'name'));
        if (name !== undefined && !info.permissions.includes(name)) info.permissions.push(name);
        if (name !== undefined) (el.name === 'uses-permission' ? plain : sdk23Only).add(name);
        break;
      }
      case 'uses-feature': {
        const required = androidAttr(el, ATTR.required, 'required');
        const isRequired = required?.type === 'bool' ? required.value : true;
        const name = asString(androidAttr(el, ATTR.name, 'name'));
        const gles = asInt(androidAttr(el, ATTR.glEsVersion, 'glEsVersion'));
        if (name !== undefined) info.features.push({ name, required: isRequired });
        else if (gles !== undefined)
          info.features.push({
            name: `glEsVersion 0x${gles.toString(16).padStart(8, '0')}`,
            required: isRequired,
          });
        break;
      }
      case 'application': {
        const label = asResource(androidAttr(el, ATTR.label, 'label'));
        const icon = asResource(androidAttr(el, ATTR.icon, 'icon'));
        if (label !== undefined) info.label = label;
        if (icon !== undefined) info.icon = icon;
        const launcher = findLauncher(pkg, el);
        if (launcher !== undefined) info.launcherActivity = launcher;
        for (const c of el.children) {
          if (c.name !== 'activity') continue;
          const o = asInt(androidAttr(c, ATTR.screenOrientation, 'screenOrientation'));
          if (o !== undefined && LANDSCAPE.has(o)) orientations.add('landscape');
          if (o !== undefined && PORTRAIT.has(o)) orientations.add('portrait');
        }
        break;
      }
    }
  }
  info.targetSdkVersion = target ?? info.minSdkVersion;
  for (const p of plain) sdk23Only.delete(p);
  info.impliedFeatures = impliedFeatures(info, plain, sdk23Only, orientations);
  return info;
}

/** screenOrientation values aapt counts as landscape and as portrait. */
const LANDSCAPE = new Set([0, 6, 8, 11]);
const PORTRAIT = new Set([1, 7, 9, 12]);
const TELEPHONY_PERMISSIONS = new Set(
  [
    'CALL_PHONE',
    'CALL_PRIVILEGED',
    'MODIFY_PHONE_STATE',
    'PROCESS_OUTGOING_CALLS',
    'READ_SMS',
    'RECEIVE_SMS',
    'RECEIVE_MMS',
    'RECEIVE_WAP_PUSH',
    'SEND_SMS',
    'WRITE_APN_SETTINGS',
    'WRITE_SMS',
  ].map((p) => `android.permission.${p}`),
);

/**
 * aapt's implied features (`addImpliedFeaturesForPermission` and the orientation and default
 * rules of `aapt dump badging`): what a store would filter devices by although the manifest
 * does not declare it. A declared `<uses-feature>` of the same name (required or not) wins.
 */
function impliedFeatures(
  info: ManifestInfo,
  plain: Set<string>,
  sdk23: Set<string>,
  orientations: Set<'landscape' | 'portrait'>,
): ImpliedFeature[] {
  const found = new Map<string, { reasons: Set<string>; sdk23: boolean }>();
  const imply = (name: string, reason: string, bySdk23: boolean): void => {
    const f = found.get(name);
    if (f === undefined) found.set(name, { reasons: new Set([reason]), sdk23: bySdk23 });
    else {
      f.reasons.add(reason);
      f.sdk23 &&= bySdk23;
    }
  };
  const target = info.targetSdkVersion;
  const permission = (name: string, bySdk23: boolean): void => {
    const requested = `requested ${name} permission`;
    const p = name.replace(/^android\.permission\./, '');
    if (p === 'CAMERA') imply('android.hardware.camera', requested, bySdk23);
    else if (p === 'ACCESS_FINE_LOCATION' || p === 'ACCESS_COARSE_LOCATION') {
      if (target < 21) {
        const f = p === 'ACCESS_FINE_LOCATION' ? 'location.gps' : 'location.network';
        imply(`android.hardware.${f}`, requested, bySdk23);
        imply(`android.hardware.${f}`, 'targetSdkVersion < 21', bySdk23);
      }
      imply('android.hardware.location', requested, bySdk23);
    } else if (
      p === 'ACCESS_MOCK_LOCATION' ||
      p === 'ACCESS_LOCATION_EXTRA_COMMANDS' ||
      p === 'INSTALL_LOCATION_PROVIDER'
    )
      imply('android.hardware.location', requested, bySdk23);
    else if (p === 'BLUETOOTH' || p === 'BLUETOOTH_ADMIN') {
      if (target > 4) {
        imply('android.hardware.bluetooth', requested, bySdk23);
        imply('android.hardware.bluetooth', 'targetSdkVersion > 4', bySdk23);
      }
    } else if (p === 'RECORD_AUDIO') imply('android.hardware.microphone', requested, bySdk23);
    else if (
      p === 'ACCESS_WIFI_STATE' ||
      p === 'CHANGE_WIFI_STATE' ||
      p === 'CHANGE_WIFI_MULTICAST_STATE'
    )
      imply('android.hardware.wifi', requested, bySdk23);
    else if (TELEPHONY_PERMISSIONS.has(name))
      imply('android.hardware.telephony', 'requested a telephony permission', bySdk23);
  };
  for (const p of plain) permission(p, false);
  for (const p of sdk23) permission(p, true);
  const declared = new Set(info.features.map((f) => f.name));
  if (!declared.has('android.hardware.touchscreen') && !declared.has('android.hardware.faketouch'))
    imply('android.hardware.faketouch', 'default feature for all apps', false);
  for (const o of orientations)
    imply(
      `android.hardware.screen.${o}`,
      `one or more activities have specified a ${o} orientation`,
      false,
    );
  return [...found]
    .filter(([name]) => !declared.has(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, f]) => ({ name, reason: [...f.reasons].sort().join(', and '), sdk23: f.sdk23 }));
}

/** The first enabled activity or activity-alias with a MAIN/LAUNCHER intent filter. */
function findLauncher(pkg: string, app: AxmlElement): LauncherActivity | undefined {
  for (const el of app.children) {
    if (el.name !== 'activity' && el.name !== 'activity-alias') continue;
    const enabled = androidAttr(el, ATTR.enabled, 'enabled');
    if (enabled?.type === 'bool' && !enabled.value) continue;
    if (!isLauncher(el)) continue;
    const name = asString(androidAttr(el, ATTR.name, 'name'));
    if (name === undefined) continue;
    const out: LauncherActivity = { name: className(pkg, name) };
    if (el.name === 'activity-alias') {
      const t = asString(androidAttr(el, ATTR.targetActivity, 'targetActivity'));
      if (t === undefined) continue;
      out.targetActivity = className(pkg, t);
    }
    const label = asResource(androidAttr(el, ATTR.label, 'label'));
    const icon = asResource(androidAttr(el, ATTR.icon, 'icon'));
    if (label !== undefined) out.label = label;
    if (icon !== undefined) out.icon = icon;
    return out;
  }
  return undefined;
}
