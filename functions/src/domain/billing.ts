/**
 * The tenant's billing state, derived from Stripe's truth. Pure: no firebase import.
 *
 * The webhook re-reads the tenant's subscription (with its latest invoice) from Stripe on every event
 * about it and asks `deriveBilling` what that state means for the tenant; the answer is applied through
 * the lifecycle's one transition path (LIFECYCLE in ./lifecycle.ts). Because it depends on Stripe's
 * current state and the tenant's current status only, never on which event arrived, events may come
 * in any order and any number of times. BILLING_MAP is the table; docs/lifecycle.md shows it
 * (`billingMapMarkdown`, checked by a test).
 */
import { z } from 'zod';
import type { LifecycleEvent } from './lifecycle';
import { PLANS, type PlanId } from './plans';
import type { TenantStatus } from './status';

export const STRIPE_SUBSCRIPTION_STATUSES = ['trialing', 'active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'paused'] as const;
export type StripeSubscriptionStatus = (typeof STRIPE_SUBSCRIPTION_STATUSES)[number];

/** An expandable Stripe reference: the id, or the object carrying it. */
const StripeRef = z.union([z.string().min(1), z.object({ id: z.string().min(1) })]).transform((ref) => (typeof ref === 'string' ? ref : ref.id));
const UnixSeconds = z.number().int().nonnegative();

/** The fields of an Invoice the mapping reads (Stripe's basil-and-later shape). */
export const StripeInvoiceSchema = z.object({
  id: z.string().min(1),
  status: z.enum(['draft', 'open', 'paid', 'uncollectible', 'void']).nullable(),
  amount_paid: z.number().int().nonnegative(),
  /** Attempts on Stripe's retry schedule: the first attempt, then each automatic retry. */
  attempt_count: z.number().int().nonnegative(),
  /** null once Stripe will try no more (retries done, no payment method), and always for send_invoice. */
  next_payment_attempt: UnixSeconds.nullable(),
  amount_due: z.number().int().nonnegative().optional(),
  currency: z.string().optional(),
  hosted_invoice_url: z.string().nullable().optional(),
});
export type StripeInvoiceState = z.output<typeof StripeInvoiceSchema>;

/** The fields of a Subscription the mapping reads, retrieved with `expand: ['latest_invoice']`. */
export const StripeSubscriptionSchema = z.object({
  id: z.string().min(1),
  status: z.enum(STRIPE_SUBSCRIPTION_STATUSES),
  customer: StripeRef,
  collection_method: z.enum(['charge_automatically', 'send_invoice']),
  trial_end: UnixSeconds.nullable(),
  cancel_at: UnixSeconds.nullable().optional(),
  cancel_at_period_end: z.boolean().optional(),
  /** Since basil the billing period lives on the items. Per-seat plans: one item, its quantity the seats. */
  items: z
    .object({
      data: z.array(
        z.object({
          current_period_end: UnixSeconds.optional(),
          quantity: z.number().int().nonnegative().optional(),
          price: z
            .object({
              id: z.string().min(1),
              /** How a price is known to the plan catalog (PLANS[plan].stripeLookupKey). */
              lookup_key: z.string().nullable().optional(),
              unit_amount: z.number().int().nullable().optional(),
              currency: z.string().optional(),
              recurring: z.object({ interval: z.string() }).nullable().optional(),
            })
            .optional(),
        }),
      ),
    })
    .optional(),
  latest_invoice: StripeInvoiceSchema.nullable(),
});
export type StripeSubscriptionState = z.output<typeof StripeSubscriptionSchema>;

/** What the mapping needs to know about the tenant as it is now. */
export interface TenantBillingView {
  status: TenantStatus;
  /** Set by a staff `suspend`, lifted only by a staff `activate`: billing events never lift it. */
  staffHold: boolean;
  /** Set by a staff `activate` that Stripe's state does not back (a paused or unpaid subscription): honoured until Stripe's state backs service itself. */
  staffGrant: boolean;
  trialEndsAt: Date | null;
  failedPaymentRetries: number;
}

export interface BillingDecision {
  /** The row of BILLING_MAP that decided. */
  rule: BillingRuleId;
  /** The status Stripe's state means for this tenant (its current one when nothing changes). */
  status: TenantStatus;
  /** The lifecycle event that moves the tenant there, or null when it is there already. */
  event: LifecycleEvent | null;
  /** For `trial`: Stripe's trial end. */
  trialEndsAt?: Date;
  /** For `past_due`: failed retries as Stripe counts them (latest invoice attempt_count − 1). */
  failedPaymentRetries?: number;
  /** When Stripe will end the subscription (cancel at period end, or `cancel_at`); null when it will not. */
  cancelAt: Date | null;
}

const NEVER_PAID: readonly TenantStatus[] = ['trial', 'trial_expired'];
/** Stripe states that would take service away, which a staff grant overrides (a canceled subscription it cannot). */
const GRANTABLE: readonly StripeSubscriptionStatus[] = ['paused', 'past_due', 'unpaid', 'incomplete'];
const neverPaid = (tenant: TenantBillingView) => NEVER_PAID.includes(tenant.status);
const charged = (sub: StripeSubscriptionState) => sub.collection_method === 'charge_automatically';
const invoice = (sub: StripeSubscriptionState) => sub.latest_invoice;
const seconds = (unix: number) => new Date(unix * 1000);

interface BillingRule {
  id: string;
  /** For the docs: the subscription's status, the latest invoice, the tenant now. */
  subscription: string;
  invoice: string;
  tenant: string;
  /** A tenant status, or `unchanged`. */
  becomes: TenantStatus | 'unchanged';
  effects: string;
  applies: (sub: StripeSubscriptionState, tenant: TenantBillingView) => boolean;
}

/** The table: the first row that applies decides. */
export const BILLING_MAP = [
  {
    id: 'saga_owned',
    subscription: 'any',
    invoice: 'any',
    tenant: '`provisioning`, `failed`',
    becomes: 'unchanged',
    effects: 'the provisioning saga owns these statuses',
    applies: (_, t) => t.status === 'provisioning' || t.status === 'failed',
  },
  {
    id: 'ended',
    subscription: '`canceled`, `incomplete_expired`',
    invoice: 'any',
    tenant: 'any',
    becomes: 'cancelled',
    effects: '—',
    applies: (s) => s.status === 'canceled' || s.status === 'incomplete_expired',
  },
  {
    id: 'staff_hold',
    subscription: 'any other',
    invoice: 'any',
    tenant: 'held by a staff `suspend`',
    becomes: 'unchanged',
    effects: 'only a staff `activate` lifts the hold',
    applies: (_, t) => t.staffHold,
  },
  {
    id: 'trialing',
    subscription: '`trialing`',
    invoice: 'any (the $0 trial invoice is paid)',
    tenant: 'any',
    becomes: 'trial',
    effects: '`trialEndsAt` = Stripe `trial_end`',
    applies: (s) => s.status === 'trialing',
  },
  {
    id: 'staff_grant',
    subscription: '`paused`, `past_due`, `unpaid`, `incomplete`',
    invoice: 'any',
    tenant: 'granted service by a staff `activate`',
    becomes: 'unchanged',
    effects: 'staff granted service Stripe does not back; spent once any other row decides',
    applies: (s, t) => t.staffGrant && GRANTABLE.includes(s.status),
  },
  {
    id: 'paused_at_trial_end',
    subscription: '`paused`',
    invoice: 'any',
    tenant: 'never paid (`trial`, `trial_expired`)',
    becomes: 'trial_expired',
    effects: 'conversion mail (from `trial`)',
    applies: (s, t) => s.status === 'paused' && neverPaid(t),
  },
  {
    id: 'paused',
    subscription: '`paused`',
    invoice: 'any',
    tenant: 'any other',
    becomes: 'suspended',
    effects: 'paused after a payment failure, or by hand: no service',
    applies: (s) => s.status === 'paused',
  },
  {
    id: 'active_paid',
    subscription: '`active`',
    invoice: '`paid`, `amount_paid` > 0',
    tenant: 'any',
    becomes: 'active',
    effects: '`failedPaymentRetries` = 0, `pastDueSince` = null',
    applies: (s) => s.status === 'active' && invoice(s)?.status === 'paid' && invoice(s)!.amount_paid > 0,
  },
  {
    id: 'active_invoiced',
    subscription: '`active`, `send_invoice`',
    invoice: 'any (not overdue: Stripe would say `past_due`)',
    tenant: 'any',
    becomes: 'active',
    effects: 'as above: a contract pays by invoice, no card needed',
    applies: (s) => s.status === 'active' && !charged(s),
  },
  {
    id: 'active_awaiting_payment',
    subscription: '`active`, `charge_automatically`',
    invoice: 'not paid yet (draft, open, $0)',
    tenant: 'never paid (`trial`, `trial_expired`)',
    becomes: 'unchanged',
    effects: 'an expired trial stays write-blocked until it is paid',
    applies: (s, t) => s.status === 'active' && neverPaid(t),
  },
  {
    id: 'active',
    subscription: '`active`',
    invoice: 'any other',
    tenant: 'any other',
    becomes: 'active',
    effects: '`failedPaymentRetries` = 0, `pastDueSince` = null',
    applies: (s) => s.status === 'active',
  },
  {
    id: 'never_paid_failing',
    subscription: '`past_due`, `unpaid`, `charge_automatically`',
    invoice: 'any',
    tenant: 'never paid (`trial`, `trial_expired`)',
    becomes: 'trial_expired',
    effects: 'conversion mail (from `trial`); the trial ended without a payment',
    applies: (s, t) => (s.status === 'past_due' || s.status === 'unpaid') && charged(s) && neverPaid(t),
  },
  {
    id: 'unpaid',
    subscription: '`unpaid`',
    invoice: 'any',
    tenant: 'any other',
    becomes: 'suspended',
    effects: 'Stripe stopped collecting after its last retry',
    applies: (s) => s.status === 'unpaid',
  },
  {
    id: 'retries_exhausted',
    subscription: '`past_due`, `charge_automatically`',
    invoice: '`open`, attempted, no `next_payment_attempt`',
    tenant: 'any other',
    becomes: 'suspended',
    effects: 'Stripe will not try again',
    applies: (s) => {
      const latest = invoice(s);
      return s.status === 'past_due' && charged(s) && latest?.status === 'open' && latest.attempt_count >= 1 && latest.next_payment_attempt === null;
    },
  },
  {
    id: 'past_due',
    subscription: '`past_due`',
    invoice: 'any other',
    tenant: 'any other',
    becomes: 'past_due',
    effects: '`failedPaymentRetries` = `attempt_count` − 1 (0 for `send_invoice`); `pastDueSince` = now on entry',
    applies: (s) => s.status === 'past_due',
  },
  {
    id: 'incomplete',
    subscription: '`incomplete`',
    invoice: 'any',
    tenant: 'any',
    becomes: 'unchanged',
    effects: 'waits for the first payment (Stripe expires it after about 23 h)',
    applies: (s) => s.status === 'incomplete',
  },
] as const satisfies readonly BillingRule[];
export type BillingRuleId = (typeof BILLING_MAP)[number]['id'];

/** What the tenant's subscription, as Stripe has it now, means for the tenant. */
export function deriveBilling(sub: StripeSubscriptionState, tenant: TenantBillingView): BillingDecision {
  const rule: BillingRule | undefined = BILLING_MAP.find((row) => row.applies(sub, tenant));
  // Every Stripe status has a row: the schema's enum and the table are checked against each other by the domain tests.
  if (!rule) throw new Error(`BILLING_MAP has no row for a ${sub.status} subscription and a ${tenant.status} tenant`);
  const status = rule.becomes === 'unchanged' ? tenant.status : rule.becomes;
  const decision: BillingDecision = { rule: rule.id as BillingRuleId, status, event: null, cancelAt: cancelAtOf(sub) };
  if (status === 'trial' && sub.trial_end !== null) decision.trialEndsAt = seconds(sub.trial_end);
  if (status === 'past_due') decision.failedPaymentRetries = charged(sub) ? Math.max(0, (invoice(sub)?.attempt_count ?? 1) - 1) : 0;
  decision.event = eventFor(tenant, decision);
  return decision;
}

/** The lifecycle event that takes the tenant from where it is to the decided status (LIFECYCLE may still refuse it). */
function eventFor(tenant: TenantBillingView, decision: BillingDecision): LifecycleEvent | null {
  const from = tenant.status;
  if (decision.status === from) {
    if (from === 'trial' && decision.trialEndsAt && !sameSecond(decision.trialEndsAt, tenant.trialEndsAt)) return 'extend_trial';
    if (from === 'past_due' && (decision.failedPaymentRetries ?? 0) > tenant.failedPaymentRetries) return 'payment_retry_failed';
    return null;
  }
  switch (decision.status) {
    case 'trial':
      return 'extend_trial';
    case 'trial_expired':
      return 'trial_ended';
    case 'active':
      return from === 'cancelled' ? 'reactivated' : 'payment_succeeded';
    case 'past_due':
      return (decision.failedPaymentRetries ?? 0) >= 1 ? 'payment_retry_failed' : 'payment_failed';
    case 'suspended':
      return 'retries_exhausted';
    case 'cancelled':
      return 'subscription_canceled';
    default:
      return null;
  }
}

/** Stripe keeps seconds; the tenant's trial end may carry milliseconds from provisioning. */
function sameSecond(a: Date, b: Date | null): boolean {
  return b !== null && Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);
}

