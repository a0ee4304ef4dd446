// Child half of ashmem-share.test.ts. Runs in its own Node process with one end of a
// SOCK_SEQPACKET pair as fd 3. Each request is a JSON command with one region fd attached; the
// child inspects and maps that fd as asked and answers with JSON (what it saw, or the error it
// got), then closes the fd. A 0-byte read (the parent closed its end) ends the process.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const native = createRequire(import.meta.url)(process.argv[2]);
const SOCKET = 3;

function errorFields(error) {
  return {
    ok: false,
    name: error.name,
    code: error.code,
    errno: error.errno,
    syscall: error.syscall,
  };
}

async function serve() {
  for (;;) {
    const message = await native.recvMessage(SOCKET, 4096, 4, 15_000);
    if (message.data.length === 0) return;
    const command = JSON.parse(message.data.toString('utf8'));
    let reply;
    try {
      reply = handle(command, message.fds);
    } catch (error) {
      reply = errorFields(error);
    } finally {
      for (const fd of message.fds) native.closeFd(fd);
    }
    await native.sendMessage(SOCKET, Buffer.from(JSON.stringify(reply)), [], 5_000);
  }
}

function handle(command, fds) {
  if (fds.length !== 1) return { ok: false, code: 'NO_FD', received: fds.length };
  const fd = fds[0];
  const info = native.inspectFd(fd);
  const size = native.ashmemGetSize(fd);
  let mapping;
  try {
    mapping = native.mapFd(fd, { writable: command.writable, offset: 0, length: size });
  } catch (error) {
    return { ...errorFields(error), info };
  }
  try {
    const bytes = new Uint8Array(mapping.buffer);
    if (command.write) bytes[command.write.offset] = command.write.value;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { ok: true, info, size, sha256, head: Array.from(bytes.subarray(0, 8)) };
  } finally {
    mapping.unmap();
  }
}

serve().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`share-child: ${error.stack}\n`);
    process.exit(1);
  },
);
