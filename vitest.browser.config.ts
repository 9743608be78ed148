import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: tests in a real browser (Debian's Chromium at /usr/bin/chromium, or CHROMIUM_PATH). */
export default defineConfig({
  test: {
    include: ['src/**/*.browser.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
  },
});
