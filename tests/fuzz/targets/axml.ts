/** Fuzz target: the binary XML decoder and the manifest reader on top of it. */
import { decodeAxml } from '../../../electron/core/apk/axml.js';
import { readManifest } from '../../../electron/core/apk/manifest.js';
import { ANDROID_NS, writeAxml } from '../../unit/core/apk/axml-writer.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError } from './common.js';

export const target: FuzzTarget = {
  name: 'axml',
  seeds: () => {
    const manifest = {
      name: 'manifest',
      attrs: [
        { name: 'package', value: 'org.example.fuzz' },
        { ns: ANDROID_NS, name: 'versionCode', resourceId: 0x0101021b, value: 7 },
      ],
      children: [
        { name: 'uses-sdk', attrs: [{ ns: ANDROID_NS, name: 'minSdkVersion', resourceId: 0x0101020c, value: 21 }] },
        {
          name: 'application',
          attrs: [
            { ns: ANDROID_NS, name: 'label', resourceId: 0x01010001, value: { ref: 0x7f030000 } },
            { ns: ANDROID_NS, name: 'icon', resourceId: 0x01010002, value: { ref: 0x7f020000 } },
            { ns: ANDROID_NS, name: 'debuggable', resourceId: 0x0101000f, value: true },
          ],
          children: [
            {
              name: 'activity',
              attrs: [{ ns: ANDROID_NS, name: 'name', resourceId: 0x01010003, value: '.Main' }],
              children: [
                {
                  name: 'intent-filter',
                  children: [
                    { name: 'action', attrs: [{ ns: ANDROID_NS, name: 'name', resourceId: 0x01010003, value: 'android.intent.action.MAIN' }] },
                    { name: 'category', attrs: [{ ns: ANDROID_NS, name: 'name', resourceId: 0x01010003, value: 'android.intent.category.LAUNCHER' }] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    }; // prettier-ignore
    return [
      writeAxml(manifest),
      writeAxml(manifest, { utf8: true }),
      writeAxml({ name: 'manifest' }),
    ];
  },
  run: (input) => readManifest(decodeAxml(input)),
  typed: isApkError,
  maxLength: 16 * 1024,
};
