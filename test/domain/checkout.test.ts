// The pure rules of paying: who may start a Checkout or open the portal and when, the seat floor,
// what a completed Checkout does to each Stripe status, the terms shown, and what a subscription says
// the tenant bought.
import { describe, expect, it } from 'vitest';
import { purchasedTerms, STRIPE_SUBSCRIPTION_STATUSES, type StripeSubscriptionState } from '../../functions/src/domain/billing';
import {
  checkoutRefusal,
  checkoutTerms,
  checkSeatsCoverUse,
  CheckoutMetadataSchema,
  conversionStep,
  OpenBillingPortalSchema,
  PLAN_PRICES,
  portalFeatures,
  portalRefusal,
  StartCheckoutSchema,
  type BillingTenant,
} from '../../functions/src/domain/checkout';
import { DomainError } from '../../functions/src/domain/errors';
import { PLANS, PLAN_IDS } from '../../functions/src/domain/plans';
import { TENANT_STATUSES } from '../../functions/src/domain/status';
import { DEFAULT_CATALOG } from '../../tools/fake-stripe/catalog';

const tenant = (overrides: Partial<BillingTenant> = {}): BillingTenant => ({
  name: 'Acme',
  status: 'trial',
  plan: 'team',
  seatCap: 25,
  invoiceBilled: false,
  staffHold: false,
  stripeCustomerId: 'cus_1',
  stripeSubscriptionId: 'sub_1',
  ...overrides,
});
const owner = { role: 'owner' as const, emailVerified: true };

describe('PLAN_PRICES', () => {
  it('is what the Stripe catalog charges per seat for each plan’s price', () => {
    for (const plan of PLAN_IDS) {
      const price = DEFAULT_CATALOG.find((p) => p.lookup_key === PLANS[plan].stripeLookupKey)!;
      expect({ unitAmount: price.unit_amount, currency: price.currency, interval: price.interval }, plan).toEqual(PLAN_PRICES[plan]);
    }
  });
});

