// The Stripe customer's email follows an ownership transfer: the outbox document written in the
// transfer's transaction, delivered by syncStripeCustomerEmail (a Firestore trigger on the Functions
// emulator) to the Stripe simulator's customer.
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { deliverCustomerEmail } from '../../functions/src/billing/customerEmail';
import { memberOf, openTenantsCheckedAfterEach } from '../helpers/billing';
import { db } from '../helpers/emulators';
import { openTenant, sim, stripe, useStripeWorld } from '../lifecycle/stripeWorld';

useStripeWorld();
const openTenantChecked = openTenantsCheckedAfterEach();

/** Polls Stripe until the customer's email is `email` (the trigger runs after the transfer's commit), or gives up. */
async function customerEmailBecomes(customerId: string, email: string, timeoutMs = 60_000): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const customer = (await stripe.customers.retrieve(customerId)) as Stripe.Customer;
    if (customer.email === email || Date.now() > deadline) return customer.email;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('transferOwnership and the Stripe customer', () => {
  it('L3: after a transfer, the Stripe customer’s email is the new owner’s (outbox written with the transfer, delivered once)', async () => {
    const t = await openTenantChecked('as made');
    const owner = await memberOf(t.tenantId, 'owner');
    const admin = await memberOf(t.tenantId, 'admin', { email: `new-owner-${t.tenantId}@example.test` });
    expect(((await stripe.customers.retrieve(t.customerId)) as Stripe.Customer).email).toBe(`billing@${t.tenantId}.test`);
    await owner.call('transferOwnership', { tenantId: t.tenantId, uid: admin.uid });
    const newEmail = `new-owner-${t.tenantId}@example.test`.toLowerCase();
    expect(await customerEmailBecomes(t.customerId, newEmail)).toBe(newEmail);
    const outbox = async () => (await db.doc(`stripeCustomerEmails/${t.tenantId}`).get()).data();
    for (let i = 0; i < 100 && (await outbox())?.state !== 'delivered'; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await outbox()).toMatchObject({ tenantId: t.tenantId, email: newEmail, state: 'delivered' });
    // Delivered is done: another run sends nothing to Stripe.
    const updatedEvents = async () => (await stripe.events.list({ type: 'customer.updated', limit: 100 })).data.filter((e) => (e.data.object as Stripe.Customer).id === t.customerId).length;
    const before = await updatedEvents();
    expect(before).toBe(1);
    expect(await deliverCustomerEmail({ db, stripe }, t.tenantId, new Date())).toBe('nothing_pending');
    expect(await updatedEvents()).toBe(before);
  });

  it('L3: a delivery Stripe fails stays pending, and a later attempt delivers it', async () => {
    const t = await openTenantChecked('as made');
    const ref = db.doc(`stripeCustomerEmails/${t.tenantId}`);
    await sim.failNext({ method: 'POST', path: `/v1/customers/${t.customerId}`, status: 500, times: 50 });
    // Queued as the transfer queues it; the trigger's own attempts fail too.
    await ref.set({ tenantId: t.tenantId, email: 'later@example.test', state: 'pending', requestedAt: new Date(), deliveredAt: null });
    await expect(deliverCustomerEmail({ db, stripe }, t.tenantId, new Date())).rejects.toThrow();
    expect((await ref.get()).get('state')).toBe('pending');
    expect(((await stripe.customers.retrieve(t.customerId)) as Stripe.Customer).email).toBe(`billing@${t.tenantId}.test`);
    await fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, { method: 'DELETE' });
    await deliverCustomerEmail({ db, stripe }, t.tenantId, new Date());
    expect(((await stripe.customers.retrieve(t.customerId)) as Stripe.Customer).email).toBe('later@example.test');
    expect((await ref.get()).get('state')).toBe('delivered');
  });
});
