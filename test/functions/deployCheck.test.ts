// Issue 18 item 4: `npm run deploy:check` fails, naming the cause, on each thing it checks. Each cause
// is broken in a temporary copy (under .cache/, so the copies resolve the repo's node_modules) and the
// check's message is asserted; the unbroken tree passes. Needs the built functions (npm test builds them).
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkIndexes, checkRules, checkRuntime, checkSecrets, checkWeb, checkWebBundle, discoverFunctions } from '../../scripts/deploy-check';

const ROOT = join(__dirname, '..', '..');
mkdirSync(join(ROOT, '.cache'), { recursive: true });
const scratch = mkdtempSync(join(ROOT, '.cache', 'deploy-check-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of `relative` (a file or folder of the repo) under a fresh scratch root; `edit` changes one of its files. */
function brokenCopy(relative: string, file: string, edit: (text: string) => string): string {
  const root = mkdtempSync(join(scratch, 'root-'));
  cpSync(join(ROOT, relative), join(root, relative), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes(`${relative}/dist`) });
  // A copy of functions/lib resolves functions/node_modules (zod 4, not the root's), as the original does.
  if (relative.startsWith('functions/')) symlinkSync(join(ROOT, 'functions', 'node_modules'), join(root, 'functions', 'node_modules'));
  const path = join(root, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after, `the edit of ${file} changed nothing`).not.toBe(before);
  writeFileSync(path, after);
  return root;
}

// Loading the built functions and starting a Firestore emulator take minutes on a loaded shared machine.
describe('deploy:check', { timeout: 900_000 }, () => {
  it('passes the runtime, secrets, indexes and rules of this tree', async () => {
    expect(checkRuntime(ROOT).problems).toEqual([]);
    expect(checkSecrets(discoverFunctions(join(ROOT, 'functions', 'lib'))).problems).toEqual([]);
    expect(checkIndexes(JSON.parse(readFileSync(join(ROOT, 'firestore.indexes.json'), 'utf8'))).problems).toEqual([]);
    expect((await checkRules(join(ROOT, 'firestore.rules'))).problems).toEqual([]);
  });

  it('runtime: fails on a decommissioned runtime, naming it', () => {
    const root = brokenCopy('functions/package.json', 'functions/package.json', (text) => text.replace('"node": "22"', '"node": "20"'));
    expect(checkRuntime(root).problems).toEqual(['runtime: nodejs20 was decommissioned on 2026-10-30: Cloud Functions refuses to deploy it']);
  });

  it('secrets: fails on a secret a function binds that no defineSecret declares, and on a declared secret bound to none', () => {
    const typo = brokenCopy('functions/lib', 'functions/lib/triggers/options.js', (text) => text.replace(/secrets: \[([^\]]*STRIPE_SECRET_KEY)\]/, "secrets: [$1, 'STRIPE_KEY']"));
    expect(checkSecrets(discoverFunctions(join(typo, 'functions', 'lib'))).problems).toEqual([
      expect.stringMatching(/^secrets: STRIPE_KEY is bound to .+ but no defineSecret\('STRIPE_KEY'\) declares it/),
    ]);
    const unbound = brokenCopy('functions/lib', 'functions/lib/triggers/options.js', (text) => text.replace(/,\s*[\w.]*STRIPE_WEBHOOK_SECRET\s*\]/, ']'));
    expect(checkSecrets(discoverFunctions(join(unbound, 'functions', 'lib'))).problems).toEqual([
      'secrets: STRIPE_WEBHOOK_SECRET is declared (defineSecret) but bound to no function: add it to the `secrets` of the functions that read it',
    ]);
  });

  it('indexes: fails on a composite query without its index, naming the query', () => {
    const indexes = JSON.parse(readFileSync(join(ROOT, 'firestore.indexes.json'), 'utf8'));
    indexes.indexes = indexes.indexes.filter((index: { collectionGroup: string; fields: unknown[] }) => index.collectionGroup !== 'provisioningJobs' || index.fields.length !== 2);
    expect(checkIndexes(indexes).problems).toEqual([
      'indexes: functions/src/provisioning/sweep.ts (stuck jobs) queries provisioningJobs (COLLECTION) on status ordered by updatedAt ASCENDING, and firestore.indexes.json has no index for it',
    ]);
  });

  it('rules: fails on rules that do not compile', async () => {
    const root = brokenCopy('firestore.rules', 'firestore.rules', (text) => text.replace(/\}\s*$/, ''));
    expect((await checkRules(join(root, 'firestore.rules'))).problems).toEqual([expect.stringMatching(/^rules: firestore.rules does not compile: /)]);
  });

  it('web: the production build fails on the emulator config (L7), naming the file', () => {
    const root = brokenCopy('web', 'web/public/emulators.json', () => readFileSync(join(ROOT, 'web', 'emulators.local.json'), 'utf8'));
    const { problems } = checkWeb(join(root, 'web'), join(root, 'dist'));
    expect(problems).toEqual([expect.stringMatching(/^web: the production build fails: .*emulators\.json is the emulator config: a production build needs "useEmulators": false/)]);
  });

  it('web: a bundle with the local clock and the emulator config fails (the emulators build npm test made is one)', () => {
    expect(checkWebBundle(join(ROOT, 'web', 'dist')).problems).toEqual([
      'web: the production bundle contains the local clock control (advanceLocalClock), which exists for the emulators only',
      'web: the production bundle ships the emulator config (emulators.json without "useEmulators": false)',
    ]);
  });
});
