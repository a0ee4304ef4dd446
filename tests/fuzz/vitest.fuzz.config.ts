import { defineConfig } from 'vitest/config';

/** Long fuzz runs only (`npm run fuzz`); not part of `npm test`. */
export default defineConfig({
  test: {
    include: ['tests/fuzz/long-run.fuzz.ts'],
    globalSetup: ['tests/helpers/compile-validators.ts'],
    environment: 'node',
    testTimeout: 24 * 3600 * 1000,
  },
});
