import { describe, expect, it } from 'vitest';
import {
  androidProps,
  androidPropsText,
  densityForScale,
  validatePropOverrides,
} from '../../../../electron/core/images/android-props.js';

const base = { hasAshmem: false, renderNode: null, scale: 1, multiWindows: false };

describe('androidProps', () => {
  it('on a host without ashmem and DRM: memfd and software rendering, like Waydroid', () => {
    const props = Object.fromEntries(androidProps(base));
    expect(props).toMatchObject({
      'sys.use_memfd': 'true',
      'ro.hardware.gralloc': 'default',
      'ro.hardware.egl': 'swiftshader',
      'persist.waydroid.multi_windows': 'false',
      'waydroid.xdg_runtime_dir': '/run/xdg',
      'waydroid.wayland_display': 'wayland-0',
      'ro.sf.lcd_density': '160',
      'ro.vndk.lite': 'true',
    });
    expect(props['gralloc.gbm.device']).toBeUndefined();
  });

  it('with ashmem and a render node: no memfd, gbm gralloc and mesa EGL on that node', () => {
    const props = Object.fromEntries(
      androidProps({
        ...base,
        hasAshmem: true,
        renderNode: '/dev/dri/renderD128',
        multiWindows: true,
      }),
    );
    expect(props['sys.use_memfd']).toBeUndefined();
    expect(props).toMatchObject({
      'ro.hardware.gralloc': 'gbm',
      'ro.hardware.egl': 'mesa',
      'gralloc.gbm.device': '/dev/dri/renderD128',
      'persist.waydroid.multi_windows': 'true',
    });
  });

  it('derives the density from the scale, clamped, and leaves it out without a scale', () => {
    expect(densityForScale(1.5)).toBe(240);
    expect(densityForScale(2)).toBe(320);
    expect(densityForScale(0.1)).toBe(120);
    expect(densityForScale(10)).toBe(640);
    expect(() => densityForScale(0)).toThrow(expect.objectContaining({ code: 'PROPS_INVALID' }));
    expect(androidProps({ ...base, scale: null }).some(([k]) => k === 'ro.sf.lcd_density')).toBe(
      false,
    );
  });

  it("takes a density override (Settings' Density) over the scale; 0 means from the scale", () => {
    const density = (input: {
      scale?: number | null;
      density?: number | null;
    }): string | undefined =>
      androidProps({ ...base, ...input }).find(([k]) => k === 'ro.sf.lcd_density')?.[1];
    expect(density({ scale: 2, density: 400 })).toBe('400');
    expect(density({ scale: null, density: 200 })).toBe('200');
    expect(density({ scale: 2, density: 0 })).toBe('320');
    expect(density({ scale: 2, density: null })).toBe('320');
    for (const bad of [1.5, -1, 961, Number.NaN])
      expect(() => androidProps({ ...base, density: bad }), String(bad)).toThrow(
        expect.objectContaining({ code: 'PROPS_INVALID' }),
      );
  });

  it('lets overrides replace generated values in place and appends new ones', () => {
    const text = androidPropsText({
      ...base,
      overrides: { 'ro.hardware.egl': 'angle', 'persist.sys.timezone': 'Europe/Berlin' },
    });
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('ro.hardware.egl=angle');
    expect(lines).not.toContain('ro.hardware.egl=swiftshader');
    expect(lines.at(-1)).toBe('persist.sys.timezone=Europe/Berlin');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('refuses a render node outside /dev/dri', () => {
    expect(() => androidProps({ ...base, renderNode: '/etc/passwd' })).toThrow(
      expect.objectContaining({ code: 'PROPS_INVALID', message: expect.stringMatching(/renderD/) }),
    );
  });
});

describe('validatePropOverrides', () => {
  it('accepts nothing, and plain key/value strings', () => {
    expect(validatePropOverrides(undefined)).toEqual([]);
    expect(validatePropOverrides({ 'persist.waydroid.width': '1280' })).toEqual([
      ['persist.waydroid.width', '1280'],
    ]);
  });

  it.each([
    [['not', 'an', 'object'], /must be an object/],
    ['text', /must be an object/],
    [{ 'bad key': '1' }, /property name "bad key" is invalid/],
    [{ 'a..b': '1' }, /is invalid/],
    [{ 'a=b': '1' }, /is invalid/],
    [{ '': '1' }, /is invalid/],
    [{ 'x.y': 1 }, /must be a string/],
    [{ 'x.y': 'line\ninjected.key=1' }, /newline or control character/],
    [{ 'x.y': 'a\rb' }, /newline or control character/],
    [{ 'x.y': 'v'.repeat(93) }, /longer than 92/],
    [{ 'ro.x': 'v'.repeat(1025) }, /longer than 1024/],
  ])('refuses %j', (value, message) => {
    expect(() => validatePropOverrides(value)).toThrow(
      expect.objectContaining({ code: 'PROPS_INVALID', message: expect.stringMatching(message) }),
    );
  });

  it('accepts a long ro. value', () => {
    expect(validatePropOverrides({ 'ro.x': 'v'.repeat(1024) })).toHaveLength(1);
  });

  it('refuses more than 256 overrides', () => {
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`k.${i}`, '1']));
    expect(() => validatePropOverrides(many)).toThrow(
      expect.objectContaining({ code: 'PROPS_INVALID' }),
    );
  });
});
