// startCheckout and openBillingPortal on the Functions emulator, against the Stripe simulator: every
// refusal with its code and a message a person can act on, and nothing written (in Firestore or
// Stripe) when refused; the Checkout made for the tenant's own customer, once per plan and seats.
import type Stripe from 'stripe';
import { beforeEach, describe, expect, it } from 'vitest';
import { addPeople, memberOf, openTenantsCheckedAfterEach, pageText, submitForm } from '../helpers/billing';
import { client, rejectsWith } from '../helpers/callables';
import { allDocumentPaths, clearEmulators, db } from '../helpers/emulators';
import { openTenant, sim, stripe, STRIPE_KEY, type BilledTenant } from '../lifecycle/stripeWorld';

beforeEach(async () => {
  await clearEmulators();
  await sim.reset();
});

const openTenantChecked = openTenantsCheckedAfterEach();

async function trialTenant(options: Parameters<typeof openTenant>[1] = {}): Promise<BilledTenant> {
  const t = await openTenantChecked('as made', options);
  return t;
}

const sessionsOf = async (customer: string) => (await stripe.checkout.sessions.list({ customer, limit: 100 })).data;
const portalSessionsCreated = async () => (await stripe.events.list({ type: 'billing_portal.session.created', limit: 100 })).data.length;

/** A refused call writes nothing: the same documents before and after, and no Checkout in Stripe. */
async function refusedWithoutWrites(t: BilledTenant, call: () => Promise<unknown>, code: string, message?: RegExp) {
  const before = await allDocumentPaths();
  const tenantBefore = (await db.doc(`tenants/${t.tenantId}`).get()).data();
  await rejectsWith(call(), code, message);
  expect(await allDocumentPaths()).toEqual(before);
  expect((await db.doc(`tenants/${t.tenantId}`).get()).data()).toEqual(tenantBefore);
  expect(await sessionsOf(t.customerId)).toEqual([]);
}

