// From trial to paid and after, end to end on the emulators and the Stripe simulator: the owner's
// startCheckout, the hosted Checkout page submitted as a browser does, Stripe's signed events to the
// real stripeWebhook, the tenant moved through the one transition path; the portal's seat, plan,
// card and cancel changes reaching the tenant the same way. After every test, the tenant has exactly
// one live subscription in Stripe, the one it names (none once cancelled).
import type Stripe from 'stripe';
import { planPriceId } from '../../functions/src/adapters/prices';
import { describe, expect, it } from 'vitest';
import { addPeople, expectOneLiveSubscription, inPortal, openTenantsCheckedAfterEach, memberOf, pageText, payOnCheckout } from '../helpers/billing';
import { client, rejectsWith } from '../helpers/callables';
import { db, type Caller } from '../helpers/emulators';
import { history, tenant } from './fixtures';
import { advance, DAY, deliverSigned, DELIVERIES, expectState, HOUR, inStripe, openTenant, sim, STRIPE_KEY, stripe, type BilledTenant, type Delivery, useStripeWorld } from './stripeWorld';

useStripeWorld();

const openTenantChecked = openTenantsCheckedAfterEach();

const GOOD = '4242 4242 4242 4242';
const DECLINED = '4000 0000 0000 0002';
const DECLINED_WHEN_CHARGED = '4000 0000 0000 0341';

/** A tenant of stripeWorld with a signed-in owner. */
async function ownedTenant(delivery: Delivery, options: Parameters<typeof openTenant>[1] = {}): Promise<{ t: BilledTenant; owner: Caller }> {
  const t = await openTenantChecked(delivery, options);
  return { t, owner: await memberOf(t.tenantId, 'owner') };
}

async function checkoutUrl(owner: Caller, t: BilledTenant, plan: 'starter' | 'team', seats: number): Promise<string> {
  return (await owner.call<{ url: string }>('startCheckout', { tenantId: t.tenantId, plan, seats })).url;
}

async function portalUrl(owner: Caller, t: BilledTenant, seats?: number): Promise<string> {
  return (await owner.call<{ url: string }>('openBillingPortal', { tenantId: t.tenantId, ...(seats === undefined ? {} : { seats }) })).url;
}

async function subscriptionOf(id: string) {
  return stripe.subscriptions.retrieve(id, { expand: ['latest_invoice'] });
}

const checkoutRecord = async (t: BilledTenant) => {
  const [completed] = (await stripe.events.list({ type: 'checkout.session.completed', limit: 100 })).data.filter((e) => (e.data.object as Stripe.Checkout.Session).customer === t.customerId);
  return { event: completed, record: completed ? (await db.doc(`stripeEvents/${completed.id}`).get()).data() : undefined };
};

describe.each(DELIVERIES)('a trial converts, events delivered %s', (delivery) => {
  it('the good card: the trial subscription ends its trial on the chosen plan and seats, is charged, and the tenant is active', async () => {
    const { t, owner } = await ownedTenant(delivery);
    const url = await checkoutUrl(owner, t, 'starter', 4);
    const answer = await payOnCheckout(t, url, GOOD);
    expect(answer.status).toBe(303);
    expect(answer.location).toMatch(/\/billing\?checkout=complete&session=cs_test_/);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active', failedPaymentRetries: 0 });
    // The same subscription, not a second one: its plan and quantity changed, its first paid invoice for them.
    const sub = await subscriptionOf(t.subscriptionId);
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity, invoice.status, invoice.amount_paid]).toEqual([await planPriceId(stripe, 'starter'), 4, 'paid', 3600]);
    const data = await tenant(t.tenantId);
    expect(data).toMatchObject({
      plan: 'starter',
      seatCap: 4,
      stripeSubscriptionId: t.subscriptionId,
      lastCheckout: { outcome: 'converted', plan: 'starter', seats: 4, card: { brand: 'visa', last4: '4242' } },
      billing: { stripeStatus: 'active', card: { brand: 'visa', last4: '4242' }, price: { unitAmount: 900, currency: 'usd', interval: 'month' }, openInvoice: null },
    });
    expect(data.billing.nextInvoice.amount).toBe(3600);
    expect(data.billing.nextInvoice.at.toMillis()).toBe(sub.items.data[0].current_period_end * 1000);
    const moves = (await history(t.tenantId)).map(({ from, to, cause, actor }) => [from, to, cause, String(actor).split(':')[0]]);
    expect(moves).toEqual([['trial', 'active', 'payment_succeeded', 'stripe']]);
    // The card is the customer's default: renewals charge it.
    const customer = (await stripe.customers.retrieve(t.customerId, { expand: ['invoice_settings.default_payment_method'] })) as Stripe.Customer;
    expect((customer.invoice_settings.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe('4242');
    const { record } = await checkoutRecord(t);
    expect(record?.outcome === 'applied' || record?.outcome === 'no_change').toBe(true);
  });
});

