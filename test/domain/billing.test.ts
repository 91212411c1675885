// The billing map (functions/src/domain/billing.ts): what a subscription as Stripe has it means for the
// tenant, for every Stripe status and tenant status; the event parsing; the subscription terms.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BILLING_MAP,
  billingMapMarkdown,
  deriveBilling,
  STRIPE_SUBSCRIPTION_STATUSES,
  StripeSubscriptionSchema,
  subscriptionTerms,
  type StripeInvoiceState,
  type StripeSubscriptionState,
  type StripeSubscriptionStatus,
  type TenantBillingView,
} from '../../functions/src/domain/billing';
import { isAllowed, LIFECYCLE, transition } from '../../functions/src/domain/lifecycle';
import { TENANT_STATUSES, type TenantStatus } from '../../functions/src/domain/status';
import { subjectOf } from '../../functions/src/domain/stripeEvents';

const T0 = 1_800_000_000; // unix seconds
const DAY = 86_400;

const paidInvoice = (amount: number): StripeInvoiceState => ({ id: 'in_paid', status: 'paid', amount_paid: amount, attempt_count: amount ? 1 : 0, next_payment_attempt: null });
/** The $0 invoice Stripe creates and pays when a trial starts. */
const trialInvoice = paidInvoice(0);
const failedInvoice = (attempts: number, retryAt: number | null = T0 + 3 * DAY): StripeInvoiceState => ({
  id: 'in_failed',
  status: 'open',
  amount_paid: 0,
  attempt_count: attempts,
  next_payment_attempt: retryAt,
});
const draftInvoice: StripeInvoiceState = { id: 'in_draft', status: 'draft', amount_paid: 0, attempt_count: 0, next_payment_attempt: T0 + 3600 };
const sentInvoice: StripeInvoiceState = { id: 'in_sent', status: 'open', amount_paid: 0, attempt_count: 0, next_payment_attempt: null };

function sub(status: StripeSubscriptionStatus, extra: Partial<StripeSubscriptionState> = {}): StripeSubscriptionState {
  return {
    id: 'sub_1',
    status,
    customer: 'cus_1',
    collection_method: 'charge_automatically',
    trial_end: null,
    latest_invoice: null,
    ...extra,
  };
}
const tenant = (status: TenantStatus, extra: Partial<TenantBillingView> = {}): TenantBillingView => ({
  status,
  staffHold: false,
  staffGrant: false,
  trialEndsAt: null,
  failedPaymentRetries: 0,
  ...extra,
});
/** Where the tenant ends up: the decided status if LIFECYCLE allows the event, else where it is. */
function outcome(s: StripeSubscriptionState, t: TenantBillingView) {
  const decision = deriveBilling(s, t);
  const to = decision.event && isAllowed(t.status, decision.event, t.staffHold) ? transition(t.status, decision.event, t.staffHold).to : t.status;
  return { ...decision, to };
}

