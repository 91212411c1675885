// Every billing sequence of STRIPE.md a tenant can live through, driven through the Stripe simulator's
// test clock, its events delivered signed to the real stripeWebhook on the Functions emulator. After each
// step the tenant's status, its write block (the rules, as a member), its mails and the simulator's
// subscription agree. Each sequence runs twice: events delivered as Stripe makes them, then each step's
// events held, every one duplicated, and delivered shuffled; both must pass through the same states.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { signedInClient, type Caller } from '../helpers/emulators';
import { tenant } from './fixtures';
import { advance, DAY, DELIVERIES, expectState, HOUR, inStripe, openTenant, sim, step, stripe, STRIPE_KEY, T0, type BilledTenant , useStripeWorld } from './stripeWorld';

useStripeWorld();

/** Platform staff through the changeTenantStatus callable (the real web SDK), signed in afresh after each clear. */
async function staffAction(t: BilledTenant, data: Record<string, unknown>) {
  const staff: Caller = await signedInClient('super@platform.test', { platform: 'super_admin' });
  try {
    return await step(t.delivery, () => staff.call<{ from: string; to: string; cancelAt?: string | null; stripe: string }>('changeTenantStatus', { tenantId: t.tenantId, ...data }));
  } finally {
    await staff.close();
  }
}
const iso = (unix: number) => new Date(unix * 1000).toISOString();

