// One vitest config, a project per kind of test. The pure projects run anywhere (`npx vitest` watches
// them); the others need the emulator suite, which `npm test` (scripts/emulators.mjs) starts and
// announces through FIRESTORE_EMULATOR_HOST, so without it they are left out instead of failing.
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const PURE = ['domain', 'fake-stripe'];
// Rules files each work on a Firestore project of their own (test/helpers/rules.ts, rulesOnlyProject):
// they run side by side, beside the pure files.
const ON_OWN_PROJECT = ['rules'];
// These share the one Functions emulator (it serves a single project) and clear it between tests.
const ON_SHARED_SUITE = ['functions', 'lifecycle', 'e2e'];
const emulatorsRunning = Boolean(process.env.FIRESTORE_EMULATOR_HOST);
const EMULATOR_TIMEOUTS = { testTimeout: 180_000, hookTimeout: 180_000 };

/**
 * Vitest runs the projects of one group order together, with one number of workers per group: first
 * the files that may run side by side (two at a time: this machine has two cores), then those on the
 * shared suite, one file at a time.
 */
const project = (name: string, kind: 'pure' | 'own project' | 'shared suite'): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name,
    include: [`test/${name}/**/*.test.ts`],
    ...(kind === 'shared suite' ? { ...EMULATOR_TIMEOUTS, maxWorkers: 1, sequence: { groupOrder: 1 } } : { maxWorkers: 2, sequence: { groupOrder: 0 } }),
    ...(kind === 'own project' ? EMULATOR_TIMEOUTS : {}),
  },
});

export default defineConfig({
  test: {
    projects: [
      ...PURE.map((name) => project(name, 'pure')),
      ...(emulatorsRunning ? [...ON_OWN_PROJECT.map((name) => project(name, 'own project')), ...ON_SHARED_SUITE.map((name) => project(name, 'shared suite'))] : []),
    ],
    testTimeout: 30_000,
    // What the code under test logs is shown only for a test that failed, beside its assertion.
    silent: 'passed-only',
    coverage: {
      provider: 'v8',
      include: ['functions/src/**/*.ts'],
      reportsDirectory: '.cache/coverage',
      reportOnFailure: true,
      reporter: ['text-summary', 'text', 'html'],
    },
  },
});
