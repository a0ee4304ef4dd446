/**
 * The Electron side of the IPC contract, and the only module that touches `ipcMain`. Every
 * channel of the contract gets one `handle` registration that checks the sender
 * (`checkIpcSender`), then hands the raw arguments to the core dispatcher, which validates them
 * and wraps the outcome in a `Result`.
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { dispatch, type CoreApi } from '../core/api.js';
import { IPC_CHANNELS } from '../shared/ipc-contract.js';
import type { Result } from '../shared/result.js';
import { checkIpcSender, type IpcSenderPolicy } from './ipc-sender.js';

/** Options of `registerIpcHandlers`. */
export interface IpcOptions {
  /** The core handlers (`createCoreApi()`). */
  api: CoreApi;
  /** Who may call; `allowedWebContentsIds` is read on every call, so it may change later. */
  senders: IpcSenderPolicy;
  /** Where refused calls are reported; defaults to `console.warn`. */
  warn?: (message: string) => void;
}

/**
 * Registers a handler for every contract channel. Returns a function that removes them again
 * (for an orderly shutdown). Call once, after `app` is ready and before any window loads.
 */
export function registerIpcHandlers(options: IpcOptions): () => void {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(
      channel,
      async (event: IpcMainInvokeEvent, ...args: unknown[]): Promise<Result<unknown>> => {
        const frame = event.senderFrame;
        const refused = checkIpcSender(
          {
            webContentsId: event.sender.id,
            frameUrl: frame?.url ?? null,
            isMainFrame: frame !== null && frame.parent === null,
          },
          options.senders,
        );
        if (refused !== null) {
          warn(`${channel}: ${refused.message}`);
          return { ok: false, error: refused };
        }
        return dispatch(options.api, channel, args);
      },
    );
  }
  return () => {
    for (const channel of IPC_CHANNELS) ipcMain.removeHandler(channel);
  };
}