describe('deriveBilling: the rows of the issue', () => {
  it('trialing → trial, even though the $0 trial invoice is paid; Stripe’s trial end becomes the tenant’s', () => {
    const s = sub('trialing', { trial_end: T0 + 14 * DAY, latest_invoice: trialInvoice });
    const sameEnd = deriveBilling(s, tenant('trial', { trialEndsAt: new Date((T0 + 14 * DAY) * 1000 + 456) }));
    expect([sameEnd.rule, sameEnd.status, sameEnd.event]).toEqual(['trialing', 'trial', null]);
    const moved = deriveBilling(s, tenant('trial', { trialEndsAt: new Date(T0 * 1000) }));
    expect([moved.event, moved.trialEndsAt?.getTime()]).toEqual(['extend_trial', (T0 + 14 * DAY) * 1000]);
    expect(deriveBilling(s, tenant('trial_expired')).event).toBe('extend_trial');
  });

  it('paused at trial end → trial_expired (with the conversion mail of trial_ended); already expired → no change', () => {
    const s = sub('paused', { trial_end: T0, latest_invoice: trialInvoice });
    expect(deriveBilling(s, tenant('trial'))).toMatchObject({ rule: 'paused_at_trial_end', status: 'trial_expired', event: 'trial_ended' });
    expect(LIFECYCLE.trial_ended.effects?.('trial')).toEqual([{ type: 'queueMail', mail: 'trial_expired' }]);
    expect(deriveBilling(s, tenant('trial_expired'))).toMatchObject({ status: 'trial_expired', event: null });
  });

  it('active with a paid non-zero invoice → active, from every status that can pay; a cancelled tenant is reactivated', () => {
    const s = sub('active', { latest_invoice: paidInvoice(2900) });
    for (const from of ['trial', 'trial_expired', 'past_due', 'suspended'] as const) {
      expect(outcome(s, tenant(from, { failedPaymentRetries: 2 })), from).toMatchObject({ rule: 'active_paid', event: 'payment_succeeded', to: 'active' });
    }
    expect(outcome(s, tenant('cancelled'))).toMatchObject({ event: 'reactivated', to: 'active' });
    expect(outcome(s, tenant('active'))).toMatchObject({ event: null, to: 'active' });
  });

  it('an expired trial stays write-blocked until it is paid: active with an unpaid or $0 invoice changes nothing', () => {
    for (const latest of [draftInvoice, failedInvoice(0), trialInvoice]) {
      expect(outcome(sub('active', { latest_invoice: latest }), tenant('trial_expired'))).toMatchObject({ rule: 'active_awaiting_payment', event: null, to: 'trial_expired' });
      // A trial whose card is charged within the hour stays a trial until Stripe says paid.
      expect(outcome(sub('active', { latest_invoice: latest }), tenant('trial'))).toMatchObject({ event: null, to: 'trial' });
    }
  });

  it('past_due → past_due with failed retries = the latest invoice’s attempt_count − 1', () => {
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(1) }), tenant('active'))).toMatchObject({
      rule: 'past_due',
      event: 'payment_failed',
      failedPaymentRetries: 0,
      to: 'past_due',
    });
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(3) }), tenant('active'))).toMatchObject({ event: 'payment_retry_failed', failedPaymentRetries: 2 });
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(3) }), tenant('past_due', { failedPaymentRetries: 1 }))).toMatchObject({
      event: 'payment_retry_failed',
      failedPaymentRetries: 2,
    });
    // The same count again (a duplicate, a reordered older event) is no change.
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(3) }), tenant('past_due', { failedPaymentRetries: 2 }))).toMatchObject({ event: null });
  });

  it('a trial whose first charge fails is an expired trial, not past_due: its writes stay blocked', () => {
    for (const status of ['past_due', 'unpaid'] as const) {
      expect(outcome(sub(status, { latest_invoice: failedInvoice(1) }), tenant('trial'))).toMatchObject({ rule: 'never_paid_failing', event: 'trial_ended', to: 'trial_expired' });
      expect(outcome(sub(status, { latest_invoice: failedInvoice(4, null) }), tenant('trial_expired'))).toMatchObject({ event: null, to: 'trial_expired' });
    }
  });

  it('unpaid, or past_due with retries exhausted → suspended', () => {
    expect(outcome(sub('unpaid', { latest_invoice: failedInvoice(4, null) }), tenant('past_due', { failedPaymentRetries: 3 }))).toMatchObject({
      rule: 'unpaid',
      event: 'retries_exhausted',
      to: 'suspended',
    });
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(4, null) }), tenant('past_due', { failedPaymentRetries: 2 }))).toMatchObject({
      rule: 'retries_exhausted',
      to: 'suspended',
    });
    expect(outcome(sub('past_due', { latest_invoice: failedInvoice(4, null) }), tenant('active'))).toMatchObject({ to: 'suspended' });
  });

  it('canceled or incomplete_expired → cancelled from every live status, a staff hold included', () => {
    for (const status of ['canceled', 'incomplete_expired'] as const) {
      for (const from of ['trial', 'trial_expired', 'active', 'past_due', 'suspended'] as const) {
        expect(outcome(sub(status), tenant(from)), `${status} ${from}`).toMatchObject({ rule: 'ended', event: 'subscription_canceled', to: 'cancelled' });
      }
      expect(outcome(sub(status), tenant('suspended', { staffHold: true }))).toMatchObject({ to: 'cancelled' });
      expect(outcome(sub(status), tenant('cancelled'))).toMatchObject({ event: null, to: 'cancelled' });
    }
  });

  it('a staff hold is not lifted by any billing state but a cancellation', () => {
    const held = tenant('suspended', { staffHold: true });
    const states = [
      sub('active', { latest_invoice: paidInvoice(2900) }),
      sub('trialing', { trial_end: T0 + DAY }),
      sub('past_due', { latest_invoice: failedInvoice(1) }),
      sub('active', { collection_method: 'send_invoice', latest_invoice: sentInvoice }),
    ];
    for (const s of states) expect(outcome(s, held), s.status).toMatchObject({ rule: 'staff_hold', event: null, to: 'suspended' });
    // And the table itself refuses a billing event under the hold, whoever asks.
    expect(() => transition('suspended', 'payment_succeeded', true)).toThrow(/staff suspension/);
    expect(transition('suspended', 'activate', true).effects).toContainEqual({ type: 'liftStaffHold' });
    expect(transition('active', 'suspend').effects).toContainEqual({ type: 'placeStaffHold' });
  });

  it('M6: a staff activate over a paused, past_due or unpaid subscription is a grant the map honours, until Stripe’s own state decides', () => {
    const granted = tenant('active', { staffGrant: true });
    const overridden = [
      sub('paused'),
      sub('past_due', { latest_invoice: failedInvoice(2) }),
      sub('past_due', { latest_invoice: failedInvoice(4, null) }),
      sub('unpaid', { latest_invoice: failedInvoice(4, null) }),
    ];
    for (const s of overridden) {
      expect(outcome(s, granted), s.status).toMatchObject({ rule: 'staff_grant', event: null, to: 'active' });
      // Without the grant, the same state takes the activated tenant's service away.
      expect(outcome(s, tenant('active')).to, s.status).toBe(s.status === 'past_due' && s.latest_invoice?.next_payment_attempt !== null ? 'past_due' : 'suspended');
    }
    // Paid, trialing or ended: another row decides (and the sync spends the grant).
    expect(outcome(sub('active', { latest_invoice: paidInvoice(2900) }), granted)).toMatchObject({ rule: 'active_paid', to: 'active' });
    expect(outcome(sub('canceled'), granted)).toMatchObject({ rule: 'ended', to: 'cancelled' });
    expect(outcome(sub('trialing', { trial_end: T0 + DAY }), granted)).toMatchObject({ rule: 'trialing' });
    expect(transition('trial_expired', 'activate').effects).toContainEqual({ type: 'grantService' });
  });

  it('incomplete waits for the first payment; the saga’s statuses are left alone', () => {
    expect(outcome(sub('incomplete', { latest_invoice: failedInvoice(1) }), tenant('trial'))).toMatchObject({ rule: 'incomplete', event: null, to: 'trial' });
    for (const from of ['provisioning', 'failed'] as const) {
      for (const status of STRIPE_SUBSCRIPTION_STATUSES) expect(deriveBilling(sub(status), tenant(from)), `${from} ${status}`).toMatchObject({ rule: 'saga_owned', event: null });
    }
  });
});

