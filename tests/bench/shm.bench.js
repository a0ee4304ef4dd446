// Shared memory through the native module versus the same syscalls in C (same run):
// - create: a named, sealed 64 KiB region made read-only (memfd + F_SEAL_GROW|SHRINK|FUTURE_WRITE)
// - pass: one region fd sent and received over a Unix socket pair with SCM_RIGHTS, plus 64 bytes
// The native path includes the Node-API call and, for `pass`, the hop to the libuv thread pool
// (send and receive run off the JS thread), which is what a JS caller of the module pays; the
// display bridge itself passes fds on its own native thread.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const addonPath = join(root, 'native', 'build', 'Release', 'droidway_native.node');
const baselineSrc = join(root, 'tests', 'bench', 'baseline', 'shm-baseline.c');
const baselineBin = join(root, 'tests', 'artifacts', 'bench', 'shm-baseline');

export default {
  name: 'shm',
  unavailable() {
    return existsSync(addonPath) ? null : 'native addon not built (npm run build:native)';
  },
  async run({ quick }) {
    mkdirSync(dirname(baselineBin), { recursive: true });
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', baselineBin, baselineSrc]);
    const native = createRequire(import.meta.url)(addonPath);
    const nCreate = quick ? 2_000 : 20_000;
    const nPass = quick ? 1_000 : 10_000;

    const baselineCreate = median(3, () =>
      Number(execFileSync(baselineBin, ['create', String(nCreate)]).toString()),
    );
    const ours = median(3, () => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < nCreate; i++) {
        const r = native.ashmemCreate('bench', 65536, 'memfd');
        native.ashmemSetReadOnly(r.fd);
        native.closeFd(r.fd);
      }
      return Number(process.hrtime.bigint() - t0) / nCreate;
    });

    const baselinePass = median(3, () =>
      Number(execFileSync(baselineBin, ['pass', String(nPass)]).toString()),
    );
    const region = native.ashmemCreate('bench', 65536, 'memfd');
    const [a, b] = native.socketPair('stream');
    const payload = new Uint8Array(64).fill(1);
    const oursPass = [];
    for (let round = 0; round < 3; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < nPass; i++) {
        await native.sendMessage(a, payload, [region.fd], 1000);
        const msg = await native.recvMessage(b, 64, 4, 1000);
        for (const fd of msg.fds) native.closeFd(fd);
      }
      oursPass.push(Number(process.hrtime.bigint() - t0) / nPass);
    }
    native.closeFd(a);
    native.closeFd(b);
    native.closeFd(region.fd);
    oursPass.sort((x, y) => x - y);

    return [
      {
        metric: 'create sealed region',
        value: ours / 1000,
        baseline: baselineCreate / 1000,
        baselineName: 'C memfd',
        compared: 'warm in-process call vs same syscalls in C',
        unit: 'µs/op',
      },
      {
        metric: 'pass fd (send+recv)',
        value: oursPass[1] / 1000,
        baseline: baselinePass / 1000,
        baselineName: 'C sendmsg/recvmsg',
        compared: 'warm in-process call vs same syscalls in C',
        unit: 'µs/op',
      },
    ];
  },
};

function median(n, f) {
  const xs = Array.from({ length: n }, f).sort((x, y) => x - y);
  return xs[Math.floor(n / 2)];
}
