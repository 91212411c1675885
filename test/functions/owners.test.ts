// Issue 9, part 3: the people who own tenants. Sales binds an existing account only when its email is
// verified and reclaims an unverified one first; the welcome mail, delivered to the local inbox, carries
// the link its owner needs; tenants record whether the owner's email is verified. Real Auth emulator
// (action links, revocation), real web SDK, the saga in-process against the local Stripe simulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { deleteApp, initializeApp } from 'firebase/app';
import { applyActionCode, confirmPasswordReset, connectAuthEmulator, getAuth, signInWithEmailAndPassword, verifyPasswordResetCode } from 'firebase/auth';
import { DomainError } from '../../functions/src/domain/errors';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../../functions/src/provisioning/saga';
import { startFakeStripe, type FakeStripe } from '../../tools/fake-stripe/server';
import { client, rejectsWith } from '../helpers/callables';
import { auth, clearEmulators, db, deps, projectId } from '../helpers/emulators';
import { clearInbox, linksIn, mailTo } from '../helpers/inbox';

let fake: FakeStripe;
let saga: { db: typeof db; auth: typeof auth; stripe: Stripe };
const people = initializeApp({ projectId, apiKey: 'demo-key' }, 'owners-test');
const personAuth = getAuth(people);
connectAuthEmulator(personAuth, `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`, { disableWarnings: true });

beforeAll(async () => {
  fake = await startFakeStripe({ port: 0 });
  saga = { db, auth, stripe: new Stripe('sk_test_owners', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false }) };
});
afterAll(async () => {
  await fake.close();
  await deleteApp(people);
});
beforeEach(async () => {
  await clearEmulators();
  await clearInbox();
  fake.reset();
});

const salesRequest = (email: string, overrides: Record<string, unknown> = {}) => ({
  idempotencyKey: `deal-${email}`,
  source: 'sales' as const,
  owner: { email, displayName: 'Casey Owner' },
  companyName: 'BigCorp',
  plan: 'enterprise' as const,
  requestedBy: 'staff-1',
  ...overrides,
});

async function provisionAndRun(request: Parameters<typeof provisionTenant>[1]) {
  const result = await provisionTenant(deps, request);
  expect(await runProvisioningJob(saga, result.jobId, { backoffMs: 1 })).toBe('completed');
  return result;
}

/** The welcome mail's one link, as delivered to the inbox, and its action code. */
async function welcomeLink(email: string) {
  const mail = await mailTo(email, /^Welcome to /);
  const [link] = linksIn(mail);
  const url = new URL(link.href);
  return { mail, text: link.text, url, oobCode: url.searchParams.get('oobCode') ?? '' };
}

const passwordWorks = (email: string, password: string) =>
  signInWithEmailAndPassword(personAuth, email, password).then(
    () => true,
    (error) => (['auth/wrong-password', 'auth/invalid-credential'].includes(error.code) ? false : Promise.reject(error)),
  );

