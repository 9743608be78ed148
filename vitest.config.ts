import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    // Browser tests need Chromium: `npm run test:browser` (and .ci/run, which installs it when missing).
    exclude: [...configDefaults.exclude, '**/*.browser.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // PGlite instances are memory-hungry (~300 MB each): keep file parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
