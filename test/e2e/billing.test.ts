// Paying, in a real browser against the emulators and the Stripe simulator: the owner goes from trial
// to paid through the hosted Checkout page, a declined card changes nothing and the pages say why,
// seats are raised through the portal and the seat cap follows, and a cancellation at the period end
// takes effect when Stripe's clock passes it. Every change reaches the app through signed webhooks.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberOf, openTenantsCheckedAfterEach } from '../helpers/billing';
import { db } from '../helpers/emulators';
import { advance, connectWebhook, openTenant, sim, stripe, type BilledTenant } from '../lifecycle/stripeWorld';
import { look, screenshot, signIn, useBrowser } from './harness';

const app = useBrowser();

let disconnect: () => Promise<unknown>;
beforeAll(async () => {
  disconnect = await connectWebhook();
});
afterAll(async () => disconnect?.());
beforeEach(async () => {
  await sim.reset();
});
const openTenantChecked = openTenantsCheckedAfterEach();

async function ownedTenant(options: Parameters<typeof openTenant>[1] = {}) {
  const t = await openTenantChecked('as made', options);
  const owner = await memberOf(t.tenantId, 'owner', { email: `owner@${t.tenantId}.test` });
  const slug = String((await db.doc(`tenants/${t.tenantId}`).get()).get('slug'));
  return { t, owner, slug, email: `owner@${t.tenantId}.test` };
}

async function openBilling(page: Page, slug: string, email: string) {
  await page.goto(`${app.origin()}/app/${slug}/billing`);
  await signIn(page, email);
  await page.getByRole('heading', { name: 'Billing' }).waitFor();
}

const tenantData = async (t: BilledTenant) => (await db.doc(`tenants/${t.tenantId}`).get()).data()!;
const text = async (page: Page, testId: string) => (await page.getByTestId(testId).textContent())?.trim();

/** Chooses the plan and seats on the billing page and follows the button to Stripe's Checkout page. */
async function upgrade(page: Page, plan: 'Starter' | 'Team', seats: number, button = 'Upgrade') {
  const form = page.getByRole('form', { name: 'Choose a plan' });
  await form.getByRole('radio', { name: new RegExp(`^${plan}`) }).check();
  await form.getByLabel('Seats').fill(String(seats));
  await form.getByRole('button', { name: button }).click();
  await page.waitForURL(/\/hosted\/checkout\/cs_test_/);
}

async function typeCard(page: Page, number: string) {
  await page.getByLabel('Card number').fill(number);
  await page.getByRole('button', { name: 'Save card' }).click();
}

describe('from trial to paid', () => {
  it('the trial owner upgrades with the good card on the hosted Checkout page and the workspace turns active', async () => {
    const { t, slug, email } = await ownedTenant();
    const page = await app.newPage();
    await page.goto(`${app.origin()}/app/${slug}`);
    await signIn(page, email);
    // The lifecycle banner leads to the billing page.
    const banner = page.getByTestId('lifecycle-banner');
    await banner.getByRole('link', { name: 'Choose a plan' }).click();
    await page.getByRole('heading', { name: 'Billing' }).waitFor();
    expect(page.url()).toBe(`${app.origin()}/app/${slug}/billing`);
    expect(await text(page, 'billing-plan')).toBe('Team');
    expect(await text(page, 'billing-seats-used')).toBe('2 of 25');
    expect(await text(page, 'billing-trial-left')).toMatch(/^\d+$/);
    expect(await text(page, 'billing-todo')).toMatch(/^Your trial ends on .* \(\d+ days? left\)\. Choose a plan/);
    await look(page, 'billing-trial');

    await upgrade(page, 'Starter', 3);
    expect(await page.getByTestId('checkout-terms').textContent()).toBe('Starter plan, 3 seats at $9.00 per seat: $27.00 a month. Saving your card ends the trial: the first period is charged now.');
    await screenshot(page, 'checkout-page');
    await typeCard(page, '4242 4242 4242 4242');

    await page.waitForURL(new RegExp(`/app/${slug}/billing\\?checkout=complete&session=cs_test_`));
    await page.getByText(/Payment confirmed: .* is on the Starter plan with 3 seats\./).waitFor();
    await page.locator('.tenant-title [data-status="active"]').waitFor();
    expect(await text(page, 'billing-plan')).toBe('Starter');
    expect(await text(page, 'billing-seats')).toBe('3');
    expect(await text(page, 'billing-card')).toBe('visa ending in 4242');
    expect(await text(page, 'billing-next-invoice')).toMatch(/^\$27\.00 on /);
    expect(await page.getByTestId('lifecycle-banner').count()).toBe(0); // active: no banner
    await look(page, 'billing-active');
    expect(await tenantData(t)).toMatchObject({ status: 'active', plan: 'starter', seatCap: 3 });
  });

  it('the declined card: the Checkout page says why, going back changes nothing, and the page says so', async () => {
    const { t, slug, email } = await ownedTenant();
    const before = await tenantData(t);
    const page = await app.newPage();
    await openBilling(page, slug, email);
    await upgrade(page, 'Team', 5);
    await typeCard(page, '4000 0000 0000 0002');
    await page.getByTestId('checkout-error').filter({ hasText: 'Your card was declined.' }).waitFor();
    await screenshot(page, 'checkout-declined');
    await page.getByTestId('checkout-back').click();
    await page.waitForURL(new RegExp(`/app/${slug}/billing\\?checkout=cancelled$`));
    expect(await text(page, 'billing-notice')).toBe('Checkout was cancelled: nothing was charged and your plan is unchanged.');
    expect(await text(page, 'billing-plan')).toBe('Team');
    await look(page, 'billing-checkout-cancelled');
    expect(await tenantData(t)).toEqual(before);
  });

  it('a card that is saved but declined when charged: back on the billing page, the reason, and nothing changed', async () => {
    const { t, slug, email } = await ownedTenant();
    const page = await app.newPage();
    await openBilling(page, slug, email);
    await upgrade(page, 'Starter', 2);
    await typeCard(page, '4000 0000 0000 0341');
    await page.waitForURL(/checkout=complete/);
    await page.getByText('Payment declined.').waitFor();
    expect(await text(page, 'billing-notice')).toMatch(/^Your card ending in 0341 was declined: Your card was declined\. Nothing was charged and your plan is unchanged\./);
    await look(page, 'billing-checkout-declined-when-charged');
    expect(await tenantData(t)).toMatchObject({ status: 'trial', plan: 'team', seatCap: 25 });
  });
});

