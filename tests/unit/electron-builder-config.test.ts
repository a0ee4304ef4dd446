/**
 * The packaging config (`build/electron-builder.json`) parses, keeps the native addon out of the
 * asar, packages AppImage and deb with the `.apk` association, and names only files that exist
 * in the checkout (or that the build makes: `out/`, `renderer/dist/`, the addon, the probe).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const config = JSON.parse(readFileSync(join(root, 'build', 'electron-builder.json'), 'utf8')) as {
  appId: string;
  files: string[];
  asarUnpack: string[];
  fileAssociations: { ext: string; mimeType: string }[];
  linux: {
    target: string[];
    icon: string;
    mimeTypes: string[];
    desktop: { entry: Record<string, string> };
  };
  deb: { fpm: string[]; depends: string[] };
};
/** Outputs of the build, not in the checkout. */
const BUILT = [
  'out/',
  'renderer/dist/',
  'native/build/',
  'native/probe/build/',
  'native/guest/build/',
  'node_modules/',
];

function checkedIn(pattern: string): string | null {
  const path = pattern.replace(/^!/, '');
  if (BUILT.some((prefix) => path.startsWith(prefix)) || path.startsWith('**')) return null;
  return path.replace(/\/\*\*\/\*$/, '').replace(/\/\*\*$/, '');
}

describe('build/electron-builder.json', () => {
  it('builds AppImage and deb with the .apk association and the desktop entry', () => {
    expect(config.appId).toBe('org.droidway.Droidway');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.fileAssociations).toContainEqual(
      expect.objectContaining({ ext: 'apk', mimeType: 'application/vnd.android.package-archive' }),
    );
    expect(config.linux.mimeTypes).toContain('application/vnd.android.package-archive');
    // The entry matches the checked-in desktop file, so the two cannot drift.
    const desktop = readFileSync(join(root, 'resources', 'desktop', 'droidway.desktop'), 'utf8');
    for (const [key, value] of Object.entries(config.linux.desktop.entry)) {
      expect(desktop).toContain(`${key}=${value}`);
    }
  });

  it('unpacks the native addon, the bridge process and the probe from the asar', () => {
    expect(config.asarUnpack).toContain('native/build/Release/droidway_native.node');
    // Sessions run the display bridge as this executable; it cannot run from inside an asar.
    expect(config.asarUnpack).toContain('native/build/bridge-process/droidway-bridge');
    expect(config.asarUnpack).toContain('native/probe/build/droidway-probe');
    for (const unpacked of config.asarUnpack) {
      // electron-builder packages the production node_modules by itself.
      const covered =
        unpacked.startsWith('node_modules/') ||
        config.files.some((f) => f === unpacked || unpacked.startsWith(f.replace(/\*\*\/\*$/, '')));
      expect(covered, `${unpacked} is unpacked but not packaged`).toBe(true);
    }
  });

  it('names only files that exist', () => {
    const referenced = [
      config.linux.icon,
      ...config.files.map(checkedIn),
      ...config.asarUnpack.map(checkedIn),
      ...config.deb.fpm.map((mapping) => mapping.split('=')[0]),
    ].filter((p): p is string => p !== null && p !== undefined);
    expect(referenced.length).toBeGreaterThan(4);
    for (const path of referenced) expect(existsSync(join(root, path)), path).toBe(true);
  });

  it('installs the polkit policy for the helper, admin-only and active sessions only', () => {
    const mapping = config.deb.fpm.find((m) => m.includes('polkit'));
    expect(mapping).toBe(
      'build/polkit/org.droidway.helper.policy=/usr/share/polkit-1/actions/org.droidway.helper.policy',
    );
    const policy = readFileSync(
      join(root, 'build', 'polkit', 'org.droidway.helper.policy'),
      'utf8',
    );
    expect(policy).toMatch(/<action id="org\.droidway\.helper">/);
    expect(policy).toMatch(/<allow_any>no<\/allow_any>/);
    expect(policy).toMatch(/<allow_inactive>no<\/allow_inactive>/);
    expect(policy).toMatch(/<allow_active>auth_admin_keep<\/allow_active>/);
    expect(policy).toMatch(/org\.freedesktop\.policykit\.exec\.path">\/opt\/Droidway\//);
  });
});

describe('the packaged privileged helper', () => {
  const full = JSON.parse(readFileSync(join(root, 'build', 'electron-builder.json'), 'utf8')) as {
    extraResources: { from: string; to: string }[];
    asarUnpack: string[];
    files: string[];
    deb: { depends: string[] };
  };

  it('ships the wrapper polkit names, and runs the helper outside the asar', () => {
    const policy = readFileSync(
      join(root, 'build', 'polkit', 'org.droidway.helper.policy'),
      'utf8',
    );
    const execPath = /exec\.path">([^<]+)</.exec(policy)?.[1];
    expect(execPath).toBe('/opt/Droidway/resources/droidway-helper');
    expect(full.extraResources).toContainEqual({
      from: 'build/droidway-helper',
      to: 'droidway-helper',
    });
    const wrapper = readFileSync(join(root, 'build', 'droidway-helper'), 'utf8');
    expect(wrapper).toMatch(/ELECTRON_RUN_AS_NODE=1/);
    const entry = /app\.asar\.unpacked\/(\S+)/.exec(wrapper)?.[1];
    expect(entry).toBe('out/cli/helper-main.js');
    expect(existsSync(join(root, 'electron/core/privileged/helper-main.ts'))).toBe(true);
    expect(full.asarUnpack).toContain('out/**/*');
  });

  it('packages the guest binaries and depends on what a session needs', () => {
    expect(full.files).toContain('native/guest/build/droidway-demo-client');
    expect(full.asarUnpack).toContain('native/guest/build/droidway-demo-client');
    for (const dep of ['lxc', 'busybox-static', 'dbus']) expect(full.deb.depends).toContain(dep);
    expect(full.deb.depends.some((d) => d.includes('pkexec'))).toBe(true);
  });
});