describe('deriveBilling: sales tenants billed by invoice (send_invoice)', () => {
  const invoiced = (status: StripeSubscriptionStatus, latest: StripeInvoiceState | null, extra: Partial<StripeSubscriptionState> = {}) =>
    sub(status, { collection_method: 'send_invoice', latest_invoice: latest, ...extra });

  it('go-live reached: active with an open invoice not yet due is active; no card, no payment needed', () => {
    expect(outcome(invoiced('active', sentInvoice), tenant('trial'))).toMatchObject({ rule: 'active_invoiced', event: 'payment_succeeded', to: 'active' });
    expect(outcome(invoiced('active', draftInvoice), tenant('active'))).toMatchObject({ event: null, to: 'active' });
  });

  it('an overdue invoice makes it past_due with no failed retries (writes allowed), never trial_expired or suspended', () => {
    expect(outcome(invoiced('past_due', sentInvoice), tenant('active'))).toMatchObject({ rule: 'past_due', failedPaymentRetries: 0, event: 'payment_failed', to: 'past_due' });
    // A sales tenant still in its pre-go-live trial is a contract customer, not a lapsed trial.
    expect(outcome(invoiced('past_due', sentInvoice), tenant('trial'))).toMatchObject({ to: 'past_due' });
  });

  it('paid → active again', () => {
    expect(outcome(invoiced('active', paidInvoice(120000)), tenant('past_due'))).toMatchObject({ to: 'active' });
  });
});