describe('startCheckout', () => {
  it('the owner gets a Checkout (setup mode) for the tenant’s own customer, the tenant id as reference and in the metadata, the terms on the page', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const { url } = await owner.call<{ url: string }>('startCheckout', { tenantId: t.tenantId, plan: 'starter', seats: 3 });
    const [session] = await sessionsOf(t.customerId);
    expect(url).toBe(session.url);
    expect(session).toMatchObject({
      mode: 'setup',
      status: 'open',
      customer: t.customerId,
      client_reference_id: t.tenantId,
      metadata: { tenantId: t.tenantId, plan: 'starter', seats: '3' },
      currency: 'usd',
    });
    expect(session.success_url).toMatch(/\/app\/[^/]+\/billing\?checkout=complete&session=\{CHECKOUT_SESSION_ID\}$/);
    const intent = await stripe.setupIntents.retrieve(session.setup_intent as string);
    expect(intent.metadata).toEqual({ tenantId: t.tenantId, plan: 'starter', seats: '3' });
    expect(await pageText(url)).toContain('Starter plan, 3 seats at $9.00 per seat: $27.00 a month. Saving your card ends the trial: the first period is charged now.');
    // Nothing changes for the tenant until Stripe confirms (the webhook): not its plan, not its seats.
    expect((await db.doc(`tenants/${t.tenantId}`).get()).data()).toMatchObject({ status: 'trial', plan: 'team', seatCap: 25 });
  });

  it('an admin may start one too', async () => {
    const t = await trialTenant();
    const admin = await memberOf(t.tenantId, 'admin');
    await expect(admin.call('startCheckout', { tenantId: t.tenantId, plan: 'team', seats: 5 })).resolves.toMatchObject({ url: expect.stringContaining('/hosted/checkout/cs_test_') });
  });

  it('the same click twice, or two at once, gets the same open session; another choice gets a new one and the first is expired', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const ask = (seats: number) => owner.call<{ url: string }>('startCheckout', { tenantId: t.tenantId, plan: 'team', seats });
    const [a, b] = await Promise.all([ask(5), ask(5)]);
    const c = await ask(5);
    expect(new Set([a.url, b.url, c.url]).size).toBe(1);
    expect(await sessionsOf(t.customerId)).toHaveLength(1);
    const other = await ask(6);
    expect(other.url).not.toBe(a.url);
    const sessions = await sessionsOf(t.customerId);
    expect(sessions.map((s) => [s.metadata?.seats, s.status])).toEqual([['6', 'open'], ['5', 'expired']]);
    // Back to 5 seats: the expired session is not handed out again.
    const again = await ask(5);
    expect([again.url === a.url, (await sessionsOf(t.customerId)).filter((s) => s.status === 'open').length]).toEqual([false, 1]);
  });

  it('refuses a malformed request with invalid-argument naming each field, writing nothing', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const call = (data: unknown) => () => owner.call('startCheckout', data);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'team' }), 'invalid-argument', /^seats: /);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'team', seats: 2.5 }), 'invalid-argument', /seats: a whole number of seats/);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'team', seats: 0 }), 'invalid-argument', /seats: at least 1 seat/);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'team', seats: '7' }), 'invalid-argument', /seats: /);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'enterprise', seats: 7 }), 'invalid-argument', /plan: one of starter, team \(other plans are sold by our sales team\)/);
    await refusedWithoutWrites(t, call({ tenantId: 'a/b', plan: 'team', seats: 7 }), 'invalid-argument', /tenantId: /);
    await refusedWithoutWrites(t, call({ tenantId: t.tenantId, plan: 'team', seats: 7, price: 'price_x' }), 'invalid-argument', /price/);
  });

  it('refuses callers who may not pay: signed out, not a member, a member, an unverified owner', async () => {
    const t = await trialTenant();
    const data = { tenantId: t.tenantId, plan: 'team', seats: 5 };
    await refusedWithoutWrites(t, async () => (await client('')).call('startCheckout', data), 'unauthenticated');
    await refusedWithoutWrites(t, async () => (await client('stranger@example.test')).call('startCheckout', data), 'permission-denied', /Only the owner or an admin/);
    const member = await memberOf(t.tenantId, 'member');
    await refusedWithoutWrites(t, () => member.call('startCheckout', data), 'permission-denied', /you are a member/);
    const unverified = await memberOf(t.tenantId, 'owner', { verified: false });
    await refusedWithoutWrites(t, () => unverified.call('startCheckout', data), 'failed-precondition', /Confirm your email address first/);
    await rejectsWith(unverified.call('startCheckout', { ...data, tenantId: 'no-such-tenant' }), 'not-found', /no organisation no-such-tenant/);
  });

  it('refuses fewer seats than members plus pending invites, with the numbers, before Stripe', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    await addPeople(t.tenantId, { members: 3, pendingInvites: 2 }); // with the owner and the tenant's member: 5 members
    await refusedWithoutWrites(
      t,
      () => owner.call('startCheckout', { tenantId: t.tenantId, plan: 'starter', seats: 6 }),
      'failed-precondition',
      /uses 7 seats \(5 members, 2 pending invites\): choose at least 7, or remove members or revoke invites first/,
    );
    await expect(owner.call('startCheckout', { tenantId: t.tenantId, plan: 'starter', seats: 7 })).resolves.toHaveProperty('url');
  });

  it('uses the seat ledger’s counts when the tenant has one', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    await db.doc(`tenants/${t.tenantId}`).update({ seats: { members: 9, pendingInvites: 3 } });
    await refusedWithoutWrites(t, () => owner.call('startCheckout', { tenantId: t.tenantId, plan: 'team', seats: 11 }), 'failed-precondition', /uses 12 seats \(9 members, 3 pending invites\)/);
  });

  it('refuses a tenant that cannot pay by Checkout: already paying, billed by invoice, held by staff, still being set up', async () => {
    const paying = await trialTenant({ card: 'pm_card_visa', trialDays: null });
    const owner = await memberOf(paying.tenantId, 'owner');
    await db.doc(`tenants/${paying.tenantId}`).update({ status: 'active' });
    await refusedWithoutWrites(paying, () => owner.call('startCheckout', { tenantId: paying.tenantId, plan: 'team', seats: 5 }), 'failed-precondition', /already on a paid plan: use Manage billing/);

    const sales = await trialTenant({ source: 'sales', trialDays: 10 });
    const salesOwner = await memberOf(sales.tenantId, 'owner');
    await refusedWithoutWrites(sales, () => salesOwner.call('startCheckout', { tenantId: sales.tenantId, plan: 'team', seats: 5 }), 'failed-precondition', /billed by invoice under its contract/);

    const held = await trialTenant();
    const heldOwner = await memberOf(held.tenantId, 'owner');
    await db.doc(`tenants/${held.tenantId}`).update({ status: 'suspended', staffHold: true });
    await refusedWithoutWrites(held, () => heldOwner.call('startCheckout', { tenantId: held.tenantId, plan: 'team', seats: 5 }), 'failed-precondition', /suspended by our staff: contact support/);

    const opening = await trialTenant();
    const openingOwner = await memberOf(opening.tenantId, 'owner');
    await db.doc(`tenants/${opening.tenantId}`).update({ status: 'provisioning' });
    await refusedWithoutWrites(opening, () => openingOwner.call('startCheckout', { tenantId: opening.tenantId, plan: 'team', seats: 5 }), 'failed-precondition', /still being set up/);
    await db.doc(`tenants/${opening.tenantId}`).update({ status: 'trial' });
  });
});

