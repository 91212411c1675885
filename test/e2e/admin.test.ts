// The admin console in a real browser: refused to anyone without a platform role (and by the server too),
// the tenants table searched, filtered, sorted and paged, a failed provisioning read on its timeline and
// retried by sales, staff actions confirmed with a reason and shown only to the role allowed, the
// provision form's field errors, and the operator finishing a failed undo.
import type { Page } from 'playwright-core';
import { collection, getDocs } from 'firebase/firestore';
import Stripe from 'stripe';
import { planPriceId } from '../../functions/src/adapters/prices';
import { describe, expect, it } from 'vitest';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../../functions/src/provisioning/saga';
import { signedInFirestore } from '../helpers/clientFirestore';
import { auth, db, deps, settledJob, signedInClient } from '../helpers/emulators';
import { look, PASSWORD, signIn, useBrowser } from './harness';
import { account, seedTenant } from './seed';

const app = useBrowser();
const simulator = process.env.STRIPE_API_BASE!;
const base = new URL(simulator);
const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder', { host: base.hostname, port: Number(base.port), protocol: 'http', maxNetworkRetries: 0, telemetry: false });

async function injectStripeFailure(rule: Record<string, unknown>) {
  const response = await fetch(`${simulator}/_fake/failures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  expect(response.status).toBe(200);
}

async function openConsole(page: Page, email: string, path = '/admin') {
  await page.goto(`${app.origin()}${path}`);
  await signIn(page, email);
}

const rowNames = (page: Page) => page.getByTestId('tenants-table').locator('tbody tr td:first-child').allTextContents();

/** A self-serve signup whose subscription Stripe refused three times over: rolled back, its tenant `failed`. */
async function failedSignup() {
  await injectStripeFailure({ method: 'POST', path: '/v1/subscriptions', status: 503, times: 3, message: 'Stripe is unavailable' });
  const grace = await signedInClient('grace@cobol.test');
  const { jobId, tenantId } = await grace.call<{ jobId: string; tenantId: string }>('submitSignup', { companyName: 'Cobol Systems', ownerName: 'Grace', plan: 'starter' });
  await grace.close();
  expect((await settledJob(jobId)).status).toBe('rolled_back');
  return { jobId, tenantId };
}

describe('who may use the console', () => {
  it('refuses a person without a platform role with a clear page, and the server refuses them the data', async () => {
    await seedTenant({ tenantId: 'acme-id', name: 'Acme Robotics', slug: 'acme', status: 'active', members: [{ email: 'owner@acme.test', role: 'owner' }] });
    await account('nosy@customer.test');
    const page = await app.newPage();
    await page.goto(`${app.origin()}/admin`);
    await page.getByRole('heading', { name: 'Admin console' }).waitFor();
    await look(page, 'admin-sign-in');
    await signIn(page, 'nosy@customer.test');
    await page.getByTestId('admin-refused').getByText('has no platform role').waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    await look(page, 'admin-refused');

    // What the page would have read: the tenants (rules) and a tenant's history (callable), refused.
    const nosy = await signedInFirestore('nosy@customer.test', PASSWORD);
    await expect(getDocs(collection(nosy.db, 'tenants'))).rejects.toMatchObject({ code: 'permission-denied' });
    await nosy.close();
    const caller = await signedInClient('nosy@customer.test');
    await expect(caller.call('listTenantHistory', { tenantId: 'acme-id' })).rejects.toMatchObject({ code: 'functions/permission-denied' });
    await expect(caller.call('changeTenantStatus', { tenantId: 'acme-id', action: 'suspend', reason: 'because I can' })).rejects.toMatchObject({
      code: 'functions/permission-denied',
    });
    await caller.close();
    expect((await db.doc('tenants/acme-id').get()).get('status')).toBe('active');
  });
});

describe('the tenants table', () => {
  it('searches by name or subdomain, filters by status, plan and source, sorts, and pages with cursors', async () => {
    await account('sally@platform.test', { platform: 'sales' });
    const names = ['Acme Robotics', 'Acme Rockets', 'Bluth Company', 'Cyberdyne Systems', 'Dunder Mifflin', 'Globex', 'Hooli', 'Initech', 'Massive Dynamic', 'Oscorp', 'Pied Piper', 'Stark Industries', 'Umbrella', 'Vandelay Industries', 'Wayne Enterprises'];
    for (const [i, name] of names.entries()) {
      await seedTenant({
        tenantId: `t${String(i).padStart(2, '0')}`,
        name,
        slug: name.toLowerCase().replace(/[^a-z]+/g, '-'),
        status: i % 3 === 0 ? 'trial' : i % 3 === 1 ? 'active' : 'past_due',
        plan: i % 2 ? 'team' : 'enterprise',
        source: i % 4 === 0 ? 'self_serve' : 'sales',
        members: [{ email: `owner@t${i}.test`, role: 'owner' }],
        createdDaysAgo: 30 - i,
      });
    }
    const page = await app.newPage();
    await openConsole(page, 'sally@platform.test', '/admin?size=10');
    await page.getByTestId('tenants-table').waitFor();
    expect(await rowNames(page)).toEqual([...names].reverse().slice(0, 10));
    // Sales is not offered the local clock, whose callables refuse them.
    expect(await page.getByRole('navigation', { name: 'Admin console' }).getByRole('link').allTextContents()).toEqual(['Tenants', 'Provision a tenant']);
    await look(page, 'admin-tenants');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tenants-table] tbody tr').length === 5);
    expect(await rowNames(page)).toEqual([...names].reverse().slice(10));
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText('Page 1', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tenants-table] tbody tr').length === 10);
    expect((await rowNames(page))[0]).toBe('Wayne Enterprises');

    await page.getByLabel('Sort').selectOption('name');
    await page.waitForURL(/sort=name/);
    await page.waitForFunction(() => document.querySelector('[data-testid=tenants-table] tbody td')?.textContent === 'Acme Robotics');
    expect(await rowNames(page)).toEqual(names.slice(0, 10));

    await page.getByLabel('Search name or subdomain').fill('acme ro');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=acme\+ro/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tenants-table] tbody tr').length === 2);
    expect(await rowNames(page)).toEqual(['Acme Robotics', 'Acme Rockets']);
    // The trial end is shown for the tenant in trial, not for the one that is active.
    const trialEnds = await page.locator('[data-testid=tenants-table] tbody tr td:nth-child(7)').allTextContents();
    expect([trialEnds[0] === '—', trialEnds[1]]).toEqual([false, '—']);
    await page.getByLabel('Search name or subdomain').fill('industries');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=tenants-table] tbody td')?.textContent === 'Stark Industries');
    expect(await rowNames(page)).toEqual(['Stark Industries', 'Vandelay Industries']);

    await page.getByLabel('Status').selectOption('past_due');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tenants-table] tbody tr').length === 1);
    expect(await rowNames(page)).toEqual(['Stark Industries']);
    await look(page, 'admin-tenants-filtered');
    await page.getByLabel('Plan').selectOption('enterprise');
    await page.getByText('No tenants match these filters.').waitFor();
    await look(page, 'admin-tenants-empty');
    await page.getByRole('button', { name: 'Clear the filters' }).click();
    await page.waitForURL(`${app.origin()}/admin`);
    // Chosen at once after clearing: the choice starts from the cleared URL, not the filters the page still shows.
    await page.getByLabel('Source').selectOption('self_serve');
    await page.waitForURL(`${app.origin()}/admin?source=self_serve`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tenants-table] tbody tr').length === 4);
    expect(await rowNames(page)).toEqual(['Umbrella', 'Massive Dynamic', 'Dunder Mifflin', 'Acme Robotics']);
  });
});

describe('a failed provisioning', () => {
  it('sales reads it on the timeline and retries it with a reason; the new attempt opens the tenant', async () => {
    const { jobId, tenantId } = await failedSignup();
    await account('sally@platform.test', { platform: 'sales' });
    const page = await app.newPage();
    await openConsole(page, 'sally@platform.test', '/admin?status=failed');
    await page.getByRole('link', { name: 'Cobol Systems' }).click();
    await page.waitForURL(`${app.origin()}/admin/tenants/${tenantId}`);

    const timeline = page.getByTestId('provisioning-timeline');
    await timeline.waitFor();
    expect(await timeline.getAttribute('data-job-status')).toBe('rolled_back');
    await timeline.getByText('Create Stripe subscription failed: Stripe is unavailable').waitFor();
    const subscriptionRow = timeline.locator('tr[data-step=createStripeSubscription]');
    expect(await subscriptionRow.locator('.bar.error').count()).toBe(3);
    expect(await subscriptionRow.locator('td.what').textContent()).toMatch(/^try 1 failed after .*: Stripe is unavailable; retry 1 failed after .*; retry 2 failed after .*; undo done in/);
    expect(await timeline.locator('tr[data-step=createStripeCustomer] .bar.undo').count()).toBe(1);
    expect(await timeline.locator('tr[data-step=releaseTenant] .bar.undo').count()).toBe(1);
    await page.getByTestId('history-table').getByText('provisioning rolled back').waitFor();
    // Sales may retry; suspending, cancelling or activating are super_admin's, and are not offered.
    const actions = page.getByRole('region', { name: 'Actions' });
    expect(await actions.getByRole('button').allTextContents()).toEqual(['Retry provisioning']);
    expect(await page.getByText('Member lists are tenant data: only super admins see them').count()).toBe(1);
    await look(page, 'admin-tenant-failed');

    await actions.getByRole('button', { name: 'Retry provisioning' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry provisioning: Cobol Systems' });
    await dialog.getByRole('button', { name: 'Retry provisioning' }).click();
    // No reason: the server refuses and its message stands next to the field.
    await dialog.getByText('at least 3 characters: say why, for the history').waitFor();
    expect(await dialog.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true');
    await look(page, 'admin-action-field-error');
    await dialog.getByLabel('Reason').fill('Stripe had an outage during the signup');
    await dialog.getByRole('button', { name: 'Retry provisioning' }).click();
    await actions.getByRole('link', { name: 'Open the new tenant' }).click();

    const job = await settledJob(jobId);
    expect([job.status, job.attempt]).toEqual(['completed', 2]);
    await page.waitForURL(`${app.origin()}/admin/tenants/${job.tenantId}`);
    await page.locator('[data-testid=provisioning-timeline][data-job-status=completed]').waitFor();
    await page.locator('section[data-attempt="1"]').getByRole('link', { name: tenantId }).waitFor();
    await page.getByTestId('history-table').getByText('Stripe had an outage during the signup').waitFor();
    await look(page, 'admin-tenant-retried');
    const sally = await auth.getUserByEmail('sally@platform.test');
    const [opened] = (await db.collection(`tenants/${job.tenantId}/history`).where('cause', '==', 'provisioned').get()).docs.map((d) => d.data());
    expect([opened.actor, opened.reason]).toEqual([sally.uid, 'Stripe had an outage during the signup']);
    expect((await db.doc(`tenants/${job.tenantId}`).get()).get('status')).toBe('trial');
  });

  it('the operator finishes a failed undo from the console; sales is not offered it', async () => {
    const owner = await auth.createUser({ email: 'hank@globex.test', password: PASSWORD });
    const { jobId, tenantId } = await provisionTenant(deps, {
      idempotencyKey: `self_serve:${owner.uid}`,
      source: 'self_serve',
      owner: { uid: owner.uid, email: 'hank@globex.test', displayName: 'Hank' },
      companyName: 'Globex',
      plan: 'starter',
      requestedBy: owner.uid,
    });
    await injectStripeFailure({ method: 'DELETE', path: '/v1/customers', status: 500, times: 4 });
    const saga = { db, auth, stripe };
    expect(await runProvisioningJob(saga, jobId, { stepAttempts: 2, backoffMs: 1, faults: [{ step: 'seedSampleData', at: 'before', kind: 'fail' }] })).toBe('failed');
    await fetch(`${simulator}/_fake/failures`, { method: 'DELETE' });
    await account('sally@platform.test', { platform: 'sales' });
    await account('root@platform.test', { platform: 'super_admin' });

    const sales = await app.newPage();
    await openConsole(sales, 'sally@platform.test', `/admin/tenants/${tenantId}`);
    await sales.getByText('Undo failed, cleanup needed:').waitFor();
    expect(await sales.getByRole('region', { name: 'Actions' }).getByRole('button').count()).toBe(0);

    const root = await app.newPage();
    await openConsole(root, 'root@platform.test', `/admin/tenants/${tenantId}`);
    const timeline = root.getByTestId('provisioning-timeline');
    await timeline.locator('tr[data-step=createStripeCustomer] .bar.undo.error').first().waitFor();
    await look(root, 'admin-tenant-undo-failed');
    await root.getByRole('button', { name: 'Finish the failed undo' }).click();
    const dialog = root.getByRole('dialog', { name: 'Finish the failed undo: Globex' });
    await dialog.getByLabel('Reason').fill('Stripe recovered; cleaning up the customer');
    await dialog.getByRole('button', { name: 'Finish the failed undo' }).click();
    await root.getByRole('status').filter({ hasText: 'Finish the failed undo: done.' }).waitFor();
    await root.locator('[data-testid=provisioning-timeline][data-job-status=rolled_back]').waitFor();
    await root.getByText('finished the failed undo by').waitFor();
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data()!;
    expect([job.status, job.lastOperatorAction.reason]).toEqual(['rolled_back', 'Stripe recovered; cleaning up the customer']);
    // Now it can be retried.
    await root.getByRole('button', { name: 'Retry provisioning' }).waitFor();
  });
});

describe('staff actions on a live tenant', () => {
  it('super_admin suspends with a reason that lands in the history and sees the members; sales only extends trials', async () => {
    await seedTenant({
      tenantId: 'acme-id',
      name: 'Acme Robotics',
      slug: 'acme',
      status: 'active',
      plan: 'enterprise',
      source: 'sales',
      trialEndsInDays: null,
      members: [
        { email: 'owner@acme.test', role: 'owner' },
        { email: 'admin@acme.test', role: 'admin' },
      ],
    });
    await account('sally@platform.test', { platform: 'sales' });
    await account('root@platform.test', { platform: 'super_admin' });

    const sales = await app.newPage();
    await openConsole(sales, 'sally@platform.test', '/admin/tenants/acme-id');
    await sales.getByText('No action of your role (sales) applies to a tenant that is active.').waitFor();

    const page = await app.newPage();
    await openConsole(page, 'root@platform.test', '/admin/tenants/acme-id');
    await page.getByTestId('members-table').getByRole('cell', { name: 'admin@acme.test' }).waitFor();
    expect(await page.getByTestId('stripe-customer').textContent()).toBe('cus_acme-id');
    const actions = page.getByRole('region', { name: 'Actions' });
    expect(await actions.getByRole('button').allTextContents()).toEqual(['Suspend', 'Cancel']);
    await look(page, 'admin-tenant-active');
    await actions.getByRole('button', { name: 'Suspend' }).click();
    const dialog = page.getByRole('dialog', { name: 'Suspend: Acme Robotics' });
    await dialog.getByLabel('Reason').fill('Chargeback under review');
    await look(page, 'admin-action-confirm');
    await dialog.getByRole('button', { name: 'Suspend' }).click();
    await page.getByTestId('history-table').getByText('Chargeback under review').waitFor();
    await page.locator('.tenant-title [data-status=suspended]').waitFor();
    expect(await actions.getByRole('button').allTextContents()).toEqual(['Activate', 'Cancel']);
    const root = await auth.getUserByEmail('root@platform.test');
    const [entry] = (await db.collection('tenants/acme-id/history').where('cause', '==', 'suspend').get()).docs.map((d) => d.data());
    expect([entry.from, entry.to, entry.actor, entry.reason]).toEqual(['active', 'suspended', root.uid, 'Chargeback under review']);

    // Sales, on the same tenant in a trial, is offered the one action their role has.
    await db.doc('tenants/acme-id').update({ status: 'trial', trialEndsAt: new Date(Date.now() + 86_400_000) });
    await sales.getByRole('button', { name: 'Extend the trial' }).waitFor();
    expect(await sales.getByRole('region', { name: 'Actions' }).getByRole('button').allTextContents()).toEqual(['Extend the trial']);
  });
});

describe('cancelling, in Stripe first', () => {
  it('super_admin chooses when: at period end the tenant keeps working and Stripe stops renewing; now it is cancelled', async () => {
    await seedTenant({ tenantId: 'globex-id', name: 'Globex', slug: 'globex', status: 'active', plan: 'team', trialEndsInDays: null, members: [{ email: 'hank@globex.test', role: 'owner' }] });
    const customer = await stripe.customers.create({ email: 'hank@globex.test', payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' }, metadata: { tenantId: 'globex-id' } });
    const subscription = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: await planPriceId(stripe, 'team') }], metadata: { tenantId: 'globex-id' } });
    await db.doc('tenants/globex-id').update({ stripeCustomerId: customer.id, stripeSubscriptionId: subscription.id });
    await account('root@platform.test', { platform: 'super_admin' });
    const page = await app.newPage();
    await openConsole(page, 'root@platform.test', '/admin/tenants/globex-id');
    const actions = page.getByRole('region', { name: 'Actions' });

    await actions.getByRole('button', { name: 'Cancel' }).click();
    let dialog = page.getByRole('dialog', { name: 'Cancel: Globex' });
    expect(await dialog.getByLabel('When').inputValue()).toBe('period_end');
    await dialog.getByLabel('Reason').fill('Not renewing after this month');
    await look(page, 'admin-cancel-when');
    await dialog.getByRole('button', { name: 'Cancel the tenant' }).click();
    await dialog.waitFor({ state: 'detached' });
    const atPeriodEnd = await stripe.subscriptions.retrieve(subscription.id);
    expect([atPeriodEnd.status, atPeriodEnd.cancel_at_period_end || atPeriodEnd.cancel_at !== null]).toEqual(['active', true]);
    const stillActive = (await db.doc('tenants/globex-id').get()).data()!;
    expect([stillActive.status, stillActive.cancelAt?.toMillis()]).toEqual(['active', atPeriodEnd.items.data[0].current_period_end * 1000]);
    const ends = new Date(atPeriodEnd.items.data[0].current_period_end * 1000).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    await page.getByText(ends).waitFor();
    await look(page, 'admin-cancel-at-period-end');

    await actions.getByRole('button', { name: 'Cancel' }).click();
    dialog = page.getByRole('dialog', { name: 'Cancel: Globex' });
    await dialog.getByLabel('When').selectOption('now');
    await dialog.getByLabel('Reason').fill('Customer asked to stop at once');
    await dialog.getByRole('button', { name: 'Cancel the tenant' }).click();
    await page.locator('.tenant-title [data-status=cancelled]').waitFor();
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    await look(page, 'admin-cancelled');
  });
});

describe('the provision form', () => {
  it('puts each of the server’s field errors next to its field, then provisions once and links to the new tenant', async () => {
    await account('sally@platform.test', { platform: 'sales' });
    const page = await app.newPage();
    await openConsole(page, 'sally@platform.test', '/admin/new');
    const form = page.getByRole('form', { name: 'Provision a tenant' });
    await form.getByLabel('Company name').fill('U');
    await form.getByLabel(/^Subdomain/).fill('admin');
    await form.getByLabel('Customer admin name').fill('Alice Abernathy');
    await form.getByLabel('Customer admin email').fill('alice-at-umbrella');
    await form.getByRole('button', { name: 'Provision tenant' }).click();
    await form.getByText('Check the 3 fields marked below.').waitFor();
    await form.getByText('at least 2 characters').waitFor();
    await form.getByText('is reserved by the product; choose another').waitFor();
    await form.getByText('a valid email address').waitFor();
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('companyName');
    await look(page, 'admin-provision-field-errors');

    await form.getByLabel('Company name').fill('Umbrella Corporation');
    await form.getByLabel(/^Subdomain/).fill('umbrella');
    await form.getByLabel('Customer admin email').fill('alice@umbrella.test');
    await form.getByRole('button', { name: 'Provision tenant' }).dblclick();
    const result = page.getByTestId('provision-result');
    await result.locator('[data-testid=job-progress][data-status=completed]').waitFor();
    await result.locator('[data-field=status]', { hasText: 'active' }).waitFor();
    await look(page, 'admin-provisioned');
    expect((await db.collection('tenants').where('name', '==', 'Umbrella Corporation').get()).size).toBe(1);
    await result.getByRole('link', { name: 'Open it' }).click();
    await page.getByRole('heading', { name: 'Umbrella Corporation', level: 1 }).waitFor();
  });
});

describe('addresses', () => {
  it('an unknown page says so', async () => {
    const page = await app.newPage();
    await page.goto(`${app.origin()}/nowhere`);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await look(page, 'not-found');
  });
});