describe('BILLING_MAP as a whole', () => {
  const invoices: Array<StripeInvoiceState | null> = [null, trialInvoice, paidInvoice(2900), draftInvoice, sentInvoice, failedInvoice(1), failedInvoice(3), failedInvoice(4, null)];
  const combos = function* () {
    for (const status of STRIPE_SUBSCRIPTION_STATUSES)
      for (const collection_method of ['charge_automatically', 'send_invoice'] as const)
        for (const latest_invoice of invoices)
          for (const from of TENANT_STATUSES)
            for (const staffHold of [false, true]) yield { s: sub(status, { collection_method, latest_invoice, trial_end: T0 }), t: tenant(from, { staffHold }) };
  };

  it('has a row for every Stripe status, collection method, latest invoice and tenant status', () => {
    let n = 0;
    for (const { s, t } of combos()) {
      expect(() => deriveBilling(s, t)).not.toThrow();
      n += 1;
    }
    expect(n).toBe(8 * 2 * invoices.length * TENANT_STATUSES.length * 2);
  });

  it('never moves an expired trial anywhere but active (paid, or billed by invoice), trial (a new trial end) or cancelled', () => {
    for (const { s, t } of combos()) {
      if (t.status !== 'trial_expired' || t.staffHold) continue;
      const { to } = outcome(s, t);
      expect(['trial_expired', 'active', 'trial', 'cancelled'], `${s.status} ${s.collection_method} ${JSON.stringify(s.latest_invoice)}`).toContain(to);
      if (to === 'active') expect(s.collection_method === 'send_invoice' || (s.latest_invoice?.status === 'paid' && s.latest_invoice.amount_paid > 0)).toBe(true);
    }
  });

  it('never lifts a staff hold except into cancelled', () => {
    for (const { s, t } of combos()) if (t.staffHold && t.status === 'suspended') expect(['suspended', 'cancelled']).toContain(outcome(s, t).to);
  });

  it('every event it picks is one the lifecycle table knows, and each row id is unique', () => {
    for (const { s, t } of combos()) {
      const { event } = deriveBilling(s, t);
      if (event) expect(Object.keys(LIFECYCLE)).toContain(event);
    }
    expect(new Set(BILLING_MAP.map((r) => r.id)).size).toBe(BILLING_MAP.length);
  });

  it('cancelAt: Stripe’s cancel_at, else the period end when cancelling at period end, else null', () => {
    const items = { data: [{ current_period_end: T0 + 30 * DAY }] };
    expect(deriveBilling(sub('active', { cancel_at_period_end: true, items }), tenant('active')).cancelAt?.getTime()).toBe((T0 + 30 * DAY) * 1000);
    expect(deriveBilling(sub('active', { cancel_at: T0 + 9 * DAY, items }), tenant('active')).cancelAt?.getTime()).toBe((T0 + 9 * DAY) * 1000);
    expect(deriveBilling(sub('active', { items }), tenant('active')).cancelAt).toBeNull();
    expect(deriveBilling(sub('canceled', { cancel_at: T0 }), tenant('active')).cancelAt).toBeNull();
  });

  it('is the table docs/lifecycle.md shows', () => {
    expect(readFileSync(new URL('../../docs/lifecycle.md', import.meta.url), 'utf8')).toContain(billingMapMarkdown());
  });
});

describe('StripeSubscriptionSchema: reads a retrieved subscription in Stripe’s shape', () => {
  it('takes the fields it uses, an expanded customer included, and drops the rest', () => {
    const parsed = StripeSubscriptionSchema.parse({
      id: 'sub_1',
      object: 'subscription',
      status: 'past_due',
      customer: { id: 'cus_1', object: 'customer' },
      collection_method: 'charge_automatically',
      trial_end: null,
      cancel_at: null,
      cancel_at_period_end: false,
      items: { object: 'list', data: [{ id: 'si_1', current_period_end: T0 }] },
      latest_invoice: { id: 'in_1', object: 'invoice', status: 'open', amount_paid: 0, amount_due: 2900, attempt_count: 2, next_payment_attempt: T0 + DAY },
    });
    expect(parsed.customer).toBe('cus_1');
    expect(parsed.latest_invoice).toEqual({ id: 'in_1', status: 'open', amount_paid: 0, amount_due: 2900, attempt_count: 2, next_payment_attempt: T0 + DAY });
    expect('object' in parsed).toBe(false);
  });

  it('refuses a status it does not know and a latest invoice that was not expanded', () => {
    const base = { id: 'sub_1', customer: 'cus_1', collection_method: 'charge_automatically', trial_end: null, latest_invoice: null };
    expect(StripeSubscriptionSchema.safeParse({ ...base, status: 'frozen' }).success).toBe(false);
    expect(StripeSubscriptionSchema.safeParse({ ...base, status: 'active', latest_invoice: 'in_1' }).success).toBe(false);
    expect(StripeSubscriptionSchema.safeParse({ ...base, status: 'active' }).success).toBe(true);
  });
});

