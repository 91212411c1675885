// The web app in a real browser against the emulators: signup, tenant home and the sales admin page.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { auth, clearEmulators, db, signedInClient } from '../helpers/emulators';
import { launchBrowser, screenshotDir, serveWebApp } from './webApp';

// The password signedInClient() gives the accounts it creates, so the browser can sign in as them too.
const PASSWORD = 'password-123';

let browser: Browser;
let web: Awaited<ReturnType<typeof serveWebApp>>;
let context: BrowserContext;
let page: Page;
let pageErrors: Error[];

async function screenshot(name: string) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

async function tenantsNamed(name: string) {
  return (await db.collection('tenants').where('name', '==', name).get()).docs;
}

async function tenantCount() {
  return (await db.collection('tenants').count().get()).data().count;
}

async function signIn(email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function fillSignup(form: { name: string; email: string; company: string; plan: 'Starter' | 'Team'; slug?: string }) {
  await page.getByLabel('Your name').fill(form.name);
  await page.getByLabel('Work email').fill(form.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Company name').fill(form.company);
  await page.getByRole('radio', { name: new RegExp(`^${form.plan}`) }).check();
  if (form.slug) await page.getByLabel(/^Subdomain/).fill(form.slug);
}

/** A UTC calendar date `days` from today, as `<input type=date>` gives it. */
function dateInDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe('web app', () => {
  beforeAll(async () => {
    web = await serveWebApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });
  beforeEach(async () => {
    await clearEmulators();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    // Generous: a cold Functions worker on a loaded 2-core machine; this waits for an outcome, it times nothing.
    context.setDefaultTimeout(90_000);
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error));
  });
  afterEach(async () => {
    await context.close();
    expect(pageErrors.map(String), 'the page threw no uncaught errors').toEqual([]);
  });

  it('self-serve signup: a double-clicked submit makes one tenant and lands on its home page', async () => {
    await page.goto(`${web.origin}/`);
    await fillSignup({ name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines', plan: 'Team' });
    await screenshot('signup-filled');
    await page.getByRole('button', { name: 'Create organisation' }).dblclick();

    await page.waitForURL(`${web.origin}/app`);
    const card = page.getByRole('region', { name: 'Analytical Engines' });
    await card.getByRole('heading', { name: 'Analytical Engines' }).waitFor();
    expect(await card.locator('[data-field=status]').textContent()).toBe('trial');
    expect(await card.locator('[data-field=plan]').textContent()).toBe('Team');
    expect(await card.locator('[data-field=role]').textContent()).toBe('owner');
    expect(await card.locator('[data-field=seatCap]').textContent()).toBe('25');
    await screenshot('app-after-signup');

    const ada = await auth.getUserByEmail('ada@analytical.test');
    const tenants = await tenantsNamed('Analytical Engines');
    expect(tenants.length).toBe(1);
    expect(await tenantCount()).toBe(1);
    const tenant = tenants[0].data();
    expect(tenant.plan).toBe('team');
    expect(tenant.source).toBe('self_serve');
    expect(tenant.status).toBe('trial');
    expect(tenant.ownerUid).toBe(ada.uid);
    const members = await tenants[0].ref.collection('members').get();
    expect(members.docs.map((m) => [m.id, m.get('role')])).toEqual([[ada.uid, 'owner']]);
    // The page moved on only once the saga had finished: billing and sample data exist.
    expect(tenant).not.toHaveProperty('provisioningState');
    expect((await db.doc(`provisioningJobs/${tenant.provisioningJobId}`).get()).get('status')).toBe('completed');

    // Signing out and back in finds the same organisation through the membership lookup.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await screenshot('app-signed-out');
    await signIn('ada@analytical.test');
    await page.getByRole('heading', { name: 'Analytical Engines' }).waitFor();
  });

  it('self-serve signup: a taken subdomain is reported by name, and the fixed resubmit reuses the account', async () => {
    // Another company holds the subdomain, provisioned by sales through the public callable.
    const sales = await signedInClient('seed-sales@platform.test', { platform: 'sales' });
    await sales.call('provisionTenant', {
      idempotencyKey: 'e2e-seed-taken-subdomain',
      companyName: 'Initech',
      plan: 'team',
      admin: { email: 'someone@initech.test', displayName: 'Someone Else' },
      subdomain: 'initech',
    });
    await sales.close();

    await page.goto(`${web.origin}/`);
    await fillSignup({ name: 'Bill Lumbergh', email: 'bill@initrode.test', company: 'Initrode', plan: 'Starter', slug: 'initech' });
    await page.getByRole('button', { name: 'Create organisation' }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    const message = (await alert.textContent()) ?? '';
    expect(message).toMatch(/^slug: 'initech' is already taken/);
    expect(await page.getByLabel(/^Subdomain/).getAttribute('aria-invalid')).toBe('true');
    // The account exists and the person is signed in: the form no longer asks for email and password.
    await page.getByText('Signed in as bill@initrode.test').waitFor();
    expect(await page.getByLabel('Password').count()).toBe(0);
    await screenshot('signup-subdomain-taken');
    expect(await tenantCount()).toBe(1);
    const bill = await auth.getUserByEmail('bill@initrode.test');

    await page.getByLabel(/^Subdomain/).fill('initrode');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.waitForURL(`${web.origin}/app`);
    await page.getByRole('heading', { name: 'Initrode' }).waitFor();
    expect(await page.locator('[data-field=slug]').textContent()).toBe('initrode');

    const billsTenants = (await db.collection('tenants').where('ownerUid', '==', bill.uid).get()).docs;
    expect(billsTenants.length).toBe(1);
    expect(billsTenants[0].get('slug')).toBe('initrode');
    expect(billsTenants[0].get('plan')).toBe('starter');
    expect(await tenantCount()).toBe(2);
  });

  it('self-serve signup: an email that already has an account gets a clear message', async () => {
    await auth.createUser({ email: 'taken@globex.test', password: PASSWORD });
    await page.goto(`${web.origin}/`);
    await fillSignup({ name: 'Hank Scorpio', email: 'taken@globex.test', company: 'Globex', plan: 'Starter' });
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('alert').waitFor();
    expect((await page.getByRole('alert').textContent()) ?? '').toMatch(/already exists/);
    await screenshot('signup-email-in-use');
    expect(await tenantCount()).toBe(0);
  });

  it('tenant home: waits for a membership that is provisioned after sign-in, without a reload', async () => {
    // An account whose signup form has not arrived yet: the page waits for the membership.
    const carol = await signedInClient('carol@hooli.test');
    await page.goto(`${web.origin}/app`);
    await signIn('carol@hooli.test');
    await page.getByText('Setting up your organisation…').waitFor();
    await screenshot('app-setting-up');

    await carol.call('submitSignup', { companyName: 'Hooli', ownerName: 'Carol', plan: 'starter' });
    await carol.close();
    await page.getByRole('heading', { name: 'Hooli' }).waitFor();
    expect(await page.getByText('Setting up your organisation…').count()).toBe(0);
    expect(await page.locator('[data-field=plan]').textContent()).toBe('Starter');
  });

  it('sales admin page: provisions a tenant with the contract values, once, and lists it', async () => {
    const sales = await auth.createUser({ email: 'sally@platform.test', password: PASSWORD, displayName: 'Sally Sales' });
    await auth.setCustomUserClaims(sales.uid, { platform: 'sales' });
    const goLive = dateInDays(60);

    await page.goto(`${web.origin}/admin`);
    await screenshot('admin-sign-in');
    await signIn('sally@platform.test');
    const form = page.getByRole('form', { name: 'Provision a tenant' });
    await form.waitFor();
    await form.getByLabel('Company name').fill('Umbrella Corporation');
    await form.getByLabel('Plan').selectOption('enterprise');
    await form.getByLabel(/^Seat cap/).fill('120');
    await form.getByLabel(/^Go-live date/).fill(goLive);
    await form.getByLabel(/^Subdomain/).fill('umbrella');
    await form.getByLabel('Customer admin name').fill('Alice Abernathy');
    await form.getByLabel('Customer admin email').fill('alice@umbrella.test');
    await screenshot('admin-form-filled');
    await form.getByRole('button', { name: 'Provision tenant' }).dblclick();

    const result = page.getByTestId('provision-result');
    await result.waitFor();
    const tenantId = await result.locator('[data-field=tenantId]').textContent();
    // The status follows the tenant live: provisioning until the saga opens it.
    await result.locator('[data-field=status]', { hasText: 'trial' }).waitFor();
    expect((await result.locator('[data-field=jobId]').textContent()) ?? '').toMatch(/^job_/);
    // A success resets the form for the next customer.
    expect(await form.getByLabel('Company name').inputValue()).toBe('');
    // The saga's progress follows live on the job document, step by step, to the end.
    await result.locator('[data-testid=job-progress][data-status=completed]').waitFor();
    expect(await result.locator('[data-step]').evaluateAll((steps) => steps.map((s) => (s as HTMLElement).dataset.state))).toEqual(['done', 'done', 'done', 'done', 'done', 'done']);

    const tenants = await tenantsNamed('Umbrella Corporation');
    expect(tenants.length).toBe(1);
    expect(await tenantCount()).toBe(1);
    expect((await db.collection('provisioningJobs').count().get()).data().count).toBe(1);
    expect(tenants[0].id).toBe(tenantId);
    const tenant = tenants[0].data();
    expect(tenant.plan).toBe('enterprise');
    expect(tenant.seatCap).toBe(120);
    expect(tenant.status).toBe('trial');
    expect(tenant.source).toBe('sales');
    expect(tenant.slug).toBe('umbrella');
    expect(tenant.trialEndsAt.toDate().toISOString()).toBe(`${goLive}T00:00:00.000Z`);
    const alice = await auth.getUserByEmail('alice@umbrella.test');
    expect(tenant.ownerUid).toBe(alice.uid);
    expect((await tenants[0].ref.collection('members').doc(alice.uid).get()).get('role')).toBe('owner');

    const row = page.locator(`tr[data-tenant-id="${tenantId}"]`);
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 5)).toEqual(['Umbrella Corporation', 'umbrella', 'Enterprise', 'trial', '120']);
    expect(cells[6]).toBe('sales');
    await screenshot('admin-provisioned');
  });

  it('self-serve signup: a Stripe outage rolls back, shows why, and "Try again" provisions cleanly', async () => {
    // Every attempt to create the subscription fails (more times than the saga retries a step).
    const injected = await fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: '/v1/subscriptions', status: 503, times: 3, message: 'Stripe is unavailable' }),
    });
    expect(injected.status).toBe(200);
    await page.goto(`${web.origin}/`);
    await fillSignup({ name: 'Grace Hopper', email: 'grace@cobol.test', company: 'Cobol Systems', plan: 'Starter' });
    await page.getByRole('button', { name: 'Create organisation' }).click();

    const progress = page.locator('[data-testid=job-progress][data-status=rolled_back]');
    await progress.waitFor();
    expect((await progress.getByRole('alert').textContent()) ?? '').toMatch(/Create Stripe subscription failed: Stripe is unavailable\. Everything was undone/);
    expect(await progress.locator('[data-step=createStripeCustomer]').getAttribute('data-state')).toBe('undone');
    await screenshot('signup-rolled-back');
    const [failed] = await tenantsNamed('Cobol Systems');
    expect(failed.get('status')).toBe('failed');
    expect((await failed.ref.collection('members').get()).size).toBe(0);

    await page.getByRole('button', { name: 'Try again' }).click();
    await page.waitForURL(`${web.origin}/app`);
    await page.getByRole('region', { name: 'Cobol Systems' }).waitFor();
    const tenants = (await tenantsNamed('Cobol Systems')).map((t) => t.get('status')).sort();
    expect(tenants).toEqual(['failed', 'trial']);
  });

  it('sales admin page: a signed-in person without a platform role sees no form', async () => {
    await auth.createUser({ email: 'nosy@customer.test', password: PASSWORD });
    await page.goto(`${web.origin}/admin`);
    await signIn('nosy@customer.test');
    await page.getByText('This page is for platform staff').waitFor();
    expect(await page.getByRole('form', { name: 'Provision a tenant' }).count()).toBe(0);
    expect(await page.getByRole('table').count()).toBe(0);
    expect(await page.getByLabel('Company name').count()).toBe(0);
    await screenshot('admin-not-staff');
  });
});
