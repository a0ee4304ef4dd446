/** Checks the privileged helper makes on itself before acting as root. */
import { statSync } from 'node:fs';
import path from 'node:path';

/**
 * Null when root alone can change the helper's code, else which path another user could change:
 * a helper whose files a user can rewrite would run that user's code as root.
 */
export function tamperableHelperPath(root: string): string | null {
  const check = [
    root,
    path.join(root, 'out'),
    path.join(root, 'out', 'electron'),
    path.join(root, 'out', 'cli'),
    path.join(root, 'node_modules'),
  ];
  let dir = root;
  while (path.dirname(dir) !== dir) {
    dir = path.dirname(dir);
    check.push(dir);
  }
  for (const p of check) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    // Sticky world-writable folders (/tmp) are fine: others cannot replace what root owns there.
    const othersWrite = (st.mode & 0o022) !== 0 && !((st.mode & 0o1000) !== 0 && st.uid === 0);
    if (st.uid !== 0 || othersWrite) return p;
  }
  return null;
}
