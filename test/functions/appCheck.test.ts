// Issue 18 item 3: App Check on the callables a browser calls. Production mode cannot be reached on
// the emulators (they have no App Check to verify a token with), so the BUILT functions are loaded in
// a process of their own without FUNCTIONS_EMULATOR, as Cloud Functions loads them, and each callable's
// handler is called directly; under the Functions emulator they are called as the web app calls them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BROWSER_CALLABLES } from '../../functions/src/triggers/options';
import { client, rejectsWith } from '../helpers/callables';

const LIB = join(__dirname, '..', '..', 'functions', 'lib', 'index.js');
const HELPER = join(__dirname, '..', 'helpers', 'callBuiltCallable.cjs');
const STAFF_CALLABLES = ['provisionTenant', 'finishProvisioningRollback', 'changeTenantStatus', 'listTenantHistory', 'retryProvisioning', 'readLocalClock', 'advanceLocalClock'];

type Answer = { name: string; status: number; body: { error?: { status: string; message: string } } };

/** One call of each built callable in `names`, in a fresh process with `env` (production: no FUNCTIONS_EMULATOR). */
function callBuilt(names: readonly string[], env: Record<string, string>): Answer[] {
  const { FUNCTIONS_EMULATOR, FIREBASE_DEBUG_MODE, FIREBASE_DEBUG_FEATURES, ...rest } = process.env;
  const output = execFileSync(process.execPath, [HELPER, LIB, ...names], { env: { ...rest, GCLOUD_PROJECT: 'demo-appcheck', ...env }, encoding: 'utf8' });
  const answers = output.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice('RESULT '.length)) as Answer);
  expect(answers.map((a) => a.name), output).toEqual(names);
  return answers;
}

const APP_CHECK_REFUSAL = { status: 401, body: { error: { status: 'UNAUTHENTICATED', message: 'Unauthenticated' } } };
const PRODUCTION = {};
const EMULATOR = { FUNCTIONS_EMULATOR: 'true', FIREBASE_DEBUG_MODE: 'true', FIREBASE_DEBUG_FEATURES: JSON.stringify({ skipTokenVerification: true }) };

describe('App Check on the browser callables', () => {
  it('in production, every browser callable refuses a call without an App Check token before its handler runs', () => {
    // "Unauthenticated" is the SDK's App Check refusal; the handlers' own refusal says "Sign in first".
    expect(callBuilt(BROWSER_CALLABLES, PRODUCTION)).toEqual(BROWSER_CALLABLES.map((name) => ({ name, ...APP_CHECK_REFUSAL })));
  });

  it('in production, a token that is not a valid App Check token is refused too', () => {
    expect(callBuilt(['submitSignup'], { APP_CHECK_TOKEN: 'not-a-jwt' })).toEqual([{ name: 'submitSignup', ...APP_CHECK_REFUSAL }]);
  });

  it('in production, staff-only callables stay as they were: no App Check demanded, their own sign-in check answers', () => {
    const answers = callBuilt(STAFF_CALLABLES, PRODUCTION).map(({ name, status, body }) => ({ name, status, message: body.error?.message }));
    expect(answers).toEqual(STAFF_CALLABLES.map((name) => ({ name, status: 401, message: 'Sign in first' })));
  });

  it('under the Functions emulator the same built callables reach their handlers without a token', () => {
    const answers = callBuilt(BROWSER_CALLABLES, EMULATOR).map(({ name, status, body }) => ({ name, status, code: body.error?.status, message: body.error?.message }));
    // Past App Check, each handler refuses the empty, signed-out call with its own words.
    for (const answer of answers) expect(answer.message, answer.name).not.toBe('Unauthenticated');
  });

  it('on the running emulator suite a browser callable answers a caller without App Check (describeInvite validates its input)', async () => {
    const anonymous = await client('');
    await rejectsWith(anonymous.call('describeInvite', {}), 'invalid-argument');
  });
});
