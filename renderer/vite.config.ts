/**
 * Builds the renderer into `renderer/dist/` for `file://` loading by Electron (relative `base`)
 * under the strict CSP of `index.html`: no inline script or style may be emitted, so CSS goes to
 * files and the module-preload polyfill (an inline-free but needless script) is off.
 */
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte({ compilerOptions: { runes: true } })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome130',
    modulePreload: { polyfill: false },
    // Inlined assets become data: URLs; only images may be (img-src 'self' data:), so keep
    // every asset a file and the CSP the same for all asset kinds.
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    reportCompressedSize: false,
  },
});