describe('the invariant check', () => {
  it('fails when a tenant has a second live subscription, and when its live one is not the one it names', async () => {
    const { t } = await ownedTenant('as made');
    const second = await stripe.subscriptions.create({ customer: t.customerId, items: [{ price: await planPriceId(stripe, 'team') }], trial_period_days: 30 });
    const failure = async () => String(await expectOneLiveSubscription(t.tenantId).then(() => 'passed', (error: Error) => error.message));
    const twoLive = await failure();
    expect([twoLive.includes(`${t.subscriptionId} trialing`), twoLive.includes(`${second.id} trialing`)]).toEqual([true, true]);
    await stripe.subscriptions.cancel(t.subscriptionId);
    const notTheTenants = await failure();
    expect([notTheTenants.includes(`${t.subscriptionId} canceled`), notTheTenants.includes(`${second.id} trialing`)]).toEqual([true, true]);
    // Put back as the tenant says (its subscription live, no other) for the check after the test.
    await db.doc(`tenants/${t.tenantId}`).update({ stripeSubscriptionId: second.id });
    await sim.flushWebhooks();
  });
});

describe('conversions that do not go through', () => {
  it('the declined card on the Checkout page: the page says why, nothing reaches the tenant or its subscription', async () => {
    const { t, owner } = await ownedTenant('as made');
    const url = await checkoutUrl(owner, t, 'team', 25);
    const before = await tenant(t.tenantId);
    const answer = await payOnCheckout(t, url, DECLINED);
    expect(answer.status).toBe(402);
    expect(answer.html).toContain('Your card was declined.');
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    expect(await tenant(t.tenantId)).toEqual(before);
    expect((await subscriptionOf(t.subscriptionId)).items.data[0].quantity).toBe(25);
    expect((await checkoutRecord(t)).event).toBeUndefined();
    // The session stays open: the same click gets it again, to try another card.
    expect(await checkoutUrl(owner, t, 'team', 25)).toBe(url);
  });

  it('a card that saves but is declined when charged: everything is put back, and the tenant’s lastCheckout says why', async () => {
    const { t, owner } = await ownedTenant('as made');
    const url = await checkoutUrl(owner, t, 'starter', 3);
    expect((await payOnCheckout(t, url, DECLINED_WHEN_CHARGED)).status).toBe(303);
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity]).toEqual([await planPriceId(stripe, 'team'), 25]);
    const customer = (await stripe.customers.retrieve(t.customerId)) as Stripe.Customer;
    expect(customer.invoice_settings.default_payment_method).toBeNull();
    expect((await stripe.paymentMethods.list({ customer: t.customerId })).data).toEqual([]); // the declined card is not kept
    const data = await tenant(t.tenantId);
    expect(data).toMatchObject({ status: 'trial', plan: 'team', seatCap: 25, lastCheckout: { outcome: 'declined', message: 'Your card was declined.', declineCode: 'generic_decline', card: { last4: '0341' } } });
    expect(await history(t.tenantId)).toEqual([]);
    expect((await checkoutRecord(t)).record).toMatchObject({ outcome: 'checkout_declined', tenantId: t.tenantId });
    // Another card, another Checkout: it goes through.
    const retry = await checkoutUrl(owner, t, 'starter', 3);
    expect(retry).not.toBe(url);
    await payOnCheckout(t, retry, GOOD);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'starter', seatCap: 3, lastCheckout: { outcome: 'converted' } });
  });

  it('a completed Checkout delivered again, and as a second Event object, converts once and charges once', async () => {
    const { t, owner } = await ownedTenant('as made');
    await payOnCheckout(t, await checkoutUrl(owner, t, 'team', 5), GOOD);
    const { event } = await checkoutRecord(t);
    const again = await deliverSigned(event);
    const copy = await deliverSigned({ ...event, id: `${event.id}_copy`, created: Math.floor(Date.now() / 1000) });
    expect([again.body?.outcome, copy.body?.outcome]).toEqual(['duplicate', 'no_change']);
    const paid = await stripe.invoices.list({ subscription: t.subscriptionId, status: 'paid' });
    expect(paid.data.map((i) => i.amount_paid).sort((a, b) => a - b)).toEqual([0, 9500]); // the $0 trial invoice, one charge
    expect((await history(t.tenantId)).length).toBe(1);
  });

  it('a completed Checkout of another customer naming this tenant changes nothing, in Firestore or Stripe', async () => {
    const { t: victim } = await ownedTenant('as made');
    const { t: payer } = await ownedTenant('as made');
    // A session this product did not make: another customer's, naming the victim in its reference and metadata.
    const session = await stripe.checkout.sessions.create({
      mode: 'setup',
      customer: payer.customerId,
      currency: 'usd',
      client_reference_id: victim.tenantId,
      metadata: { tenantId: victim.tenantId, plan: 'starter', seats: '1' },
      success_url: 'https://example.test/done',
    });
    const before = await tenant(victim.tenantId);
    await payOnCheckout(victim, session.url!, GOOD);
    const { record } = await checkoutRecord(payer);
    expect(record).toMatchObject({ outcome: 'foreign_checkout', tenantId: victim.tenantId });
    expect(await tenant(victim.tenantId)).toEqual(before);
    expect((await subscriptionOf(victim.subscriptionId)).status).toBe('trialing');
    expect((await subscriptionOf(payer.subscriptionId)).status).toBe('trialing');
  });
});

