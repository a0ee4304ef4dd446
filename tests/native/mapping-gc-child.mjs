// Child of native-module.test.ts, run with --expose-gc: shows that garbage collection, not only
// unmap(), releases mappings, and that an ArrayBuffer outliving its Mapping object stays valid.
// Prints one JSON line: the number of mappings of the region in /proc/self/maps at each step.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setImmediate as tick } from 'node:timers/promises';

const native = createRequire(import.meta.url)(process.argv[2]);
const NAME = 'gc-region';

function mappedCount() {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(`/memfd:${NAME}`)).length;
}

async function collect() {
  // Finalizers of external ArrayBuffers run from a later task, so collect, yield, and repeat.
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await tick();
  }
}

const region = native.ashmemCreate(NAME, 65536, 'memfd');
const steps = {};

let kept = (() => {
  const mapping = native.mapFd(region.fd, { writable: true, offset: 0, length: 65536 });
  new Uint8Array(mapping.buffer).fill(0x5a);
  return mapping.buffer; // the Mapping object itself becomes garbage here
})();
for (let i = 0; i < 200; i++)
  native.mapFd(region.fd, { writable: false, offset: 0, length: 65536 });
steps.beforeGc = mappedCount();
await collect();
steps.afterGc = mappedCount();
steps.keptBufferIntact = new Uint8Array(kept).every((b) => b === 0x5a) && kept.byteLength === 65536;
kept = null;
await collect();
steps.afterDroppingBuffer = mappedCount();
native.closeFd(region.fd);
process.stdout.write(`${JSON.stringify(steps)}\n`);