describe.each(DELIVERIES)('billing sequences, events delivered %s', (delivery) => {
  it('trial start: Stripe pays a $0 invoice and the subscription trials; the tenant stays in trial', async () => {
    const t = await openTenant(delivery);
    const invoice = (await stripe.subscriptions.retrieve(t.subscriptionId, { expand: ['latest_invoice'] })).latest_invoice as Stripe.Invoice;
    // The inconvenient part: the trial's invoice is paid, for $0.
    expect([invoice.status, invoice.amount_paid, invoice.billing_reason]).toEqual(['paid', 0, 'subscription_create']);
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
  });

  it('trial end without a card: reminder 3 days before, then Stripe pauses it and the tenant is trial_expired, write-blocked, with the conversion mail', async () => {
    const t = await openTenant(delivery);
    await advance(t, 11 * DAY + HOUR);
    await expectState(t, { status: 'trial', writes: true, mails: ['trial-reminder'], stripe: 'trialing' });
    await advance(t, 3 * DAY);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-reminder', 'trial-expired'], stripe: 'paused' });
    // Whatever Stripe does next, nothing lifts it until it is paid: a month passes, no invoice, still blocked.
    await advance(t, 31 * DAY);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-reminder', 'trial-expired'], stripe: 'paused' });
  });

  it('an expired trial pays: a card added and the subscription resumed; blocked until the invoice is paid, then active', async () => {
    const t = await openTenant(delivery);
    await advance(t, 14 * DAY + HOUR);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    // What the customer portal's "Start subscription" does: a default card, then resume (Stripe invoices at once).
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: t.customerId });
    await inStripe(t, () => stripe.customers.update(t.customerId, { invoice_settings: { default_payment_method: card.id } }));
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    await inStripe(t, () => stripe.subscriptions.resume(t.subscriptionId));
    await advance(t, 60); // the resumption invoice is charged right after the request
    await expectState(t, { status: 'active', writes: true, mails: ['trial-expired'], stripe: 'active', failedPaymentRetries: 0 });
  });

  it('an expired trial whose card declines on resume stays write-blocked, though Stripe says past_due', async () => {
    const t = await openTenant(delivery);
    await advance(t, 14 * DAY + HOUR);
    const card = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: t.customerId });
    await inStripe(t, () => stripe.customers.update(t.customerId, { invoice_settings: { default_payment_method: card.id } }));
    await inStripe(t, () => stripe.subscriptions.resume(t.subscriptionId));
    await advance(t, 60);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'past_due' });
  });

  it('trial end with a card: the trial stays a trial until the first invoice is paid, then active', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa' });
    // One step past the trial end: trial_will_end reaches the webhook when Stripe already says active, so no reminder.
    await advance(t, 14 * DAY + 60);
    // Stripe says active at once, with a draft invoice charged about an hour later.
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'active' });
    await advance(t, HOUR);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active', failedPaymentRetries: 0 });
  });

  it('renewal fails, a retry fails (writes blocked from the first failed retry), then a retry pays: active again', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa' });
    await advance(t, 14 * DAY + 2 * HOUR);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY); // the renewal: drafted, finalized an hour later, declined
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    await advance(t, DAY); // Smart Retries' first retry
    await expectState(t, { status: 'past_due', writes: false, mails: [], stripe: 'past_due', failedPaymentRetries: 1 });
    await sim.setChargeOutcome(t.paymentMethodId!, 'succeed');
    await advance(t, 2 * DAY); // the next retry succeeds
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active', failedPaymentRetries: 0 });
  });

  it('retries exhausted, Stripe set to mark the subscription unpaid: suspended', async () => {
    await sim.configure({ apiKey: STRIPE_KEY, billing: { retryDays: [1, 3], afterFinalRetry: 'unpaid' } });
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR);
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    await advance(t, 3 * DAY + HOUR); // both retries fail
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'unpaid' });
  });

  it('retries exhausted, Stripe set to leave it past_due: suspended all the same (no next attempt)', async () => {
    await sim.configure({ apiKey: STRIPE_KEY, billing: { retryDays: [1], afterFinalRetry: 'past_due' } });
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR);
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    await advance(t, DAY + HOUR);
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'past_due' });
  });

  it('retries exhausted, Stripe set to cancel: cancelled', async () => {
    await sim.configure({ apiKey: STRIPE_KEY, billing: { retryDays: [1], afterFinalRetry: 'cancel' } });
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY + 2 * HOUR);
    await advance(t, DAY + HOUR);
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
  });

  it('a sales tenant: a trial until go-live, invoiced with no card, past_due only once the invoice is overdue, then paid', async () => {
    const t = await openTenant(delivery, { source: 'sales', trialDays: 10, daysUntilDue: 30 });
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    await advance(t, 7 * DAY + HOUR); // trial_will_end: a tenant billed by invoice has no card to add, so no reminder
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    await advance(t, 3 * DAY + HOUR); // go-live: invoice drafted, finalized and sent an hour later
    const sent = await stripe.invoices.list({ subscription: t.subscriptionId, status: 'open' });
    expect(sent.data.map((i) => [i.collection_method, i.attempt_count])).toEqual([['send_invoice', 0]]);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    await advance(t, 29 * DAY); // not yet due
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    await advance(t, 2 * DAY); // overdue
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    await inStripe(t, () => stripe.invoices.pay(sent.data[0].id, { paid_out_of_band: true })); // the wire transfer arrived
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
  });

  it('the customer cancels now: cancelled at once, writes blocked', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    await inStripe(t, () => stripe.subscriptions.cancel(t.subscriptionId));
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
  });

  it('the customer cancels at period end: active (with cancelAt) until the period ends, then cancelled', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    const updated = await inStripe(t, () => stripe.subscriptions.update(t.subscriptionId, { cancel_at_period_end: true }));
    const periodEnd = updated.items.data[0].current_period_end;
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    expect((await tenant(t.tenantId)).cancelAt?.toMillis()).toBe(periodEnd * 1000);
    await advance(t, periodEnd - t.now + 60);
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
  });
  it('staff extend a trial: Stripe’s trial_end moves first, so Stripe does not end it at the old date', async () => {
    const t = await openTenant(delivery);
    const result = await staffAction(t, { action: 'extend_trial', trialEndsAt: iso(T0 + 30 * DAY), reason: 'pilot runs longer' });
    expect([result.from, result.to]).toEqual(['trial', 'trial']);
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).trial_end).toBe(T0 + 30 * DAY);
    expect((await tenant(t.tenantId)).trialEndsAt.toMillis()).toBe((T0 + 30 * DAY) * 1000);
    await advance(t, 14 * DAY + HOUR); // the old trial end
    await expectState(t, { status: 'trial', writes: true, mails: [], stripe: 'trialing' });
    await advance(t, 16 * DAY); // the new one (in one step: trial_will_end finds the trial over, so no reminder)
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
  });

  it('staff extend an expired trial: the paused subscription is resumed into a new trial, writes come back', async () => {
    const t = await openTenant(delivery);
    await advance(t, 14 * DAY + HOUR);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    const result = await staffAction(t, { action: 'extend_trial', trialEndsAt: iso(T0 + 40 * DAY), reason: 'second chance' });
    expect([result.from, result.to]).toEqual(['trial_expired', 'trial']);
    await expectState(t, { status: 'trial', writes: true, mails: ['trial-expired'], stripe: 'trialing' });
    expect((await stripe.subscriptions.retrieve(t.subscriptionId)).trial_end).toBe(T0 + 40 * DAY);
  });

  it('staff suspend is a hold a paid renewal cannot lift; only activate does', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    await staffAction(t, { action: 'suspend', reason: 'chargeback under review' });
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'active' });
    await advance(t, 31 * DAY); // the renewal is paid: invoice.paid, subscription updated
    const paid = await stripe.invoices.list({ subscription: t.subscriptionId, status: 'paid' });
    expect(paid.data.length).toBe(2);
    await expectState(t, { status: 'suspended', writes: false, mails: [], stripe: 'active' });
    expect((await tenant(t.tenantId)).staffHold).toBe(true);
    await staffAction(t, { action: 'activate', reason: 'resolved with the bank' });
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    expect((await tenant(t.tenantId)).staffHold).toBe(false);
  });

  it('M6: staff activate an expired trial (Stripe paused it): a later customer.updated keeps it active, not suspended; paying spends the grant', async () => {
    const t = await openTenant(delivery);
    await advance(t, 14 * DAY + HOUR);
    await expectState(t, { status: 'trial_expired', writes: false, mails: ['trial-expired'], stripe: 'paused' });
    const result = await staffAction(t, { action: 'activate', reason: 'deal closed offline, invoice to follow' });
    expect([result.from, result.to]).toEqual(['trial_expired', 'active']);
    await expectState(t, { status: 'active', writes: true, mails: ['trial-expired'], stripe: 'paused' });
    // The customer adds a card in the portal: customer.updated, the subscription re-read, still paused.
    const card = await stripe.paymentMethods.attach('pm_card_visa', { customer: t.customerId });
    await inStripe(t, () => stripe.customers.update(t.customerId, { invoice_settings: { default_payment_method: card.id } }));
    await advance(t, DAY);
    await expectState(t, { status: 'active', writes: true, mails: ['trial-expired'], stripe: 'paused' });
    expect((await tenant(t.tenantId)).staffGrant).toBe(true);
    // "Start subscription": Stripe's own state now backs the service, and the grant is spent.
    await inStripe(t, () => stripe.subscriptions.resume(t.subscriptionId));
    await advance(t, 60);
    await expectState(t, { status: 'active', writes: true, mails: ['trial-expired'], stripe: 'active', failedPaymentRetries: 0 });
    expect((await tenant(t.tenantId)).staffGrant).toBe(false);
  });

  it('M6: staff activate over an ended subscription is refused, naming why, and changes nothing', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await inStripe(t, () => stripe.subscriptions.cancel(t.subscriptionId));
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
    const before = await tenant(t.tenantId);
    await expect(staffAction(t, { action: 'activate', reason: 'try to bring it back' })).rejects.toMatchObject({
      code: 'functions/failed-precondition',
      message: expect.stringContaining('has ended (canceled)'),
    });
    expect(await tenant(t.tenantId)).toEqual(before);
  });

  it('staff cancel now: Stripe stops charging first, the tenant is cancelled', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    const result = await staffAction(t, { action: 'cancel', when: 'now', reason: 'customer asked' });
    expect([result.from, result.to]).toEqual(['active', 'cancelled']);
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
    await advance(t, 31 * DAY); // no renewal is charged
    expect((await stripe.invoices.list({ subscription: t.subscriptionId })).data.map((i) => i.billing_reason)).toEqual(['subscription_create']);
  });

  it('staff cancel at period end: the tenant keeps working until Stripe ends the subscription', async () => {
    const t = await openTenant(delivery, { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    const result = await staffAction(t, { action: 'cancel', when: 'period_end', reason: 'not renewing' });
    const periodEnd = (await stripe.subscriptions.retrieve(t.subscriptionId)).items.data[0].current_period_end;
    expect([result.from, result.to, result.cancelAt]).toEqual(['active', 'active', iso(periodEnd)]);
    await expectState(t, { status: 'active', writes: true, mails: [], stripe: 'active' });
    await advance(t, periodEnd - t.now + 60);
    await expectState(t, { status: 'cancelled', writes: false, mails: [], stripe: 'canceled' });
  });
});
