import { defineConfig } from 'vitest/config';

/**
 * Four layers, one command (`npm test`):
 * - unit: fast, no root, no built addon (and the fuzz targets' smoke run, tests/fuzz);
 * - native: needs the built addon (`npm run build:native`);
 * - integration: root, real LXC and weston; skips locally without them, fails in CI;
 * - e2e: the built renderer in Debian's Chromium under Playwright.
 */
export default defineConfig({
  test: {
    // Compiles the JSON schemas ahead of time (electron/generated/), as the build does.
    globalSetup: ['tests/helpers/compile-validators.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/fuzz/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'native',
          include: ['tests/native/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
