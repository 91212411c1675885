// Issue 9 in a real browser: the owner's way in. A sales-provisioned admin opens the password-setup link
// of the welcome mail from the local inbox (MailDev, fed by the local mail worker), sets a password and
// lands on the tenant as its owner; "Forgot password?" and the self-serve confirmation link, likewise.
import { beforeEach, describe, expect, it } from 'vitest';
import { auth, db, eventually, followConfirmationLink, projectId } from '../helpers/emulators';
import { clearInbox, linksIn, mailTo } from '../helpers/inbox';
import { look, PASSWORD, signIn, useBrowser } from './harness';

const app = useBrowser();
const newPage = app.newPage;

describe('the owner in the browser', () => {
  beforeEach(async () => {
    await clearInbox();
  });

  it('a sales-provisioned admin opens the password-setup link from the inbox, sets a password and lands on the tenant as owner', async () => {
    expect(app.origin(), 'the mailed links point at this web app').toBe(process.env.APP_URL);
    const sales = await auth.createUser({ email: 'sally@platform.test', password: PASSWORD });
    await auth.setCustomUserClaims(sales.uid, { platform: 'sales' });

    // Sales provisions the deal; the saga runs on the Functions emulator's task queue.
    const admin = await newPage();
    await admin.goto(`${app.origin()}/admin/new`);
    await signIn(admin, 'sally@platform.test');
    const form = admin.getByRole('form', { name: 'Provision a tenant' });
    await form.getByLabel('Company name').fill('Umbrella Corporation');
    await form.getByLabel('Plan').selectOption('enterprise');
    await form.getByLabel(/^Subdomain/).fill('umbrella');
    await form.getByLabel('Customer admin name').fill('Alice Abernathy');
    await form.getByLabel('Customer admin email').fill('alice@umbrella.test');
    await form.getByRole('button', { name: 'Provision tenant' }).click();
    const result = admin.getByTestId('provision-result');
    await result.locator('[data-testid=job-progress][data-status=completed]').waitFor();
    await result.locator('[data-field=status]', { hasText: 'active' }).waitFor();
    await look(admin, 'owner-admin-provisioned');
    const tenantId = (await result.locator('[data-field=tenantId]').textContent())!;

    // Alice has never signed in: the welcome mail in her inbox is her way in.
    const alice = await auth.getUserByEmail('alice@umbrella.test');
    expect(alice.passwordHash ?? null).toBeNull();
    const mail = await mailTo('alice@umbrella.test', /^Welcome to Umbrella Corporation$/);
    expect(mail.text).toMatch(/choose its password/);
    const [link] = linksIn(mail);
    expect(link.text).toBe('Choose your password');
    expect(link.href.startsWith(`${app.origin()}/auth/action?mode=resetPassword&`)).toBe(true);

    const page = await newPage();
    await page.goto(link.href);
    const choose = page.getByRole('form', { name: 'Choose a password' });
    await choose.waitFor();
    await page.getByText('alice@umbrella.test').waitFor();
    await look(page, 'owner-choose-password');
    await choose.getByLabel('New password').fill('alice-chose-this-1');
    await choose.getByRole('button', { name: 'Set password and sign in' }).click();

    await page.waitForURL(`${app.origin()}/app/umbrella`);
    await page.getByRole('heading', { name: 'Umbrella Corporation', level: 1 }).waitFor();
    await page.getByText('you are an owner').waitFor();
    expect(await page.locator('.tenant-title [data-status]').getAttribute('data-status')).toBe('active');
    await page.getByText('Signed in as alice@umbrella.test').waitFor();
    await look(page, 'owner-landed-on-tenant');

    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect([tenant.ownerUid, tenant.status]).toEqual([alice.uid, 'active']);
    expect(tenant.ownerEmailVerified, 'setting the password from the mailed link proved the mailbox').toBe(true);

    // The link is spent: opening it again says so instead of offering a form.
    const again = await newPage();
    await again.goto(link.href);
    await again.getByRole('alert').filter({ hasText: /already used|expired/ }).waitFor();
    expect(await again.getByRole('form', { name: 'Choose a password' }).count()).toBe(0);
    await look(again, 'owner-link-spent');
  });

  it('"Forgot password?" on the sign-in form: the reset link leads to the same page and signs the person in', async () => {
    await auth.createUser({ email: 'bob@hooli.test', password: 'forgotten-pw-1' });
    const page = await newPage();
    await page.goto(`${app.origin()}/app`);
    await page.getByLabel('Email').fill('bob@hooli.test');
    await page.getByRole('button', { name: 'Forgot password?' }).click();
    const form = page.getByRole('form', { name: 'Reset your password' });
    expect(await form.getByLabel('Email').inputValue()).toBe('bob@hooli.test');
    await look(page, 'forgot-password');
    await form.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByRole('status').filter({ hasText: 'If an account exists for bob@hooli.test' }).waitFor();
    await look(page, 'forgot-password-sent');

    // Firebase Auth sends this mail itself; the Auth emulator keeps the link instead. Its template's
    // action URL (set in the console in production, see README) is the app's /auth/action page.
    const code = await eventually(async () => {
      const response = await fetch(`http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}/emulator/v1/projects/${projectId}/oobCodes`);
      const { oobCodes } = (await response.json()) as { oobCodes: { email: string; requestType: string; oobLink: string }[] };
      return oobCodes.find((c) => c.email === 'bob@hooli.test' && c.requestType === 'PASSWORD_RESET');
    }, 'the reset code');
    const query = new URL(code.oobLink).searchParams;
    expect(query.get('continueUrl')).toBe(`${app.origin()}/app`);
    await page.goto(`${app.origin()}/auth/action?${query}`);
    await page.getByLabel('New password').fill('remembered-pw-1');
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.waitForURL(`${app.origin()}/app`);
    await page.getByText('Signed in as bob@hooli.test').waitFor();
  });

  it('a self-serve owner confirms their address before the organisation exists; the tenant records it and the welcome mail only signs in', async () => {
    const page = await newPage();
    await page.goto(`${app.origin()}/`);
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Work email').fill('grace@cobol.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Company name').fill('Cobol Systems');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByTestId('awaiting-confirmation').waitFor();
    expect((await db.collection('tenants').where('name', '==', 'Cobol Systems').get()).empty).toBe(true);

    // The confirmation link, opened in the same browser: that page's syncEmailVerified may provision first; either way, one tenant.
    const [link] = linksIn(await mailTo('grace@cobol.test', /^Confirm your email address$/));
    expect(link.text).toBe('Confirm your email address');
    const confirmation = await page.context().newPage();
    await confirmation.goto(link.href);
    await confirmation.getByRole('status').filter({ hasText: 'Your email address is confirmed' }).waitFor();
    await look(confirmation, 'owner-email-confirmed');
    expect((await auth.getUserByEmail('grace@cobol.test')).emailVerified).toBe(true);
    await page.waitForURL(`${app.origin()}/app/cobol-systems`);
    await page.getByRole('heading', { name: 'Cobol Systems', level: 1 }).waitFor();
    const tenants = (await db.collection('tenants').where('name', '==', 'Cobol Systems').get()).docs;
    expect(tenants.map((tenant) => tenant.get('ownerEmailVerified'))).toEqual([true]);

    const [welcome] = linksIn(await mailTo('grace@cobol.test', /^Welcome to Cobol Systems$/));
    expect(welcome.text).toBe('Sign in');
    await confirmation.getByRole('link', { name: 'Continue to your organisation' }).click();
    await confirmation.getByRole('heading', { name: 'Cobol Systems', level: 1 }).waitFor();
  });

  it('the tenant home follows a tenant that is still provisioning, then shows it once it opens', async () => {
    // Stripe answers slowly: the saga stays a while in its first step.
    const held = await fetch(`${process.env.STRIPE_API_BASE}/_fake/delay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: '/v1/customers', ms: 6000, times: 1 }),
    });
    expect(held.status).toBe(200);
    const page = await newPage();
    await page.goto(`${app.origin()}/`);
    await page.getByLabel('Your name').fill('Dora Explorer');
    await page.getByLabel('Work email').fill('dora@maps.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Company name').fill('Maps Inc');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    // Provisioning waits for a confirmed address (M5): the person opens the link from the inbox.
    await page.getByTestId('awaiting-confirmation').waitFor();
    const [link] = linksIn(await mailTo('dora@maps.test', /^Confirm your email address$/));
    await followConfirmationLink(link.href);
    await page.locator('[data-testid=job-progress] [data-step=createStripeCustomer][data-state=running]').waitFor();

    // The same person in a second tab, on the tenant home: the tenant cannot be read yet, its job can.
    const home = await newPage();
    await home.goto(`${app.origin()}/app`);
    await signIn(home, 'dora@maps.test');
    const setup = home.getByRole('region', { name: 'Organisation being set up' });
    await setup.getByText('Setting up your organisation…').waitFor();
    await setup.locator('[data-testid=job-progress]').waitFor();
    await look(home, 'owner-home-while-provisioning');
    await home.getByRole('heading', { name: 'Maps Inc', level: 1 }).waitFor();
    expect(await home.locator('.tenant-title [data-status]').getAttribute('data-status')).toBe('trial');
    expect(await home.getByRole('region', { name: 'Organisation being set up' }).count()).toBe(0);
    await page.waitForURL(`${app.origin()}/app/maps-inc`);
  });
});