describe('paying from the other statuses', () => {
  it('an expired trial (Stripe paused it at trial end): the same subscription resumes on the chosen plan, charged now; the tenant is active', async () => {
    const { t, owner } = await ownedTenant('as made');
    await advance(t, 14 * DAY + HOUR);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    const url = await checkoutUrl(owner, t, 'team', 6);
    expect(await pageText(url)).toContain('Saving your card starts the plan: the first period is charged now.');
    await payOnCheckout(t, url, GOOD);
    await expectState(t, { status: 'active', writes: true, mails: ['trial-expired'], stripe: 'active' });
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].quantity, (sub.latest_invoice as Stripe.Invoice).amount_paid]).toEqual([6, 6 * 1900]);
    expect(await tenant(t.tenantId)).toMatchObject({ seatCap: 6, plan: 'team' });
  });

  it('an expired trial with a card declined when charged: the resume is undone (invoice voided, items back), still expired', async () => {
    const { t, owner } = await ownedTenant('as made');
    await advance(t, 14 * DAY + HOUR);
    await payOnCheckout(t, await checkoutUrl(owner, t, 'starter', 2), DECLINED_WHEN_CHARGED);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity, (sub.latest_invoice as Stripe.Invoice).status]).toEqual([await planPriceId(stripe, 'team'), 25, 'void']);
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'team', seatCap: 25, lastCheckout: { outcome: 'declined', message: 'Your card was declined.' } });
    // Stripe would have retried the resumption invoice; voided, nothing is charged later.
    await advance(t, 10 * DAY);
    expect((await stripe.invoices.list({ subscription: t.subscriptionId, status: 'paid' })).data.map((i) => i.amount_paid)).toEqual([0]);
  });

  it('past due: a new card pays the open invoice and the tenant is active again', async () => {
    const { t, owner } = await ownedTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR);
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    expect((await tenant(t.tenantId)).billing.openInvoice).toMatchObject({ amountDue: 25 * 1900, currency: 'usd' });
    const url = await checkoutUrl(owner, t, 'team', 25);
    expect(await pageText(url)).toContain('Saving your card pays the open invoice now.');
    await payOnCheckout(t, url, GOOD);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active', failedPaymentRetries: 0 });
    expect((await tenant(t.tenantId)).billing).toMatchObject({ openInvoice: null, card: { last4: '4242' } });
  });

  it('cancelled: a new subscription (the old one has ended), the tenant relinked to it and active; never two live ones', async () => {
    const { t, owner } = await ownedTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    await inStripe(t, () => stripe.subscriptions.cancel(t.subscriptionId));
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
    await expectOneLiveSubscription(t.tenantId);
    await payOnCheckout(t, await checkoutUrl(owner, t, 'starter', 5), GOOD);
    const data = await tenant(t.tenantId);
    expect(data.stripeSubscriptionId).not.toBe(t.subscriptionId);
    const renewed = await subscriptionOf(data.stripeSubscriptionId);
    expect([renewed.status, renewed.metadata.tenantId, renewed.items.data[0].quantity]).toEqual(['active', t.tenantId, 5]);
    expect([data.status, data.plan, data.seatCap]).toEqual(['active', 'starter', 5]);
    expect((await history(t.tenantId)).map((h) => h.cause)).toEqual(['subscription_canceled', 'reactivated']);
  });
});