function cancelAtOf(sub: StripeSubscriptionState): Date | null {
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return null;
  if (sub.cancel_at) return seconds(sub.cancel_at);
  if (!sub.cancel_at_period_end) return null;
  const ends = (sub.items?.data ?? []).map((item) => item.current_period_end).filter((end): end is number => end !== undefined);
  return ends.length ? seconds(Math.min(...ends)) : null;
}

/** BILLING_MAP as the markdown table docs/lifecycle.md shows (a test keeps the two equal). */
export function billingMapMarkdown(): string {
  const rows = BILLING_MAP.map(
    (r) => `| ${r.id} | ${r.subscription} | ${r.invoice} | ${r.tenant} | ${r.becomes === 'unchanged' ? 'unchanged' : `\`${r.becomes}\``} | ${r.effects} |`,
  );
  return ['| row | subscription | latest invoice | tenant now | tenant becomes | effects |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The subscription's billing terms, as sent to Stripe's `subscriptions.create` (customer and metadata aside). */
export interface SubscriptionTerms {
  items: Array<{ price: string; quantity: number }>;
  trial_end?: number;
  trial_settings?: { end_behavior: { missing_payment_method: 'pause' } };
  collection_method?: 'send_invoice';
  days_until_due?: number;
}

/**
 * How a tenant is billed. Self-serve: a card-less trial that Stripe pauses at its end unless a
 * payment method was added (the tenant is then trial_expired until it pays). Sales (`daysUntilDue`
 * set): invoices sent with the contract's payment terms, no card ever; before go-live a trial that
 * ends at go-live; past_due only once an invoice is overdue.
 */
export function subscriptionTerms(tenant: { plan: PlanId; seatCap: number; trialEndsAt: Date | null; daysUntilDue: number | null }, priceId: string): SubscriptionTerms {
  // Per-seat prices (`priceId`, the plan's, found by its lookup key): the quantity is the seat cap (the plan's default, or the contract's).
  const items = [{ price: priceId, quantity: tenant.seatCap }];
  // No trial where sales activates directly: billing starts now.
  const trial = tenant.trialEndsAt ? { trial_end: Math.floor(tenant.trialEndsAt.getTime() / 1000) } : {};
  if (tenant.daysUntilDue !== null) return { items, ...trial, collection_method: 'send_invoice', days_until_due: tenant.daysUntilDue };
  return { items, ...trial, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } };
}

/** A Stripe subscription's status in which its items are in force: what the tenant has bought (or trials). */
const IN_FORCE: readonly StripeSubscriptionStatus[] = ['trialing', 'active', 'past_due', 'unpaid'];

/** The card Stripe will charge, as the page shows it. */
export interface CardOnFile {
  brand: string;
  last4: string;
}

/** What the tenant shows of its subscription (server-written; the billing page reads it). */
export interface BillingSummary {
  stripeStatus: StripeSubscriptionStatus;
  /** Per seat, from the subscription's price. */
  price: { unitAmount: number; currency: string; interval: string } | null;
  /** The next invoice Stripe will make, without prorations (they are added to it), or null when none comes. */
  nextInvoice: { at: Date; amount: number; currency: string } | null;
  /** The latest invoice when it is open (a failed payment): what is owed now. */
  openInvoice: { amountDue: number; currency: string; url: string | null } | null;
  card: CardOnFile | null;
}

/**
 * What Stripe's subscription says the tenant has bought: its plan (the price) and seat cap (the
 * quantity), only while the subscription is in force (a paused or ended one sells nothing), and the
 * summary the billing page shows. `planOfPrice` maps a price to a plan by its lookup key.
 */
export function purchasedTerms(sub: StripeSubscriptionState, card: CardOnFile | null): { plan: PlanId | null; seatCap: number | null; summary: BillingSummary } {
  const item = sub.items?.data[0];
  const inForce = IN_FORCE.includes(sub.status);
  const plan = inForce && item?.price ? planOfPrice(item.price) : null;
  const seatCap = inForce && item?.quantity ? item.quantity : null;
  const price =
    item?.price && typeof item.price.unit_amount === 'number' && item.price.currency
      ? { unitAmount: item.price.unit_amount, currency: item.price.currency, interval: item.price.recurring?.interval ?? 'month' }
      : null;
  const ends = sub.cancel_at || sub.cancel_at_period_end;
  const periodEnd = item?.current_period_end ?? null;
  const nextAt = sub.status === 'trialing' ? sub.trial_end : periodEnd;
  const nextInvoice =
    inForce && !ends && price && nextAt !== null && item?.quantity !== undefined
      ? { at: seconds(nextAt), amount: price.unitAmount * item.quantity, currency: price.currency }
      : null;
  const latest = sub.latest_invoice;
  const openInvoice =
    latest?.status === 'open' && (latest.amount_due ?? 0) > 0
      ? { amountDue: latest.amount_due ?? 0, currency: latest.currency ?? price?.currency ?? 'usd', url: latest.hosted_invoice_url ?? null }
      : null;
  return { plan, seatCap, summary: { stripeStatus: sub.status, price, nextInvoice, openInvoice, card } };
}

export function planOfPrice(price: { lookup_key?: string | null }): PlanId | null {
  const found = (Object.keys(PLANS) as PlanId[]).find((plan) => PLANS[plan].stripeLookupKey === price.lookup_key);
  return found ?? null;
}
