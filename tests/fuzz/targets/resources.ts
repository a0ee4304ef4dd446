/** Fuzz target: the resources table parser and its lookups (references, strings, files). */
import { ResourceTable } from '../../../electron/core/apk/resources.js';
import { writeArsc } from '../../unit/core/apk/arsc-writer.js';
import type { FuzzTarget } from '../engine.js';
import { isApkError } from './common.js';

const STRING = 0x03;
const REF = 0x01;
const COLOR = 0x1c;

export const target: FuzzTarget = {
  name: 'resources',
  seeds: () => [
    writeArsc(
      ['Fuzz', 'Fuzz FR', 'res/drawable/icon.png', 'res/drawable-xhdpi/icon.png'],
      [
        { typeId: 3, entries: [{ dataType: STRING, data: 0 }, { dataType: REF, data: 0x7f030000 }] },
        { typeId: 3, lang: 'fr', entries: [{ dataType: STRING, data: 1 }, null] },
        { typeId: 2, density: 160, entries: [{ dataType: STRING, data: 2 }, { dataType: COLOR, data: 0xff00ff00 }] },
        { typeId: 2, density: 320, entries: [{ dataType: STRING, data: 3 }, { dataType: REF, data: 0x7f020001 }] },
      ],
    ),
    writeArsc(['x'], [{ typeId: 1, entries: [{ dataType: REF, data: 0x7f010000 }] }]),
  ], // prettier-ignore
  run: (input) => {
    const table = ResourceTable.parse(input);
    for (const type of [1, 2, 3])
      for (const entry of [0, 1, 2]) {
        const id = 0x7f000000 | (type << 16) | entry;
        table.candidates(id);
        table.strings(id);
        table.files(id);
        table.color(id);
      }
  },
  typed: isApkError,
  maxLength: 16 * 1024,
};
