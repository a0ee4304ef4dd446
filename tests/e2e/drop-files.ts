/**
 * A file manager's drop on the page: dragenter, dragover, drop, each with a DataTransfer holding
 * `File`s of these names (their paths registered for the preload's stand-in of
 * webUtils.getPathForFile).
 */
import type { HostPage } from './test-host.js';

/**
 * Drops `files` (name → path) on the window. Resolves once the drop event was dispatched;
 * returns whether the drop overlay showed during the drag.
 */
export async function dropFiles(
  page: HostPage['page'],
  files: Record<string, string>,
): Promise<boolean> {
  await page.evaluate(`window.__droidwayTestFilePaths = ${JSON.stringify(files)}`);
  const names = JSON.stringify(Object.keys(files));
  await page.evaluate(`(() => {
    const transfer = new DataTransfer();
    for (const name of ${names}) transfer.items.add(new File(['x'], name));
    window.__dropTransfer = transfer;
    for (const type of ['dragenter', 'dragover'])
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
  })()`);
  const overlay = await page
    .getByTestId('drop-overlay')
    .waitFor({ timeout: 2000 })
    .then(
      () => true,
      () => false,
    );
  await page.evaluate(`document.body.dispatchEvent(new DragEvent('drop', {
    dataTransfer: window.__dropTransfer, bubbles: true, cancelable: true }))`);
  return overlay;
}