describe('sales provisioning binds the named admin', () => {
  it('reclaims an unverified account before binding it: the old password and sessions stop working, the mailbox owner sets a new one', async () => {
    // Someone signed up first with the customer's address, and cannot read that mailbox.
    const squatter = await auth.createUser({ email: 'cto@bigcorp.test', password: 'squatter-pw-1' });
    const session = await signInWithEmailAndPassword(personAuth, 'cto@bigcorp.test', 'squatter-pw-1');
    const squatterToken = await session.user.getIdToken();
    const validBefore = Date.parse((await auth.getUser(squatter.uid)).tokensValidAfterTime!);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // revocation is recorded in whole seconds

    const { tenantId } = await provisionAndRun(salesRequest('cto@bigcorp.test'));
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect(tenant.ownerUid).toBe(squatter.uid);
    expect(await passwordWorks('cto@bigcorp.test', 'squatter-pw-1')).toBe(false);
    expect(Date.parse((await auth.getUser(squatter.uid)).tokensValidAfterTime!)).toBeGreaterThan(validBefore);
    await expect(auth.verifyIdToken(squatterToken, true)).rejects.toMatchObject({ code: 'auth/id-token-revoked' });

    const { text, url, oobCode } = await welcomeLink('cto@bigcorp.test');
    expect(text).toBe('Choose your password');
    expect(`${url.origin}${url.pathname}`).toBe(`${process.env.APP_URL}/auth/action`);
    expect(url.searchParams.get('mode')).toBe('resetPassword');
    expect(await verifyPasswordResetCode(personAuth, oobCode)).toBe('cto@bigcorp.test');
    await confirmPasswordReset(personAuth, oobCode, 'mailbox-owner-pw-1');
    expect(await passwordWorks('cto@bigcorp.test', 'mailbox-owner-pw-1')).toBe(true);
    expect((await db.doc(`tenants/${tenantId}/members/${squatter.uid}`).get()).get('role')).toBe('owner');
  });

  it('binds an account whose email is verified as it is, and its welcome mail just says sign in', async () => {
    const owner = await auth.createUser({ email: 'cfo@bigcorp.test', password: 'own-password-1', emailVerified: true });
    const validBefore = (await auth.getUser(owner.uid)).tokensValidAfterTime;
    const { tenantId } = await provisionAndRun(salesRequest('cfo@bigcorp.test'));
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect([tenant.ownerUid, tenant.ownerEmailVerified]).toEqual([owner.uid, true]);
    expect(await passwordWorks('cfo@bigcorp.test', 'own-password-1')).toBe(true);
    expect((await auth.getUser(owner.uid)).tokensValidAfterTime).toBe(validBefore);
    const { text, url } = await welcomeLink('cfo@bigcorp.test');
    expect(text).toBe('Sign in');
    expect(url.href).toBe(`${process.env.APP_URL}/app`);
  });

  it('a refused request and a replay reclaim no account', async () => {
    await auth.createUser({ email: 'ops@bigcorp.test', password: 'ops-password-1' });
    await provisionAndRun(salesRequest('someone@else.test', { slug: 'bigcorp', idempotencyKey: 'deal-taken-slug' }));
    await expect(provisionTenant(deps, salesRequest('ops@bigcorp.test', { slug: 'bigcorp' }))).rejects.toSatisfy(
      (e: DomainError) => e.code === 'already-exists' && e.details?.field === 'slug',
    );
    expect(await passwordWorks('ops@bigcorp.test', 'ops-password-1'), 'a refused request leaves the account alone').toBe(true);

    const { tenantId } = await provisionAndRun(salesRequest('ops@bigcorp.test'));
    const uid = (await db.doc(`tenants/${tenantId}`).get()).get('ownerUid');
    await auth.updateUser(uid, { password: 'chosen-later-1' });
    expect(await provisionTenant(deps, salesRequest('ops@bigcorp.test'))).toMatchObject({ tenantId });
    expect(await passwordWorks('ops@bigcorp.test', 'chosen-later-1'), 'a replay leaves the account alone').toBe(true);
  });

  it('creates an account without a password for a new admin, whose mailed link sets one; the tenant then records the verified email', async () => {
    const { tenantId } = await provisionAndRun(salesRequest('new.admin@bigcorp.test'));
    const account = await auth.getUserByEmail('new.admin@bigcorp.test');
    expect(account.passwordHash ?? null).toBeNull();
    expect((await db.doc(`tenants/${tenantId}`).get()).get('ownerEmailVerified')).toBe(false);

    const { oobCode } = await welcomeLink('new.admin@bigcorp.test');
    await confirmPasswordReset(personAuth, oobCode, 'password-123');
    // A password set from a mailed link proves the mailbox.
    expect((await auth.getUser(account.uid)).emailVerified).toBe(true);
    const owner = await client('new.admin@bigcorp.test');
    expect(await owner.call('syncEmailVerified', null)).toEqual({ emailVerified: true, tenantIds: [tenantId] });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('ownerEmailVerified')).toBe(true);
    // A used link does not work twice.
    await expect(confirmPasswordReset(personAuth, oobCode, 'another-pw-1')).rejects.toMatchObject({ code: 'auth/invalid-action-code' });
  });
});

describe('self-serve owners', () => {
  it('get an email-verification link; once applied, syncEmailVerified records it on the tenants they own', async () => {
    const caller = await client('ada@analytical.test');
    const { tenantId } = await provisionAndRun({
      idempotencyKey: `self_serve:${caller.uid}`,
      source: 'self_serve',
      owner: { uid: caller.uid, email: 'ada@analytical.test', displayName: 'Ada' },
      companyName: 'Analytical Engines',
      plan: 'team',
      requestedBy: caller.uid,
    });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('ownerEmailVerified')).toBe(false);
    const { text, url, oobCode, mail } = await welcomeLink('ada@analytical.test');
    expect(text).toBe('Confirm your email address');
    expect(url.searchParams.get('mode')).toBe('verifyEmail');
    expect(mail.text).toContain(url.href);

    // Not verified yet: nothing to record.
    expect(await caller.call('syncEmailVerified', {})).toEqual({ emailVerified: false, tenantIds: [] });
    await applyActionCode(personAuth, oobCode);
    expect(await caller.call('syncEmailVerified', {})).toEqual({ emailVerified: true, tenantIds: [tenantId] });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('ownerEmailVerified')).toBe(true);
    expect(await caller.call('syncEmailVerified', {}), 'nothing left to change').toEqual({ emailVerified: true, tenantIds: [] });
  });

  it('syncEmailVerified refuses an anonymous caller and unexpected input, writing nothing', async () => {
    await rejectsWith((await client('')).call('syncEmailVerified', {}), 'unauthenticated');
    await rejectsWith((await client('eve@x.test')).call('syncEmailVerified', { emailVerified: true }), 'invalid-argument');
    expect((await db.collection('tenants').get()).size).toBe(0);
  });
});