describe('openBillingPortal', () => {
  it('the owner gets a portal session for the tenant’s customer with the product’s configuration (plan changes, no free seat edits, cancel at period end)', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const { url } = await owner.call<{ url: string }>('openBillingPortal', { tenantId: t.tenantId });
    const html = await pageText(url);
    expect(html).toContain('Team (');
    expect(html).toContain('Update plan');
    expect(html).toContain('Cancel plan');
    expect(html).not.toContain('Update quantity');
    const [configuration] = (await stripe.billingPortal.configurations.list({ limit: 10 })).data;
    expect(configuration.metadata).toEqual({ tenancyPortal: 'self_serve', version: '1' });
    expect(configuration.features.subscription_update).toMatchObject({ default_allowed_updates: ['price'], proration_behavior: 'create_prorations', trial_update_behavior: 'continue_trial' });
    expect(configuration.features.subscription_cancel).toMatchObject({ enabled: true, mode: 'at_period_end' });
    // A second session reuses the configuration.
    await owner.call('openBillingPortal', { tenantId: t.tenantId });
    expect((await stripe.billingPortal.configurations.list({ limit: 10 })).data).toHaveLength(1);
  });

  it('with seats: straight to confirming that many seats of the tenant’s subscription', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const { url } = await owner.call<{ url: string }>('openBillingPortal', { tenantId: t.tenantId, seats: 30 });
    const html = await pageText(url);
    expect(html).toContain('Confirm your update');
    expect(html).toMatch(/data-testid="portal-new-quantity">30</);
    const [event] = (await stripe.events.list({ type: 'billing_portal.session.created' })).data;
    const session = event.data.object as Stripe.BillingPortal.Session;
    expect(session.flow?.subscription_update_confirm).toMatchObject({ subscription: t.subscriptionId, items: [{ quantity: 30 }] });
    expect(session.flow?.after_completion).toMatchObject({ type: 'redirect', redirect: { return_url: expect.stringMatching(/\/billing\?portal=seats$/) } });
  });

  it.each([true, false])('S5: the seat deep link is confirmed whether or not Stripe needs `quantity` allowed for it (simulator: needs it = %s); the portal home still offers no seat edits', async (needsAllowed) => {
    await sim.configure({ apiKey: STRIPE_KEY, billing: { portalConfirmNeedsAllowedUpdates: needsAllowed } });
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    const { url } = await owner.call<{ url: string }>('openBillingPortal', { tenantId: t.tenantId, seats: 30 });
    await submitForm(url, { action: 'confirm_update' });
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).items.data[0].quantity).toBe(30);
    const home = await owner.call<{ url: string }>('openBillingPortal', { tenantId: t.tenantId });
    expect(await pageText(home.url)).not.toContain('Update quantity');
    const kinds = (await stripe.billingPortal.configurations.list({ limit: 10 })).data.map((c) => [c.metadata?.tenancyPortal, c.features.subscription_update.default_allowed_updates]);
    expect(kinds.sort()).toEqual([
      ['seat_change', ['price', 'quantity']],
      ['self_serve', ['price']],
    ]);
  });

  it('refuses seats below members plus pending invites with the numbers, and nothing reaches Stripe', async () => {
    const t = await trialTenant();
    const owner = await memberOf(t.tenantId, 'owner');
    await addPeople(t.tenantId, { members: 1, pendingInvites: 1 }); // with the owner and the tenant's member: 3
    const before = await portalSessionsCreated();
    await refusedWithoutWrites(t, () => owner.call('openBillingPortal', { tenantId: t.tenantId, seats: 3 }), 'failed-precondition', /uses 4 seats \(3 members, 1 pending invite\): choose at least 4/);
    await refusedWithoutWrites(t, () => owner.call('openBillingPortal', { tenantId: t.tenantId, seats: 25 }), 'failed-precondition', /already has 25 seats/);
    await refusedWithoutWrites(t, () => owner.call('openBillingPortal', { tenantId: t.tenantId, seats: -1 }), 'invalid-argument', /seats: at least 1 seat/);
    expect(await portalSessionsCreated()).toBe(before);
    await expect(owner.call('openBillingPortal', { tenantId: t.tenantId, seats: 4 })).resolves.toHaveProperty('url');
  });

  it('only the owner: an admin is refused; seats cannot change on an expired trial or by contract', async () => {
    const t = await trialTenant();
    const admin = await memberOf(t.tenantId, 'admin');
    await refusedWithoutWrites(t, () => admin.call('openBillingPortal', { tenantId: t.tenantId }), 'permission-denied', /Only the owner of .* can manage its billing; you are an admin/);
    const owner = await memberOf(t.tenantId, 'owner');
    await db.doc(`tenants/${t.tenantId}`).update({ status: 'trial_expired' });
    await refusedWithoutWrites(t, () => owner.call('openBillingPortal', { tenantId: t.tenantId, seats: 10 }), 'failed-precondition', /trial expired: choose a plan \(Upgrade\)/);
    const sales = await trialTenant({ source: 'sales', trialDays: 10 });
    const salesOwner = await memberOf(sales.tenantId, 'owner');
    await refusedWithoutWrites(sales, () => salesOwner.call('openBillingPortal', { tenantId: sales.tenantId, seats: 300 }), 'failed-precondition', /set by its contract/);
    // The contract's tenant still sees its invoices there, and nothing it could change.
    const { url } = await salesOwner.call<{ url: string }>('openBillingPortal', { tenantId: sales.tenantId });
    const html = await pageText(url);
    expect(html).toContain('Invoice history');
    expect(html).not.toContain('Update plan');
    expect(html).not.toContain('Cancel plan');
  });
});
