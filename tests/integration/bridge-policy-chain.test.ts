/**
 * Every bridge field of every policy preset reaches the native bridge: each preset is compiled,
 * its bridge settings taken the way a session takes them (`bridgeSettingsFromPolicy` with the
 * native module's `bridgeSupportedGlobals`), a real `SessionBridge` starts its real bridge
 * process toward a headless weston, and the configuration that process reports in its 'ready'
 * line is compared field by field with the compiled policy. This is where `maxFds` used to drop
 * (strict's 64 ran as 256) and the android preset's `zwp_linux_dmabuf_v1` was always lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bridgeExecutablePath } from '../../electron/core/display/bridge-process.js';
import { supportedBridgeGlobals } from '../../electron/core/display/bridge.js';
import { compilePolicy } from '../../electron/core/policy/policy-compile.js';
import { loadPreset, PRESET_NAMES } from '../../electron/core/policy/presets.js';
import { instancePaths } from '../../electron/core/runtime/instance-paths.js';
import {
  SessionBridge,
  bridgeSettingsFromPolicy,
} from '../../electron/core/runtime/session-bridge.js';
import { itNeeds, missingTool, needRoot } from '../helpers/capability.js';
import { existsSync } from 'node:fs';
import { startHeadlessWeston, type HeadlessWeston } from './helpers/weston.js';
import { idRangeOfSlot } from '../../electron/core/runtime/id-ranges.js';

function missingCapability(): string | null {
  const root = needRoot();
  if (root) return root;
  const tool = missingTool(['weston', 'weston-screenshooter']);
  if (tool !== null) return tool;
  if (!existsSync(bridgeExecutablePath()))
    return 'droidway-bridge is not built (npm run build:native)';
  return null;
}
const missing = missingCapability();

describe('policy → native bridge settings chain', () => {
  let weston: HeadlessWeston | null = null;
  let dir = '';
  beforeAll(async () => {
    if (missing !== null) return;
    weston = await startHeadlessWeston('droidway-bridge-chain-');
    dir = mkdtempSync('/tmp/droidway-bridge-chain-');
  }, 60_000);
  afterAll(() => {
    weston?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  for (const preset of PRESET_NAMES) {
    itNeeds(
      `every bridge field of the ${preset} preset reaches the native bridge`,
      missing,
      async () => {
        const compiled = compilePolicy(loadPreset(preset), {
          idRange: idRangeOfSlot(0),
          name: `chain-${preset}`,
          rootfsPath: path.join(dir, 'rootfs'),
          logFile: path.join(dir, 'lxc.log'),
        }).bridge;
        const supported = supportedBridgeGlobals();
        const { settings, dropped } = bridgeSettingsFromPolicy(compiled, supported);
        // A global the native bridge cannot relay is named (the session notes it), never lost
        // silently: every global of the policy is either passed on or in `dropped`.
        const relayable = compiled.globals.filter((g) => supported.includes(g as never));
        expect(dropped).toEqual(compiled.globals.filter((g) => !supported.includes(g as never)));
        const paths = instancePaths(`chain-${preset}`, {
          dataRoot: path.join(dir, 'data'),
          runtimeRoot: path.join(dir, 'run'),
        });
        const sb = await SessionBridge.start({
          paths,
          config: { enabled: true, hostSocket: weston!.socket, settings },
        });
        try {
          expect(await sb.whenSettled()).toBe('running');
          const effective = sb.effectiveConfig();
          expect(effective).not.toBeNull();
          // Field by field, from the compiled policy to what the bridge process parsed.
          expect(effective!.globals).toEqual(relayable);
          expect(effective!.requireSealed).toBe(compiled.requireSealedBuffers);
          expect(effective!.clipboard).toEqual(compiled.clipboard);
          expect(effective!.clipboard.mode).toBe('host-to-guest');
          expect(effective!.limits).toEqual({
            maxObjects: compiled.maxObjects,
            maxPools: compiled.maxPools,
            maxBuffers: compiled.maxBuffers,
            maxSurfaces: compiled.maxSurfaces,
            maxFds: compiled.maxFds,
          });
          // And no policy field is left without a counterpart on the native side.
          expect(Object.keys(compiled).sort()).toEqual(
            [
              'clipboard',
              'globals',
              'maxBuffers',
              'maxFds',
              'maxObjects',
              'maxPools',
              'maxSurfaces',
              'requireSealedBuffers',
            ].sort(),
          );
          expect(effective!.socketPath).toBe(paths.bridgeSocket);
          expect(effective!.hostSocketPath).toBe(weston!.socket);
          if (preset === 'android') expect(effective!.globals).toContain('zwp_linux_dmabuf_v1');
          if (preset === 'strict') expect(effective!.limits.maxFds).toBe(64);
        } finally {
          await sb.stop();
        }
      },
    );
  }
});