describe('a choice that is not applied', () => {
  it('L2(c): staff suspend the tenant while its owner is on the Checkout page: the card is not charged and the page says the choice was not applied, not "Payment confirmed"', async () => {
    const { t, slug, email } = await ownedTenant();
    const page = await app.newPage();
    await openBilling(page, slug, email);
    await upgrade(page, 'Starter', 3);
    // As a staff suspension writes it (a hold), while the Checkout page is open.
    await db.doc(`tenants/${t.tenantId}`).update({ status: 'suspended', staffHold: true });
    await typeCard(page, '4242 4242 4242 4242');
    await page.waitForURL(/checkout=complete/);
    await page.getByTestId('billing-notice').filter({ hasText: 'was not applied' }).waitFor();
    expect(await text(page, 'billing-notice')).toMatch(/^Your choice of the Starter plan with 3 seats was not applied: .* is suspended by our staff: contact support to restore it\. Nothing was charged\.$/);
    expect(await page.getByText(/Payment confirmed/).count()).toBe(0);
    await look(page, 'billing-checkout-not-applied');
    expect(await tenantData(t)).toMatchObject({ status: 'suspended', plan: 'team', seatCap: 25, lastCheckout: { outcome: 'not_applied', reason: 'staff-hold' } });
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).status).toBe('trialing');
  });
});

describe('seats and cancelling in the portal', () => {
  it('the owner raises seats: confirmed in Stripe’s portal, and the seat cap follows; fewer than in use is refused with the numbers', async () => {
    const { t, slug, email } = await ownedTenant({ card: 'pm_card_visa', trialDays: null });
    const page = await app.newPage();
    await openBilling(page, slug, email);
    const seats = page.getByRole('form', { name: 'Change seats' });
    await seats.getByLabel('Seats').fill('1');
    await seats.getByRole('button', { name: 'Change seats' }).click();
    await seats.getByText(/uses 2 seats \(2 members, 0 pending invites\): choose at least 2/).waitFor();
    await look(page, 'billing-seats-refused');

    await seats.getByLabel('Seats').fill('30');
    await seats.getByRole('button', { name: 'Change seats' }).click();
    await page.waitForURL(/\/hosted\/portal\/bps_/);
    await page.getByText('Confirm your update').waitFor();
    await screenshot(page, 'portal-confirm-seats');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(new RegExp(`/app/${slug}/billing\\?portal=seats$`));
    await page.getByTestId('billing-seats').filter({ hasText: /^30$/ }).waitFor();
    await look(page, 'billing-seats-raised');
    expect((await tenantData(t)).seatCap).toBe(30);
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).items.data[0].quantity).toBe(30);
  });

  it('the owner cancels at the period end in the portal; the page says when; when Stripe’s clock passes it, the tenant is cancelled', async () => {
    const { t, slug, email } = await ownedTenant({ card: 'pm_card_visa', trialDays: null });
    const page = await app.newPage();
    await openBilling(page, slug, email);
    await page.getByRole('button', { name: 'Manage billing' }).click();
    await page.waitForURL(/\/hosted\/portal\/bps_/);
    await screenshot(page, 'portal-home');
    await page.getByRole('button', { name: 'Cancel plan' }).click();
    await page.getByTestId('portal-cancels').waitFor();
    await screenshot(page, 'portal-cancelled');
    await page.getByTestId('portal-return').click();
    await page.waitForURL(new RegExp(`/app/${slug}/billing$`));
    await page.getByTestId('billing-todo').filter({ hasText: /Your plan is cancelled and ends on/ }).waitFor();
    expect(await text(page, 'billing-next-invoice')).toMatch(/^None: the plan ends on /);
    await look(page, 'billing-cancelling');

    const end = (await stripe.subscriptions.retrieve(t.subscriptionId)).items.data[0].current_period_end;
    await advance(t, end - t.now + 60);
    await page.getByTestId('billing-todo').filter({ hasText: /is cancelled and its data is locked/ }).waitFor();
    await page.getByRole('form', { name: 'Choose a plan' }).getByRole('button', { name: 'Reactivate' }).waitFor();
    await look(page, 'billing-cancelled');
    expect((await tenantData(t)).status).toBe('cancelled');
  });
});
