/** The bench's big-APK generator, for tests that measure the reader on it. */
export function makeBigApk(
  file: string,
  base: string,
  readApkEntry: (file: string, entry: string) => Promise<Buffer>,
  count: number,
): Promise<void>;
declare const bench: { name: string };
export default bench;
