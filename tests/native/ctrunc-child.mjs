// Child of fd-passing.test.ts: uses up its fd table (keeping `free` slots open), tells the parent
// over fd 3 that it is ready, receives one message, and prints what arrived as JSON. With more
// fds incoming than free slots, the kernel installs what fits and sets MSG_CTRUNC.
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';

const native = createRequire(import.meta.url)(process.argv[2]);
const free = Number(process.argv[3]);
const SOCKET = 3;

const filler = [];
for (;;) {
  try {
    filler.push(openSync('/dev/null', 'r'));
  } catch (error) {
    if (error.code !== 'EMFILE') throw error;
    break;
  }
}
for (const fd of filler.splice(0, free)) closeSync(fd);

await native.sendMessage(SOCKET, Buffer.from('ready'), [], 5_000);
const message = await native.recvMessage(SOCKET, 64, 253, 10_000);
for (const fd of [...message.fds, ...filler]) closeSync(fd);
process.stdout.write(
  `${JSON.stringify({ received: message.fds.length, dropped: message.fdsDropped, controlTruncated: message.controlTruncated })}\n`,
);