describe('subjectOf: what an event is about', () => {
  const event = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', object: 'event', type, created: T0, data: { object } });

  it('a subscription event names its subscription, customer and tenant', () => {
    expect(subjectOf(event('customer.subscription.paused', { id: 'sub_1', customer: 'cus_1', metadata: { tenantId: 't1' } })).subject).toEqual({
      kind: 'subscription',
      subscriptionId: 'sub_1',
      customerId: 'cus_1',
      tenantHint: 't1',
    });
  });

  it('an invoice event names the subscription it bills (basil parent), or none for a one-off invoice', () => {
    const parent = { type: 'subscription_details', subscription_details: { subscription: 'sub_1', metadata: { tenantId: 't1' } } };
    expect(subjectOf(event('invoice.paid', { id: 'in_1', customer: 'cus_1', parent })).subject).toEqual({ kind: 'subscription', subscriptionId: 'sub_1', customerId: 'cus_1', tenantHint: 't1' });
    expect(subjectOf(event('invoice.paid', { id: 'in_1', customer: 'cus_1', parent: null })).subject).toEqual({ kind: 'no_subscription', customerId: 'cus_1' });
  });

  it('M3: an invoice event rendered before basil (top-level subscription and subscription_details) names its subscription too', () => {
    const old = { id: 'in_1', customer: 'cus_1', subscription: 'sub_1', subscription_details: { metadata: { tenantId: 't1' } }, paid: false };
    expect(subjectOf({ ...event('invoice.payment_failed', old), api_version: '2024-06-20' }).subject).toEqual({ kind: 'subscription', subscriptionId: 'sub_1', customerId: 'cus_1', tenantHint: 't1' });
    expect(subjectOf(event('invoice.paid', { id: 'in_2', customer: 'cus_1', subscription: null, subscription_details: null })).subject).toEqual({ kind: 'no_subscription', customerId: 'cus_1' });
  });

  it('a completed checkout names its mode, customer, subscription and the tenant it claims', () => {
    const session = { id: 'cs_1', customer: 'cus_1', subscription: 'sub_2', client_reference_id: 't1', metadata: {} };
    expect(subjectOf(event('checkout.session.completed', session)).subject).toEqual({ kind: 'checkout', sessionId: 'cs_1', mode: null, customerId: 'cus_1', subscriptionId: 'sub_2', tenantHint: 't1' });
    const setup = { id: 'cs_2', mode: 'setup', customer: 'cus_1', subscription: null, client_reference_id: null, metadata: { tenantId: 't2' } };
    expect(subjectOf(event('checkout.session.completed', setup)).subject).toEqual({ kind: 'checkout', sessionId: 'cs_2', mode: 'setup', customerId: 'cus_1', subscriptionId: null, tenantHint: 't2' });
  });

  it('a customer update names the customer (its default card shows on the billing page)', () => {
    expect(subjectOf(event('customer.updated', { id: 'cus_1', metadata: { tenantId: 't1' } })).subject).toEqual({ kind: 'customer', customerId: 'cus_1', tenantHint: 't1' });
  });

  it('other types are ignored; a handled event without the fields it needs is refused', () => {
    expect(subjectOf(event('customer.created', { id: 'cus_1' })).subject).toEqual({ kind: 'ignored' });
    expect(subjectOf(event('payment_method.attached', { id: 'pm_1' })).subject).toEqual({ kind: 'ignored' });
    expect(() => subjectOf(event('customer.subscription.updated', { customer: 'cus_1' }))).toThrow();
    expect(() => subjectOf({ id: 'evt_1', type: 'invoice.paid', created: T0, data: {} })).toThrow();
  });
});

describe('subscriptionTerms: how a new tenant is billed', () => {
  const trialEndsAt = new Date((T0 + 14 * DAY) * 1000 + 123);

  it('self-serve: the plan\'s seats as the quantity, a card-less trial that Stripe pauses at its end if no payment method was added', () => {
    expect(subscriptionTerms({ plan: 'starter', seatCap: 5, trialEndsAt, daysUntilDue: null }, 'price_1StarterFromStripe')).toEqual({
      items: [{ price: 'price_1StarterFromStripe', quantity: 5 }],
      trial_end: T0 + 14 * DAY,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
  });

  it('sales: the contract’s seats as the quantity, invoices with its days until due, a trial only until a future go-live, never a card', () => {
    expect(subscriptionTerms({ plan: 'enterprise', seatCap: 120, trialEndsAt, daysUntilDue: 45 }, 'price_1Enterprise')).toEqual({
      items: [{ price: 'price_1Enterprise', quantity: 120 }],
      trial_end: T0 + 14 * DAY,
      collection_method: 'send_invoice',
      days_until_due: 45,
    });
    expect(subscriptionTerms({ plan: 'enterprise', seatCap: 120, trialEndsAt: null, daysUntilDue: 30 }, 'price_1Enterprise')).toEqual({
      items: [{ price: 'price_1Enterprise', quantity: 120 }],
      collection_method: 'send_invoice',
      days_until_due: 30,
    });
  });
});
