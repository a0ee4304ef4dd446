/**
 * Entry point of a desktop user's display host (see `display-host.ts`), started detached by
 * `droidway session start` as the user:
 *
 *     node display-host-main.js --instance NAME --host-socket PATH --bridge-settings JSON
 *
 * Runs the session's bridge process as the user, answers `status`, `bridge-stats` and `stop` on
 * the user's own control socket, and exits (0) once the session's root host says the session
 * is no longer running, or when asked to stop.
 */
import { parseArgs } from 'node:util';
import { peerCredentials } from '../native/index.js';
import { requestStatus } from './control-client.js';
import { ControlServer } from './control-socket.js';
import { instancePaths } from './instance-paths.js';
import { RuntimeError } from './runtime-errors.js';
import { parseBridgeSettings, SessionBridge } from './session-bridge.js';
import { displayHostSocket } from './display-host.js';

/** How often the root host is asked whether the session still runs. */
const WATCH_INTERVAL_MS = 1000;

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} display-host[${process.pid}]: ${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      instance: { type: 'string' },
      'host-socket': { type: 'string' },
      'bridge-settings': { type: 'string' },
    },
  });
  if (!values.instance || !values['host-socket'] || !values['bridge-settings'])
    throw new Error('--instance, --host-socket and --bridge-settings are required');
  const paths = instancePaths(values.instance);
  const uid = process.getuid?.() ?? 0;
  const bridge = await SessionBridge.start({
    paths,
    config: {
      enabled: true,
      hostSocket: values['host-socket'],
      settings: parseBridgeSettings(values['bridge-settings']),
    },
    userSide: true,
    log,
  });
  let finish: (why: string) => void = () => {};
  const finished = new Promise<string>((resolve) => (finish = resolve));
  const server = await ControlServer.listen({
    socketPath: displayHostSocket(paths.name),
    peerCredentials: (fd) => peerCredentials(fd),
    allowedUids: [uid],
    handler: async (request) => {
      switch (request.method) {
        case 'status':
          return bridge.status();
        case 'bridge-stats':
          return bridge.stats();
        case 'stop':
          setImmediate(() => finish('asked to stop'));
          return bridge.status();
        default:
          throw new RuntimeError(
            'CONTROL_BAD_REQUEST',
            `the display host does not answer ${request.method}`,
          );
      }
    },
  });
  log(`bridge for ${paths.name} toward ${values['host-socket']}: ${bridge.status().state}`);
  const timer = setInterval(() => {
    requestStatus(paths.controlSocket, 2000).then(
      (status) => {
        if (!['starting', 'running', 'frozen'].includes(status.state.name))
          finish(`the session is ${status.state.name}`);
      },
      (e: unknown) => {
        if ((e as { code?: unknown }).code === 'SESSION_NOT_RUNNING')
          finish('the session has ended');
      },
    );
  }, WATCH_INTERVAL_MS);
  const why = await finished;
  clearInterval(timer);
  log(`stopping: ${why}`);
  await bridge.stop(why);
  await server.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
