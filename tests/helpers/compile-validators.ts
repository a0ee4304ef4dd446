/**
 * Vitest global setup: compiles the schemas into `electron/generated/` before any test file
 * loads, so tests always run the validators of the schemas in the tree (as `npm run build`
 * would make them), also in a checkout that was never built.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(
    new URL('../../build/scripts/compile-validators.js', import.meta.url),
  );
  execFileSync(process.execPath, [script], { stdio: 'inherit' });
}
