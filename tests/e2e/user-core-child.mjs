// The core services of the app, run by a desktop user for the e2e tests: what Electron main does
// as that user, over stdin/stdout instead of IPC. Lines in: {"id","channel","args"}; lines out:
// {"id","result"} (a Result from the real `dispatch`) or {"event","payload"} (main → renderer).
//   node user-core-child.mjs REPO_ROOT SETTINGS_DIR
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [root, settingsDir] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(`${root}/out/electron/core/${p}`).href);
const { createCoreApi, dispatch } = await load('api.js');
const { openSettings } = await load('settings/settings-store.js');
const write = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const api = createCoreApi({
  settings: openSettings({ cwd: settingsDir }),
  emit: (event, payload) => write({ event, payload }),
});
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, channel, args } = JSON.parse(line);
  dispatch(api, channel, args).then((result) => write({ id, result }));
});
write({ ready: process.getuid() });
