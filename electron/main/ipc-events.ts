/**
 * The main → renderer half of the contract: `createEventSender` returns the `IpcEventSink` the
 * core services push events into, which sends each event to every window the app created.
 */
import { webContents } from 'electron';
import { IPC_EVENTS, type IpcEventSink } from '../shared/ipc-contract.js';

/**
 * A sink that sends each contract event to every live webContents in `trustedIds` (the app's
 * own windows; never a page the app did not create). An event outside the contract is dropped.
 */
export function createEventSender(trustedIds: ReadonlySet<number>): IpcEventSink {
  return (event, payload) => {
    if (!IPC_EVENTS.includes(event)) return;
    for (const id of trustedIds) {
      const contents = webContents.fromId(id);
      if (contents === undefined || contents.isDestroyed()) continue;
      contents.send(event, payload);
    }
  };
}