describe('the portal', () => {
  /** An active tenant, converted through Checkout. */
  async function activeTenant(delivery: Delivery = 'as made', seats = 5) {
    const owned = await ownedTenant(delivery);
    await payOnCheckout(owned.t, await checkoutUrl(owned.owner, owned.t, 'team', seats), GOOD);
    await expectState(owned.t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    return owned;
  }

  it.each(DELIVERIES)('the owner raises seats: confirmed in the portal, prorated on the next invoice, and seatCap follows (events %s)', async (delivery) => {
    const { t, owner } = await activeTenant(delivery);
    await advance(t, 10 * DAY);
    const url = await portalUrl(owner, t, 12);
    const answer = await inPortal(t, url, { action: 'confirm_update' });
    expect(answer.location).toMatch(/\/billing\?portal=seats$/);
    expect(await tenant(t.tenantId)).toMatchObject({ seatCap: 12, plan: 'team', status: 'active', billing: { nextInvoice: { amount: 12 * 1900 } } });
    const pending = (await stripe.invoiceItems.list({ customer: t.customerId, pending: true })).data;
    expect(pending.map((i) => i.quantity).sort((a, b) => a - b)).toEqual([5, 12]); // credit for 5, debit for 12, for the rest of the period
  });

  it('lowering seats below members plus pending invites never reaches Stripe; to exactly that many, it does', async () => {
    const { t, owner } = await activeTenant('as made', 10);
    await addPeople(t.tenantId, { members: 4, pendingInvites: 1 }); // with the owner and the tenant's member: 7 seats used
    await expect(portalUrl(owner, t, 6)).rejects.toMatchObject({ code: 'functions/failed-precondition', message: expect.stringContaining('uses 7 seats (6 members, 1 pending invite)') });
    await inPortal(t, await portalUrl(owner, t, 7), { action: 'confirm_update' });
    expect((await tenant(t.tenantId)).seatCap).toBe(7);
    expect((await subscriptionOf(t.subscriptionId)).items.data[0].quantity).toBe(7);
  });

  it('a plan change in the trial keeps the trial and the plan follows', async () => {
    const { t, owner } = await ownedTenant('as made');
    const url = await portalUrl(owner, t);
    await inPortal(t, url, { action: 'update_plan', subscription: t.subscriptionId, price: await planPriceId(stripe, 'starter') });
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'starter', seatCap: 25 });
  });

  it('L1: a Starter→Team upgrade through the webhook allows the 11th pending invite (refused on Starter)', async () => {
    const { t, owner } = await ownedTenant('as made', { plan: 'starter' });
    const sub = await subscriptionOf(t.subscriptionId);
    await inStripe(t, () => stripe.subscriptions.update(t.subscriptionId, { items: [{ id: sub.items.data[0].id, quantity: 20 }] }));
    await addPeople(t.tenantId, { members: 0, pendingInvites: 10 });
    const invite = () => owner.call<{ outcome: string }>('inviteMember', { tenantId: t.tenantId, email: 'eleventh@example.test', role: 'member' });
    await expect(invite()).rejects.toMatchObject({ code: 'functions/resource-exhausted', message: expect.stringContaining('Starter plan allows 10 at a time') });
    await inPortal(t, await portalUrl(owner, t), { action: 'update_plan', subscription: t.subscriptionId, price: await planPriceId(stripe, 'team') });
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'team', pendingInviteLimit: 50, seatCap: 20 });
    await expect(invite()).resolves.toMatchObject({ outcome: expect.any(String) });
    expect((await tenant(t.tenantId)).seats).toMatchObject({ pendingInvites: 11 });
  });

  it('cancel at the period end: still active with cancelAt and no next invoice; when the clock passes it, cancelled', async () => {
    const { t, owner } = await activeTenant();
    const url = await portalUrl(owner, t);
    await inPortal(t, url, { action: 'cancel', subscription: t.subscriptionId });
    const end = (await subscriptionOf(t.subscriptionId)).items.data[0].current_period_end;
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    const data = await tenant(t.tenantId);
    expect([data.cancelAt.toMillis(), data.billing.nextInvoice]).toEqual([end * 1000, null]);
    await advance(t, end - t.now + 60);
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
  });

  it('a replaced card shows on the tenant (customer.updated), and the renewal charges it', async () => {
    const { t, owner } = await activeTenant();
    await inPortal(t, await portalUrl(owner, t), { action: 'update_card', card_number: '5555 5555 5555 4444' });
    expect((await tenant(t.tenantId)).billing.card).toEqual({ brand: 'mastercard', last4: '4444' });
    await advance(t, 31 * DAY + 2 * HOUR);
    const renewal = (await subscriptionOf(t.subscriptionId)).latest_invoice as Stripe.Invoice;
    const paidWith = await stripe.invoices.retrieve(renewal.id, { expand: ['payments.data.payment.payment_intent.payment_method'] });
    const intent = paidWith.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent;
    expect([renewal.status, (intent.payment_method as Stripe.PaymentMethod).card?.last4]).toEqual(['paid', '4444']);
  });
});