describe('the callables’ inputs', () => {
  it('startCheckout takes a self-serve plan and a whole number of seats, nothing else', () => {
    expect(StartCheckoutSchema.safeParse({ tenantId: 't1', plan: 'team', seats: 7 }).success).toBe(true);
    for (const bad of [
      { tenantId: 't1', plan: 'enterprise', seats: 7 },
      { tenantId: 't1', plan: 'team', seats: 0 },
      { tenantId: 't1', plan: 'team', seats: 10_001 },
      { tenantId: 't1', plan: 'team', seats: 7.5 },
      { tenantId: 't1', plan: 'team', seats: '7' },
      { tenantId: '../t1', plan: 'team', seats: 7 },
      { tenantId: 't1', plan: 'team', seats: 7, customer: 'cus_other' },
    ]) {
      expect(StartCheckoutSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('openBillingPortal takes optional seats', () => {
    expect(OpenBillingPortalSchema.safeParse({ tenantId: 't1' }).success).toBe(true);
    expect(OpenBillingPortalSchema.safeParse({ tenantId: 't1', seats: 3 }).success).toBe(true);
    expect(OpenBillingPortalSchema.safeParse({ tenantId: 't1', seats: 0 }).success).toBe(false);
    expect(OpenBillingPortalSchema.safeParse({ tenantId: 't1', plan: 'team' }).success).toBe(false);
  });

  it('reads back the choice a Checkout carries in its metadata (strings, as Stripe keeps them)', () => {
    expect(CheckoutMetadataSchema.parse({ tenantId: 't1', plan: 'starter', seats: '4' })).toEqual({ tenantId: 't1', plan: 'starter', seats: 4 });
    expect(CheckoutMetadataSchema.safeParse({ tenantId: 't1', plan: 'starter', seats: 'many' }).success).toBe(false);
    expect(CheckoutMetadataSchema.safeParse({ tenantId: 't1', plan: 'enterprise', seats: '4' }).success).toBe(false);
  });
});

describe('checkSeatsCoverUse: never fewer seats than members plus pending invites', () => {
  it('allows exactly the seats in use, and more', () => {
    expect(() => checkSeatsCoverUse('Acme', 7, { members: 5, pendingInvites: 2 })).not.toThrow();
    expect(() => checkSeatsCoverUse('Acme', 70, { members: 5, pendingInvites: 2 })).not.toThrow();
  });

  it('refuses fewer with the numbers and what to do', () => {
    const error = (() => {
      try {
        checkSeatsCoverUse('Acme', 6, { members: 5, pendingInvites: 2 });
      } catch (e) {
        return e as DomainError;
      }
    })()!;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('failed-precondition');
    expect(error.message).toBe('Acme uses 7 seats (5 members, 2 pending invites): choose at least 7, or remove members or revoke invites first.');
    expect(error.details).toEqual({ reason: 'seats-below-used', field: 'seats', seats: 6, used: 7, members: 5, pendingInvites: 2 });
    expect(() => checkSeatsCoverUse('Acme', 1, { members: 1, pendingInvites: 1 })).toThrow('uses 2 seats (1 member, 1 pending invite)');
  });
});

describe('checkoutRefusal', () => {
  it('allows the owner and an admin with a verified email, in every status that can pay', () => {
    for (const status of ['trial', 'trial_expired', 'past_due', 'suspended', 'cancelled'] as const) {
      expect(checkoutRefusal(owner, tenant({ status })), status).toBeNull();
      expect(checkoutRefusal({ role: 'admin', emailVerified: true }, tenant({ status })), status).toBeNull();
    }
  });

  it('refuses other roles and strangers (permission-denied), an unverified address, and other statuses, with a reason', () => {
    const reason = (caller: Parameters<typeof checkoutRefusal>[0], t: BillingTenant) => {
      const refusal = checkoutRefusal(caller, t);
      return refusal && [refusal.code, refusal.details?.reason];
    };
    expect(reason({ role: 'manager', emailVerified: true }, tenant())).toEqual(['permission-denied', 'role']);
    expect(reason({ role: null, emailVerified: true }, tenant())).toEqual(['permission-denied', 'role']);
    expect(reason({ role: 'owner', emailVerified: false }, tenant())).toEqual(['failed-precondition', 'email-unverified']);
    expect(reason(owner, tenant({ invoiceBilled: true }))).toEqual(['failed-precondition', 'invoice-billed']);
    expect(reason(owner, tenant({ status: 'suspended', staffHold: true }))).toEqual(['failed-precondition', 'staff-hold']);
    expect(reason(owner, tenant({ stripeCustomerId: null }))).toEqual(['failed-precondition', 'no-customer']);
    for (const status of TENANT_STATUSES.filter((s) => !['trial', 'trial_expired', 'past_due', 'suspended', 'cancelled'].includes(s))) {
      expect(reason(owner, tenant({ status })), status).toEqual(['failed-precondition', `status-${status}`]);
    }
    expect(checkoutRefusal(owner, tenant({ status: 'active' }))?.message).toBe('Acme is already on a paid plan: use Manage billing to change its plan or seats.');
  });
});

describe('portalRefusal', () => {
  it('only the owner, once the tenant has a billing account', () => {
    expect(portalRefusal(owner, tenant())).toBeNull();
    expect(portalRefusal(owner, tenant({ status: 'cancelled' }))).toBeNull();
    expect(portalRefusal({ role: 'admin', emailVerified: true }, tenant())?.code).toBe('permission-denied');
    expect(portalRefusal(owner, tenant({ stripeCustomerId: null }))?.details?.reason).toBe('no-customer');
    expect(portalRefusal(owner, tenant({ status: 'failed' }))?.details?.reason).toBe('no-customer');
  });

  it('seats change only on a plan in force, not by contract, and not to the same number', () => {
    expect(portalRefusal(owner, tenant({ status: 'active' }), 30)).toBeNull();
    expect(portalRefusal(owner, tenant({ status: 'past_due' }), 30)).toBeNull();
    expect(portalRefusal(owner, tenant({ status: 'trial_expired' }), 30)?.details?.reason).toBe('status-trial_expired');
    expect(portalRefusal(owner, tenant({ status: 'cancelled' }), 30)?.details?.reason).toBe('status-cancelled');
    expect(portalRefusal(owner, tenant({ invoiceBilled: true }), 30)?.details?.reason).toBe('invoice-billed');
    expect(portalRefusal(owner, tenant(), 25)?.message).toBe('Acme already has 25 seats.');
  });
});

describe('conversionStep: a completed Checkout never makes a second live subscription', () => {
  it('has a step for every Stripe status, and makes a new subscription only when the old one has ended', () => {
    const steps = Object.fromEntries(STRIPE_SUBSCRIPTION_STATUSES.map((status) => [status, conversionStep(status)]));
    expect(steps).toEqual({
      trialing: 'end_trial',
      active: 'save_card',
      past_due: 'pay_open_invoice',
      unpaid: 'pay_open_invoice',
      canceled: 'subscribe',
      incomplete: 'pay_open_invoice',
      incomplete_expired: 'subscribe',
      paused: 'resume',
    });
  });
});

describe('checkoutTerms: what the person agrees to on the Checkout page', () => {
  it('names the plan, the seats, the price and when it is charged', () => {
    expect(checkoutTerms({ plan: 'team', seats: 7 }, 'trial')).toBe('Team plan, 7 seats at $19.00 per seat: $133.00 a month. Saving your card ends the trial: the first period is charged now.');
    expect(checkoutTerms({ plan: 'starter', seats: 1 }, 'past_due')).toBe('Starter plan, 1 seat at $9.00 per seat: $9.00 a month. Saving your card pays the open invoice now.');
    expect(checkoutTerms({ plan: 'starter', seats: 2 }, 'cancelled')).toContain('Saving your card starts the plan');
  });
});

describe('purchasedTerms: what Stripe’s subscription says the tenant bought', () => {
  const T = 1_803_859_200;
  const sub = (status: StripeSubscriptionState['status'], extra: Partial<StripeSubscriptionState> = {}): StripeSubscriptionState => ({
    id: 'sub_1',
    status,
    customer: 'cus_1',
    collection_method: 'charge_automatically',
    trial_end: status === 'trialing' ? T + 86_400 : null,
    cancel_at: null,
    cancel_at_period_end: false,
    items: { data: [{ current_period_end: T + 30 * 86_400, quantity: 7, price: { id: 'price_1Generated0000000000000', lookup_key: 'starter_monthly', unit_amount: 900, currency: 'usd', recurring: { interval: 'month' } } }] },
    latest_invoice: { id: 'in_1', status: 'paid', amount_paid: 6300, attempt_count: 1, next_payment_attempt: null, amount_due: 6300, currency: 'usd', hosted_invoice_url: null },
    ...extra,
  });
  const card = { brand: 'visa', last4: '4242' };

  it('the plan and seat cap of a subscription in force, and its next invoice', () => {
    const terms = purchasedTerms(sub('active'), card);
    expect([terms.plan, terms.seatCap]).toEqual(['starter', 7]);
    expect(terms.summary).toEqual({
      stripeStatus: 'active',
      price: { unitAmount: 900, currency: 'usd', interval: 'month' },
      nextInvoice: { at: new Date((T + 30 * 86_400) * 1000), amount: 6300, currency: 'usd' },
      openInvoice: null,
      card,
    });
    expect(purchasedTerms(sub('trialing'), null).summary.nextInvoice?.at).toEqual(new Date((T + 86_400) * 1000));
  });

  it('nothing bought from a paused or ended subscription; no next invoice when it is set to end', () => {
    for (const status of ['paused', 'canceled', 'incomplete', 'incomplete_expired'] as const) {
      const terms = purchasedTerms(sub(status), card);
      expect([terms.plan, terms.seatCap, terms.summary.nextInvoice], status).toEqual([null, null, null]);
    }
    expect(purchasedTerms(sub('active', { cancel_at: T + 30 * 86_400 }), card).summary.nextInvoice).toBeNull();
    expect(purchasedTerms(sub('active', { cancel_at_period_end: true }), card).summary.nextInvoice).toBeNull();
  });

  it('an open invoice is what is owed now; a price the catalog does not know leaves the plan alone', () => {
    const pastDue = sub('past_due', { latest_invoice: { id: 'in_2', status: 'open', amount_paid: 0, attempt_count: 1, next_payment_attempt: T, amount_due: 6300, currency: 'usd', hosted_invoice_url: 'https://pay' } });
    expect(purchasedTerms(pastDue, card).summary.openInvoice).toEqual({ amountDue: 6300, currency: 'usd', url: 'https://pay' });
    const unknown = sub('active', { items: { data: [{ quantity: 3, price: { id: 'price_legacy', lookup_key: 'legacy_monthly' } }] } });
    expect([purchasedTerms(unknown, null).plan, purchasedTerms(unknown, null).seatCap]).toEqual([null, 3]);
    // L7: the plan is the price's lookup key's, whatever id Stripe gave the price; an id alone names no plan.
    const byId = sub('active', { items: { data: [{ quantity: 3, price: { id: 'price_starter_monthly' } }] } });
    expect(purchasedTerms(byId, null).plan).toBeNull();
    const byKey = sub('active', { items: { data: [{ quantity: 3, price: { id: 'price_1Q2w3E4r5T6y7U8i9O0p1A2s', lookup_key: 'team_monthly' } }] } });
    expect(purchasedTerms(byKey, null).plan).toBe('team');
  });
});

describe('portalFeatures: what a customer may do in the portal', () => {
  const products = [{ product: 'prod_team', prices: ['price_team_monthly'] }];
  it('self-serve: change plan (seats only through the confirm deep link), replace the card, cancel at period end, invoices', () => {
    expect(portalFeatures('self_serve', products)).toMatchObject({
      invoice_history: { enabled: true },
      payment_method_update: { enabled: true },
      subscription_cancel: { enabled: true, mode: 'at_period_end' },
      subscription_update: { enabled: true, default_allowed_updates: ['price'], products, proration_behavior: 'create_prorations', trial_update_behavior: 'continue_trial' },
    });
  });
  it('invoiced by contract: invoices only', () => {
    expect(portalFeatures('invoiced', products)).toMatchObject({ invoice_history: { enabled: true }, payment_method_update: { enabled: false }, subscription_cancel: { enabled: false }, subscription_update: { enabled: false } });
  });
});
