// One vitest config, a project per kind of test. The pure projects run anywhere (`npx vitest` watches
// them); the others need the emulator suite, which `npm test` (scripts/emulators.mjs) starts and
// announces through FIRESTORE_EMULATOR_HOST, so without it they are left out instead of failing.
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const PURE = ['domain', 'fake-stripe'];
const ON_EMULATORS = ['rules', 'functions', 'lifecycle', 'e2e'];
const emulatorsRunning = Boolean(process.env.FIRESTORE_EMULATOR_HOST);

const project = (name: string, onEmulators: boolean): TestProjectInlineConfiguration => ({
  extends: true,
  test: {
    name,
    include: [`test/${name}/**/*.test.ts`],
    // Every emulator-backed file clears the one shared emulator between tests: one file at a time.
    ...(onEmulators ? { fileParallelism: false, testTimeout: 180_000, hookTimeout: 180_000 } : {}),
  },
});

export default defineConfig({
  test: {
    projects: [...PURE.map((name) => project(name, false)), ...(emulatorsRunning ? ON_EMULATORS.map((name) => project(name, true)) : [])],
    // Emulator-backed projects share one emulator suite, so projects and files never run side by side.
    ...(emulatorsRunning ? { fileParallelism: false, maxWorkers: 1 } : {}),
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
