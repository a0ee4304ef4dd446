/**
 * Who may call the IPC contract: the main frame of a window the app created, showing the app's
 * own page. A pure function of the sender's facts, kept apart from `ipc.ts` (which needs Electron)
 * so it is unit-tested in plain Node.
 */
import type { ResultError } from '../shared/result.js';

/** Error code of a call refused because of who sent it. */
export const FORBIDDEN_SENDER_CODE = 'IPC_FORBIDDEN_SENDER';

/** What main knows about the sender of one IPC message. */
export interface IpcSenderFacts {
  /** `event.sender.id`: the sending webContents. */
  webContentsId: number;
  /** `event.senderFrame.url`, or null when the frame is gone (navigated away or destroyed). */
  frameUrl: string | null;
  /** Whether the sending frame is its page's top frame (`senderFrame.parent === null`). */
  isMainFrame: boolean;
}

/** What an acceptable sender looks like. */
export interface IpcSenderPolicy {
  /** webContents ids of the windows the app created and has not yet destroyed. */
  allowedWebContentsIds: ReadonlySet<number>;
  /** `file://` URL of the app's page, `renderer/dist/index.html`. */
  pageUrl: string;
}

/**
 * Checks one sender against the policy: its webContents is one of the app's, it is the main frame
 * (not an iframe), and its document is the app's own page — `file:` scheme, no host, the same
 * path (query and fragment ignored). Returns null when the sender is acceptable, else the
 * `IPC_FORBIDDEN_SENDER` error saying which rule it broke.
 */
export function checkIpcSender(
  sender: IpcSenderFacts,
  policy: IpcSenderPolicy,
): ResultError | null {
  const refuse = (why: string): ResultError => ({
    code: FORBIDDEN_SENDER_CODE,
    message: `IPC refused: ${why}`,
  });
  if (!policy.allowedWebContentsIds.has(sender.webContentsId)) {
    return refuse(`webContents ${sender.webContentsId} is not a window of this app`);
  }
  if (!sender.isMainFrame) return refuse('sender is not the main frame');
  if (sender.frameUrl === null) return refuse('sender frame is gone');
  const expected = parseFileUrl(policy.pageUrl);
  const actual = parseFileUrl(sender.frameUrl);
  if (expected === null) return refuse('the app page URL is not a file: URL');
  if (actual === null || actual !== expected) return refuse('sender is not showing the app page');
  return null;
}

/** `file:` URL without host → its path; anything else → null. */
function parseFileUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'file:' || url.host !== '' || url.username !== '' || url.password !== '') {
    return null;
  }
  return url.pathname;
}
