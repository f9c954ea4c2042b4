import { defineConfig } from 'vitest/config';

/**
 * End-to-end files that run one at a time, after the others:
 * - the ones running the `droidworks` CLI with its default settings and the real Docker engine: they
 *   share the default sandbox namespace (`droidworks`), and one's start-up sweep would remove
 *   another's containers (cli-fail-fast and setup run the CLI too, but never start a sandbox on the
 *   engine, so they run two at a time with the rest);
 * - the ones whose assertions are about time (a schedule ticking every 2 s, a deploy within 2 s of
 *   green CI, a rollback within 10 s, a cancel within 5 s): beside another file on two cores they
 *   failed once in three runs (schedules.e2e).
 */
const SERIAL_E2E = [
  'test/e2e/demo.e2e.test.ts',
  'test/e2e/eval-cli.e2e.test.ts',
  'test/e2e/installed-package.e2e.test.ts',
  'test/e2e/product-image.e2e.test.ts',
  'test/e2e/commands.e2e.test.ts',
  'test/e2e/deploy.e2e.test.ts',
  'test/e2e/schedules.e2e.test.ts',
];

const e2e = {
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 180_000,
  hookTimeout: 300_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/e2e/**'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Most files wait on Docker, Redis, git or child processes, not on this process's CPU:
          // three at a time on two cores take 40% less wall time than vitest's default of one.
          maxWorkers: 3,
          // A plain `vitest run` runs unit, then e2e, then e2e-serial, never two groups at once.
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Every stack here has its own Redis key prefix and sandbox namespace: two files at a time.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          exclude: SERIAL_E2E,
          ...e2e,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e-serial',
          include: SERIAL_E2E,
          ...e2e,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
