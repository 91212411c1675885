// The two entry points, called the way production calls them: the callables through the Functions
// emulator with the real web SDK, the Auth trigger through the Auth emulator.
import { beforeEach, describe, expect, it } from 'vitest';
import { provisionSelfServe, submitSignup } from '../../functions/src/provisioning/selfServe';
import type { ProvisioningResult } from '../../functions/src/domain/provisioning';
import {
  allDocumentPaths,
  auth,
  authUserEmails,
  clearEmulators,
  countDocs,
  countGroup,
  db,
  deps,
  eventually,
  followConfirmationLink,
  settledJob,
  verifiedAccount,
} from '../helpers/emulators';
import { client, rejectsWith } from '../helpers/callables';

/** The fake Stripe that the test run started for the Functions emulator (scripts/emulators.mjs). */
async function fakeStripeState(): Promise<{ customers: Array<{ id: string; metadata: Record<string, string> }>; subscriptions: unknown[] }> {
  const response = await fetch(`${process.env.STRIPE_API_BASE}/_fake/state`);
  return response.json() as never;
}

/** A go-live half a year ahead: within Stripe's two-year limit for a trial end, whatever the date. */
const goLive = new Date(Date.now() + 182 * 86_400_000).toISOString().slice(0, 10);
const deal = (overrides: Record<string, unknown> = {}) => ({
  idempotencyKey: crypto.randomUUID(),
  companyName: 'Globex Corporation',
  plan: 'enterprise',
  seatCap: 120,
  goLiveAt: goLive,
  admin: { email: 'hank@globex.test', displayName: 'Hank Scorpio' },
  subdomain: 'globex',
  ...overrides,
});

