/**
 * What the Apps page needs from the app catalog (`apps:*` channels), as one interface the core
 * API calls, so the catalog, launch and pin services behind it can be swapped in tests.
 */
import type { AppDetails, AppsListing } from '../../shared/apps.js';

/** The services behind the `apps:*` channels. */
export interface AppsService {
  list(): Promise<AppsListing>;
  launch(packageName: string): Promise<void>;
  pin(packageName: string): Promise<void>;
  unpin(packageName: string): Promise<void>;
  remove(packageName: string): Promise<void>;
  info(packageName: string): Promise<AppDetails>;
}

/** The icon size the grid accepts at most; a bigger PNG is left out rather than shipped over IPC. */
export const MAX_ICON_BYTES = 512 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * `data:image/png;base64,…` for PNG bytes, or null when they are not a PNG (by signature) or
 * larger than `MAX_ICON_BYTES`: the renderer only ever gets an image URL it can show safely.
 */
export function pngDataUrl(bytes: Uint8Array | null | undefined): string | null {
  if (bytes === null || bytes === undefined) return null;
  if (bytes.length < 16 || bytes.length > MAX_ICON_BYTES) return null;
  if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return null;
  return `data:image/png;base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64')}`;
}
