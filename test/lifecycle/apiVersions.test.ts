// A webhook endpoint on an API version older than the pinned SDK's (an adopter's account default, or an
// endpoint made before the upgrade): Stripe renders its events at that version (STRIPE.md §0, §11), and
// invoices name their subscription in the pre-basil shape. The sequence where only invoice events say
// what happened (a failed retry on a past_due subscription) must still reach the tenant.
import { describe, expect, it } from 'vitest';
import { db } from '../helpers/emulators';
import { advance, DAY, expectState, HOUR, openTenant, sim, useStripeWorld } from './stripeWorld';

const OLD_VERSION = '2024-06-20';
useStripeWorld({ apiVersion: OLD_VERSION });

describe(`an endpoint on API version ${OLD_VERSION} (before basil)`, () => {
  it('M3: a failed retry on a past_due tenant reaches the tenant: failedPaymentRetries counts it and writes are blocked', async () => {
    const t = await openTenant('as made', { card: 'pm_card_visa', trialDays: null });
    await advance(t, 2 * HOUR);
    await sim.setChargeOutcome(t.paymentMethodId!, 'decline');
    await advance(t, 31 * DAY); // the renewal: drafted, finalized an hour later, declined
    await expectState(t, { status: 'past_due', writes: true, mails: [], stripe: 'past_due', failedPaymentRetries: 0 });
    await advance(t, DAY); // Smart Retries' first retry: only invoice events, the subscription stays past_due
    await expectState(t, { status: 'past_due', writes: false, mails: [], stripe: 'past_due', failedPaymentRetries: 1 });
    // Every invoice event was read as about the tenant's subscription; none as "no subscription".
    const records = (await db.collection('stripeEvents').where('tenantId', '==', t.tenantId).get()).docs.map((d) => d.data());
    const invoices = records.filter((r) => String(r.type).startsWith('invoice.'));
    expect(invoices.map((r) => r.type)).toContain('invoice.payment_failed');
    expect(invoices.filter((r) => r.outcome === 'no_subscription' || r.subscriptionId !== t.subscriptionId)).toEqual([]);
  });
});