describe('review findings: what a completed Checkout applies (REVIEW.md M1, L2)', () => {
  const staff = () => client('super@platform.test', { platform: 'super_admin' });

  it('M1: an unpaid subscription (Dashboard "mark unpaid"): the new card pays the open invoice and finalizes and pays the period’s draft, oldest first; active, converted', async () => {
    const { t, owner } = await ownedTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await sim.configure({ apiKey: STRIPE_KEY, billing: { retryDays: [2], afterFinalRetry: 'unpaid' } });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR); // the renewal fails: past_due
    await advance(t, 3 * DAY); // the one retry fails: unpaid
    await advance(t, 30 * DAY); // one period later: its invoice stays a draft
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'unpaid' });
    const owedBefore = async () => [
      ...(await stripe.invoices.list({ subscription: t.subscriptionId, status: 'open' })).data.map((i) => `open ${i.amount_due}`),
      ...(await stripe.invoices.list({ subscription: t.subscriptionId, status: 'draft' })).data.map((i) => `draft ${i.amount_due} ${i.auto_advance}`),
    ];
    expect(await owedBefore()).toEqual([`open ${25 * 1900}`, `draft ${25 * 1900} false`]);
    await payOnCheckout(t, await checkoutUrl(owner, t, 'starter', 2), GOOD);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active', failedPaymentRetries: 0 });
    expect(await owedBefore()).toEqual([]);
    const paid = (await stripe.invoices.list({ subscription: t.subscriptionId, status: 'paid' })).data.sort((a, b) => a.created - b.created);
    expect(paid.map((i) => i.amount_paid)).toEqual([25 * 1900, 25 * 1900, 25 * 1900]); // the first period, then the two owed
    expect(paid[1].status_transitions.paid_at! <= paid[2].status_transitions.paid_at!).toBe(true);
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity]).toEqual([await planPriceId(stripe, 'starter'), 2]);
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'starter', seatCap: 2, lastCheckout: { outcome: 'converted', plan: 'starter', seats: 2 } });
  });

  it('L2(a): Stripe already bills the subscription (its trial ended with a card on file): the card is saved, the choice is not applied, and lastCheckout says so', async () => {
    const { t, owner } = await ownedTenant('as made', { card: 'pm_card_visa' });
    await advance(t, 14 * DAY + 10 * 60); // the trial has ended in Stripe; its invoice is a draft for an hour
    expect((await subscriptionOf(t.subscriptionId)).status).toBe('active');
    expect((await tenant(t.tenantId)).status).toBe('trial');
    await payOnCheckout(t, await checkoutUrl(owner, t, 'starter', 3), GOOD);
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity]).toEqual([await planPriceId(stripe, 'team'), 25]);
    const data = await tenant(t.tenantId);
    expect(data).toMatchObject({ plan: 'team', seatCap: 25, lastCheckout: { outcome: 'not_applied', reason: 'already-paid', plan: 'starter', seats: 3 } });
    expect(data.lastCheckout.message).toContain('already on a paid plan in Stripe: its plan and seats are unchanged');
    expect((await checkoutRecord(t)).record).toMatchObject({ outcome: 'checkout_not_applied', tenantId: t.tenantId });
  });

  it('L2(b): a staff cancel (abuse) is a hold: Checkout is refused, and a session opened before the cancel cannot reactivate the tenant or subscribe', async () => {
    const { t, owner } = await ownedTenant('as made');
    const url = await checkoutUrl(owner, t, 'team', 5);
    await inStripe(t, async () => (await staff()).call('changeTenantStatus', { tenantId: t.tenantId, action: 'cancel', when: 'now', reason: 'abuse' }));
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
    expect((await tenant(t.tenantId)).staffHold).toBe(true);
    await rejectsWith(checkoutUrl(owner, t, 'team', 5), 'failed-precondition', /cancelled by our staff: contact support/);
    await payOnCheckout(t, url, GOOD);
    const data = await tenant(t.tenantId);
    expect(data).toMatchObject({ status: 'cancelled', stripeSubscriptionId: t.subscriptionId, lastCheckout: { outcome: 'not_applied', reason: 'staff-hold' } });
    const all = (await stripe.subscriptions.list({ customer: t.customerId, status: 'all' })).data;
    expect(all.map((s) => [s.id, s.status])).toEqual([[t.subscriptionId, 'canceled']]);
    expect((await stripe.paymentMethods.list({ customer: t.customerId })).data).toEqual([]); // the refused Checkout's card is not kept
    // One move to cancelled (the staff cancel's, or Stripe's deletion event when it came first), none back.
    expect((await history(t.tenantId)).map((h) => h.to)).toEqual(['cancelled']);
  });

  it('S1: the Checkout’s new subscription was made but its answer lost, and the retry comes after Stripe pruned the key: found by metadata, not made twice', async () => {
    const { t, owner } = await ownedTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    await inStripe(t, () => stripe.subscriptions.cancel(t.subscriptionId));
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
    const url = await checkoutUrl(owner, t, 'starter', 5);
    // Every key is already pruned when it comes again (as a day later), and the create's answer is lost: the webhook answers 500, Stripe retries.
    await sim.configure({ apiKey: STRIPE_KEY, billing: { idempotencyKeyLifetimeSeconds: 0 } });
    await sim.failNext({ method: 'POST', path: '/v1/subscriptions', status: 500, when: 'after' });
    await payOnCheckout(t, url, GOOD);
    const made = (await stripe.subscriptions.list({ customer: t.customerId, status: 'all' })).data.filter((s) => s.id !== t.subscriptionId);
    expect(made.map((s) => [s.status, s.metadata.checkoutSession])).toEqual([['active', expect.stringMatching(/^cs_test_/)]]);
    expect(await tenant(t.tenantId)).toMatchObject({ status: 'active', stripeSubscriptionId: made[0].id, lastCheckout: { outcome: 'converted' } });
  });

  it('L2(c): a session opened before a staff suspend and completed after it charges nothing and changes nothing', async () => {
    const { t, owner } = await ownedTenant('as made');
    const url = await checkoutUrl(owner, t, 'starter', 4);
    await inStripe(t, async () => (await staff()).call('changeTenantStatus', { tenantId: t.tenantId, action: 'suspend', reason: 'chargeback under review' }));
    await payOnCheckout(t, url, GOOD);
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'trialing' });
    const sub = await subscriptionOf(t.subscriptionId);
    expect([sub.items.data[0].price.id, sub.items.data[0].quantity]).toEqual([await planPriceId(stripe, 'team'), 25]);
    expect((await stripe.invoices.list({ subscription: t.subscriptionId, status: 'paid' })).data.map((i) => i.amount_paid)).toEqual([0]);
    expect(await tenant(t.tenantId)).toMatchObject({ plan: 'team', seatCap: 25, lastCheckout: { outcome: 'not_applied', reason: 'staff-hold', message: expect.stringContaining('suspended by our staff') } });
  });
});