describe('provisionTenant callable (sales-assisted)', () => {
  beforeEach(async () => {
    await clearEmulators();
    await fetch(`${process.env.STRIPE_API_BASE}/_fake/reset`, { method: 'POST' });
  });

  it('answers unauthenticated without a signed-in user, and writes nothing', async () => {
    const anonymous = await client('');
    await rejectsWith(anonymous.call('provisionTenant', deal()), 'unauthenticated');
    expect(await allDocumentPaths()).toEqual([]);
  });

  it('answers permission-denied to a user without a platform role, or with another claim', async () => {
    for (const [email, claims] of [['someone@acme.test', {}], ['faker@acme.test', { platform: 'owner' }]] as const) {
      const caller = await client(email, claims);
      await rejectsWith(caller.call('provisionTenant', deal()), 'permission-denied', /platform staff/);
    }
    expect(await allDocumentPaths()).toEqual([]);
    expect(await authUserEmails()).toEqual(['faker@acme.test', 'someone@acme.test']);
  });

  it('lets sales and super_admin provision', async () => {
    for (const platform of ['sales', 'super_admin']) {
      const staff = await client(`${platform}@vendor.test`, { platform });
      const result = await staff.call<ProvisioningResult>('provisionTenant', deal({ subdomain: `globex-${platform.replace('_', '-')}` }));
      expect(result.tenantId).toBeTruthy();
    }
    expect(await countDocs('tenants')).toBe(2);
  });

  const invalid: Array<[string, Record<string, unknown> | null, RegExp]> = [
    ['missing idempotency key', { idempotencyKey: undefined }, /idempotencyKey/],
    ['short idempotency key', { idempotencyKey: 'abc' }, /idempotencyKey/],
    ['one-letter company name', { companyName: 'G' }, /companyName/],
    ['unknown plan', { plan: 'gold' }, /plan: one of starter, team, enterprise/],
    ['zero seats', { seatCap: 0 }, /seatCap: at least 1/],
    ['fractional seats', { seatCap: 1.5 }, /seatCap: a whole number/],
    ['seats as text', { seatCap: 'ten' }, /seatCap/],
    ['go-live that is not a date', { goLiveAt: 'next spring' }, /goLiveAt: an ISO date/],
    ['go-live beyond Stripe\'s two-year trial limit', { goLiveAt: '2099-01-01' }, /goLiveAt: at most 730 days ahead/],
    ['admin email that is not one', { admin: { email: 'hank', displayName: 'Hank' } }, /admin\.email: a valid email address/],
    ['admin without a name', { admin: { email: 'hank@globex.test', displayName: '' } }, /admin\.displayName/],
    ['payment terms of zero days', { daysUntilDue: 0 }, /daysUntilDue: at least 1 day/],
    ['payment terms over a year', { daysUntilDue: 400 }, /daysUntilDue: at most 365 days/],
    ['reserved subdomain', { subdomain: 'www' }, /subdomain: is reserved/],
    ['subdomain with spaces', { subdomain: 'glob ex' }, /subdomain: 3 to 40 characters/],
    ['unknown field', { discount: 50 }, /discount|unrecognized/i],
  ];
  for (const [what, change, message] of invalid) {
    it(`answers invalid-argument naming the field for ${what}, and writes nothing`, async () => {
      const staff = await client('sales@vendor.test', { platform: 'sales' });
      await rejectsWith(staff.call('provisionTenant', deal(change ?? {})), 'invalid-argument', message);
      expect(await allDocumentPaths()).toEqual([]);
      expect(await authUserEmails()).toEqual(['sales@vendor.test']);
    });
  }

  it('answers invalid-argument for a request with no data at all', async () => {
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    await rejectsWith(staff.call('provisionTenant', null), 'invalid-argument', /request/);
    expect(await allDocumentPaths()).toEqual([]);
  });

  it('lands the contract values exactly as given, with the named admin created and made owner', async () => {
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    const result = await staff.call<ProvisioningResult>('provisionTenant', deal());
    expect(result.status, 'every tenant opens in provisioning').toBe('provisioning');
    expect((await settledJob(result.jobId)).status).toBe('completed');
    const tenant = (await db.doc(`tenants/${result.tenantId}`).get()).data()!;
    expect(tenant.name).toBe('Globex Corporation');
    expect(tenant.plan).toBe('enterprise');
    expect(tenant.seatCap).toBe(120);
    expect(tenant.slug).toBe('globex');
    expect(tenant.source).toBe('sales');
    expect(tenant.status).toBe('trial');
    expect(tenant.goLiveAt.toDate().toISOString()).toBe(`${goLive}T00:00:00.000Z`);
    expect(tenant.trialEndsAt.toDate().toISOString()).toBe(`${goLive}T00:00:00.000Z`);
    const admin = await auth.getUserByEmail('hank@globex.test');
    expect(admin.displayName).toBe('Hank Scorpio');
    expect(tenant.ownerUid).toBe(admin.uid);
    expect((await db.doc(`tenants/${result.tenantId}/members/${admin.uid}`).get()).get('role')).toBe('owner');
    const job = (await db.doc(`provisioningJobs/${result.jobId}`).get()).data()!;
    expect(job.requestedBy).toBe(staff.uid);
    expect(job.source).toBe('sales');
  });

  it('starts a tenant whose go-live has come as active, and reuses an existing account as its admin', async () => {
    const existing = await auth.createUser({ email: 'hank@globex.test', displayName: 'Hank' });
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    const result = await staff.call<ProvisioningResult>('provisionTenant', deal({ goLiveAt: '2020-01-01' }));
    expect(result.status).toBe('provisioning');
    expect((await settledJob(result.jobId)).status).toBe('completed');
    expect((await db.doc(`tenants/${result.tenantId}`).get()).get('status')).toBe('active');
    const tenant = (await db.doc(`tenants/${result.tenantId}`).get()).data()!;
    expect(tenant.ownerUid).toBe(existing.uid);
    expect(tenant.trialEndsAt).toBe(null);
  });

  it('makes one tenant from 20 concurrent submissions of one form, each answered with the same result', async () => {
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    const form = deal();
    const results = await Promise.all(Array.from({ length: 20 }, () => staff.call<ProvisioningResult>('provisionTenant', form)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await countDocs('tenants')).toBe(1);
    expect(await countGroup('members')).toBe(1);
    expect(await countDocs('provisioningJobs')).toBe(1);
    expect(await authUserEmails()).toEqual(['hank@globex.test', 'sales@vendor.test']);
    // The saga ran on the real task queue in the Functions emulator: one Stripe customer, one subscription.
    const job = await settledJob(results[0].jobId);
    expect(job.status).toBe('completed');
    const stripe = await fakeStripeState();
    expect(stripe.customers.map((c) => c.metadata.tenantId)).toEqual([results[0].tenantId]);
    expect(stripe.subscriptions.length).toBe(1);
    const tenant = (await db.doc(`tenants/${results[0].tenantId}`).get()).data()!;
    expect([tenant.status, tenant.stripeCustomerId]).toEqual(['trial', stripe.customers[0].id]);
  });

  it('refuses a reused key with other values as already-exists, writing nothing', async () => {
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    const form = deal();
    await settledJob((await staff.call<ProvisioningResult>('provisionTenant', form)).jobId);
    const before = await allDocumentPaths();
    await rejectsWith(staff.call('provisionTenant', { ...form, seatCap: 500 }), 'already-exists', /idempotencyKey/);
    expect(await allDocumentPaths()).toEqual(before);
  });

  it('refuses a subdomain held by another tenant as already-exists, creating no account', async () => {
    const staff = await client('sales@vendor.test', { platform: 'sales' });
    await settledJob((await staff.call<ProvisioningResult>('provisionTenant', deal())).jobId);
    const before = await allDocumentPaths();
    const other = deal({ companyName: 'Globex Two', admin: { email: 'mindy@globex2.test', displayName: 'Mindy' } });
    await rejectsWith(staff.call('provisionTenant', other), 'already-exists', /slug: 'globex' is already taken/);
    expect(await allDocumentPaths()).toEqual(before);
    expect(await authUserEmails()).toEqual(['hank@globex.test', 'sales@vendor.test']);
  });
});

describe('self-serve: the Auth trigger and the signup callable', () => {
  beforeEach(clearEmulators);
  const form = { companyName: 'Initech', ownerName: 'Peter Gibbons', plan: 'team' };

  async function tenantsOf(uid: string) {
    const memberships = await db.collectionGroup('members').where('uid', '==', uid).get();
    return Promise.all(memberships.docs.map(async (m) => (await m.ref.parent.parent!.get()).data()!));
  }

  it('provisions from the form when the callable follows the real trigger, with the typed name and plan', async () => {
    const person = await client('peter@initech.test', {}, { emailVerified: true });
    const result = await person.call<ProvisioningResult>('submitSignup', form);
    expect(result.status).toBe('provisioning');
    const [tenant, ...others] = await tenantsOf(person.uid);
    expect(others.length).toBe(0);
    expect([tenant.name, tenant.plan, tenant.source, tenant.seatCap]).toEqual(['Initech', 'team', 'self_serve', 25]);
  });

  it('lets the real Auth trigger provision when the form is already stored when the account is created', async () => {
    const uid = 'preformed-uid-1';
    await db.doc(`signups/${uid}`).set({ ...form, uid, email: 'milton@initech.test' });
    await auth.createUser({ uid, email: 'milton@initech.test', password: 'password-123', emailVerified: true });
    const tenants = await eventually(async () => {
      const found = await tenantsOf(uid);
      return found.length ? found : null;
    }, 'the onUserCreated trigger to provision');
    expect(tenants.map((t) => [t.name, t.plan])).toEqual([['Initech', 'team']]);
  });

  it('ends with the form values whichever order the trigger and the callable run in', async () => {
    for (const order of ['trigger first', 'form first'] as const) {
      await clearEmulators();
      const account = await verifiedAccount(`uid-${order.replace(' ', '-')}`, 'bill@initech.test');
      let replayed: ProvisioningResult | null;
      if (order === 'trigger first') {
        expect(await provisionSelfServe(deps, account.uid), 'no form yet: nothing to provision').toBe(null);
        expect(await allDocumentPaths()).toEqual([]);
        const result = await submitSignup(deps, account, form);
        replayed = await provisionSelfServe(deps, account.uid);
        expect(replayed).toEqual(result);
      } else {
        const result = await submitSignup(deps, account, form);
        replayed = await provisionSelfServe(deps, account.uid);
        expect(replayed).toEqual(result);
      }
      const tenants = await tenantsOf(account.uid);
      expect(tenants.map((t) => [t.name, t.plan]), order).toEqual([['Initech', 'team']]);
    }
  });

  it('treats every trigger replay as a no-op, even 10 at once beside the callable', async () => {
    const account = await verifiedAccount('uid-replays', 'samir@initech.test');
    await Promise.all([
      submitSignup(deps, account, form),
      ...Array.from({ length: 10 }, () => provisionSelfServe(deps, account.uid)),
    ]);
    for (let i = 0; i < 5; i++) await provisionSelfServe(deps, account.uid);
    expect(await countDocs('tenants')).toBe(1);
    expect(await countGroup('members')).toBe(1);
    expect(await countDocs('provisioningJobs')).toBe(1);
  });

  it('answers unauthenticated to a signup without an account', async () => {
    const anonymous = await client('');
    await rejectsWith(anonymous.call('submitSignup', form), 'unauthenticated');
    expect(await allDocumentPaths()).toEqual([]);
  });

  it('refuses a bad form naming the field, and stores nothing', async () => {
    const person = await client('peter@initech.test');
    await rejectsWith(person.call('submitSignup', { ...form, plan: 'enterprise' }), 'invalid-argument', /plan: .*sold through sales/);
    await rejectsWith(person.call('submitSignup', { ...form, companyName: ' ' }), 'invalid-argument', /companyName/);
    await rejectsWith(person.call('submitSignup', { ...form, ownerName: undefined }), 'invalid-argument', /ownerName/);
    expect(await allDocumentPaths()).toEqual([]);
  });

  it('refuses a taken subdomain, keeps no form, and accepts the fixed form after', async () => {
    const first = await verifiedAccount('uid-first', 'a@first.test');
    await submitSignup(deps, first, { ...form, slug: 'initech' });
    const before = await allDocumentPaths();
    const person = await client('peter@initech.test', {}, { emailVerified: true });
    await rejectsWith(person.call('submitSignup', { ...form, slug: 'initech' }), 'already-exists', /slug: 'initech' is already taken/);
    expect(await allDocumentPaths()).toEqual(before);
    const result = await person.call<ProvisioningResult>('submitSignup', { ...form, slug: 'initech-hq' });
    expect((await db.doc(`tenants/${result.tenantId}`).get()).get('slug')).toBe('initech-hq');
  });

  it('refuses a second, different signup from an account that already has its tenant', async () => {
    const account = await verifiedAccount('uid-twice', 'joanna@chotchkies.test');
    const first = await submitSignup(deps, account, form);
    await expect(submitSignup(deps, account, { ...form, companyName: 'Chotchkies' })).rejects.toMatchObject({ code: 'already-exists', message: expect.stringMatching(/already signed up/) });
    expect((await db.doc(`signups/${account.uid}`).get()).get('companyName')).toBe('Initech');
    expect(await submitSignup(deps, account, form)).toEqual(first);
    expect(await countDocs('tenants')).toBe(1);
  });
});

describe('M5: self-serve provisioning waits for a confirmed address', () => {
  beforeEach(async () => {
    await clearEmulators();
    await fetch(`${process.env.STRIPE_API_BASE}/_fake/reset`, { method: 'POST' });
  });
  // What an attacker would like mailed to an address they do not own.
  const form = { companyName: 'Free money at evil.example', ownerName: 'Peter Gibbons', plan: 'team' };
  const confirmationMails = async (uid: string) => (await db.collection('mail').get()).docs.filter((mail) => mail.id.startsWith(`signup-confirm-${uid}-`));
  const linkOf = (mail: FirebaseFirestore.DocumentData) => /Confirm your email address: (\S+)/.exec(mail.message.text)![1];

  it('M5: an unconfirmed address gets no tenant, no Stripe customer and no welcome mail: failed-precondition naming it, the form kept, one confirmation mail free of the form’s text', async () => {
    const person = await client('peter@initech.test');
    await rejectsWith(person.call('submitSignup', form), 'failed-precondition', /^Confirm your address: we sent a link to peter@initech\.test\./);
    // The page (or a double click) sends the form again within the minute: no second mail.
    await rejectsWith(person.call('submitSignup', form), 'failed-precondition', /we sent a link to peter@initech\.test/);
    expect(await allDocumentPaths()).toEqual([`mail/signup-confirm-${person.uid}-1`, `signups/${person.uid}`]);
    const [mail] = await confirmationMails(person.uid);
    expect([mail.get('to'), mail.get('message.subject')]).toEqual(['peter@initech.test', 'Confirm your email address']);
    expect(JSON.stringify(mail.get('message'))).not.toMatch(/Free money|evil|Peter/);
    expect(new URL(linkOf(mail.data())).searchParams.get('mode')).toBe('verifyEmail');
    expect((await db.doc(`signups/${person.uid}`).get()).get('companyName')).toBe(form.companyName);
    const stripe = await fakeStripeState();
    expect([stripe.customers.length, stripe.subscriptions.length]).toEqual([0, 0]);
  });

  it('M5: once the link is followed, the next submitSignup provisions the kept form, and a replay joins it', async () => {
    const person = await client('milton@initech.test');
    await rejectsWith(person.call('submitSignup', form), 'failed-precondition', /Confirm your address/);
    const [mail] = await confirmationMails(person.uid);
    await followConfirmationLink(linkOf(mail.data()));
    // The ID token still says unverified: Auth's own record is what counts.
    const result = await person.call<ProvisioningResult>('submitSignup', form);
    expect((await settledJob(result.jobId)).status).toBe('completed');
    const tenant = (await db.doc(`tenants/${result.tenantId}`).get()).data()!;
    expect([tenant.name, tenant.ownerUid, tenant.status, tenant.ownerEmailVerified]).toEqual([form.companyName, person.uid, 'trial', true]);
    expect(await provisionSelfServe(deps, person.uid)).toEqual(result);
    expect(await countDocs('tenants')).toBe(1);
  });

  it('M5: syncEmailVerified (the confirmation page) provisions the kept form; the page’s own submitSignup then replays it', async () => {
    const person = await client('samir@initech.test');
    await rejectsWith(person.call('submitSignup', form), 'failed-precondition', /Confirm your address/);
    expect(await person.call('syncEmailVerified', {}), 'not confirmed yet: nothing provisioned').toEqual({ emailVerified: false, tenantIds: [] });
    expect(await countDocs('tenants')).toBe(0);
    await followConfirmationLink(linkOf((await confirmationMails(person.uid))[0].data()));
    await person.call('syncEmailVerified', {});
    const [job] = (await db.collection('provisioningJobs').get()).docs;
    expect((await settledJob(job.id)).status).toBe('completed');
    const replay = await person.call<ProvisioningResult>('submitSignup', form);
    expect(replay.jobId).toBe(job.id);
    expect(await countDocs('tenants')).toBe(1);
  });

  it('M5: the Auth trigger’s routine provisions nothing for an unconfirmed account with a stored form, in either order, and provisions it once confirmed', async () => {
    const uid = 'unconfirmed-uid-1';
    await db.doc(`signups/${uid}`).set({ ...form, uid, email: 'nina@initech.test' });
    await auth.createUser({ uid, email: 'nina@initech.test', password: 'password-123' });
    expect(await provisionSelfServe(deps, uid), 'what onUserCreated runs').toBe(null);
    expect(await allDocumentPaths()).toEqual([`signups/${uid}`]);
    await auth.updateUser(uid, { emailVerified: true });
    const result = await provisionSelfServe(deps, uid);
    expect(result?.tenantId).toBeTruthy();
    expect((await db.doc(`tenants/${result!.tenantId}`).get()).get('name')).toBe(form.companyName);
  });

  it('M5: a subdomain another tenant holds is refused before any mail, and nothing is written', async () => {
    const first = await verifiedAccount('uid-first', 'a@first.test');
    // The in-process deps hold the saga (test/helpers/emulators.ts), so nothing writes while the paths are compared.
    await submitSignup(deps, first, { ...form, slug: 'initech' });
    const before = await allDocumentPaths();
    const person = await client('bob@initech.test');
    await rejectsWith(person.call('submitSignup', { ...form, slug: 'initech' }), 'already-exists', /slug: 'initech' is already taken/);
    expect(await allDocumentPaths()).toEqual(before);
  });
});
