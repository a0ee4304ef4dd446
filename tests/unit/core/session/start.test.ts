/** Who the bridge socket goes to when a session start names nobody. */
import { describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../../../electron/core/policy/policy-compile.js';
import { loadPreset } from '../../../../electron/core/policy/presets.js';
import type { AndroidImage } from '../../../../electron/core/images/image-discovery.js';
import {
  guestCompositorOwner,
  hostEquivalentWarning,
} from '../../../../electron/core/session/start.js';

const base = 1879048192 + 3 * 131072;
const compiled = { rootIds: { uid: base, gid: base } } as CompiledPolicy;

describe('guestCompositorOwner', () => {
  it("gives the demo guest's socket to guest root, Android's to its composer, as the host sees them", () => {
    expect(guestCompositorOwner({ policy: loadPreset('strict'), image: null, compiled })).toEqual({
      uid: base,
      gid: base,
    });
    const image = { name: 'lineage' } as AndroidImage;
    expect(guestCompositorOwner({ policy: loadPreset('android'), image, compiled })).toEqual({
      uid: base + 1000,
      gid: base + 1003,
    });
  });

  it('names nobody without a user namespace, where guest root is host root', () => {
    const root = { rootIds: { uid: 0, gid: 0 } } as CompiledPolicy;
    expect(
      guestCompositorOwner({ policy: loadPreset('privileged'), image: null, compiled: root }),
    ).toBeUndefined();
  });
});

describe('hostEquivalentWarning', () => {
  it('warns for the privileged preset only', () => {
    expect(hostEquivalentWarning(loadPreset('privileged'))).toMatch(/HOST-EQUIVALENT/);
    expect(hostEquivalentWarning(loadPreset('strict'))).toBeNull();
    expect(hostEquivalentWarning(loadPreset('android'))).toBeNull();
  });
});
