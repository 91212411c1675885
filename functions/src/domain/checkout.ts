/**
 * Paying and changing what is paid for: who may start a Checkout or open the billing portal, in
 * which status, for how many seats; what a completed Checkout does to the tenant's one Stripe
 * subscription; the portal's configuration as data. Pure: no firebase import. See docs/billing.md.
 */
import { z } from 'zod';
import type { StripeSubscriptionStatus } from './billing';
import { DomainError } from './errors';
import { MAX_SEAT_CAP, PLANS, SELF_SERVE_PLAN_IDS, type PlanId } from './plans';
import type { TenantRole, TenantStatus } from './status';

/**
 * What each plan's Stripe price charges per seat, for the pages and the Checkout terms. The prices
 * themselves are Stripe's (the price PLANS[plan].stripeLookupKey finds); a test keeps the simulator's catalog equal to this.
 */
export const PLAN_PRICES: Record<PlanId, { unitAmount: number; currency: string; interval: 'month' | 'year' }> = {
  starter: { unitAmount: 900, currency: 'usd', interval: 'month' },
  team: { unitAmount: 1900, currency: 'usd', interval: 'month' },
  enterprise: { unitAmount: 24000, currency: 'usd', interval: 'year' },
};

const TenantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a tenant id (letters, digits, _ and -)');
export const SeatsSchema = z
  .number({ message: 'a whole number of seats' })
  .int('a whole number of seats')
  .min(1, 'at least 1 seat')
  .max(MAX_SEAT_CAP, `at most ${MAX_SEAT_CAP} seats`);
const BuyablePlanSchema = z.enum(SELF_SERVE_PLAN_IDS as [PlanId, ...PlanId[]], {
  message: `one of ${SELF_SERVE_PLAN_IDS.join(', ')} (other plans are sold by our sales team)`,
});

/** `startCheckout`: the plan and the number of seats to buy. */
export const StartCheckoutSchema = z.object({ tenantId: TenantIdSchema, plan: BuyablePlanSchema, seats: SeatsSchema }).strict();
export type StartCheckoutInput = z.output<typeof StartCheckoutSchema>;

/** `openBillingPortal`: the portal's homepage, or (with `seats`) straight to confirming that many seats. */
export const OpenBillingPortalSchema = z.object({ tenantId: TenantIdSchema, seats: SeatsSchema.optional() }).strict();
export type OpenBillingPortalInput = z.output<typeof OpenBillingPortalSchema>;

/** The statuses in which a tenant can pay: convert a trial, come back from an expired trial, settle a failed payment, reactivate. */
export const CHECKOUT_STATUSES = ['trial', 'trial_expired', 'past_due', 'suspended', 'cancelled'] as const satisfies readonly TenantStatus[];
export const CHECKOUT_ROLES: readonly TenantRole[] = ['owner', 'admin'];
/** The portal changes what the organisation pays and can cancel it: the owner's decision. */
export const PORTAL_ROLES: readonly TenantRole[] = ['owner'];

/** The seats a tenant holds: members, and the seats its pending invites reserve (the seat ledger's counts). */
export interface SeatsInUse {
  members: number;
  pendingInvites: number;
}
export const seatsUsed = (seats: SeatsInUse) => seats.members + seats.pendingInvites;

/** What the billing callables need to know about the tenant. */
export interface BillingTenant {
  name: string;
  status: TenantStatus;
  plan: PlanId;
  seatCap: number;
  /** Sales tenants are billed by invoice under their contract: no card, no Checkout. */
  invoiceBilled: boolean;
  staffHold: boolean;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
}

export interface BillingCaller {
  role: TenantRole | null;
  emailVerified: boolean;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const aRole = (role: TenantRole) => `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;

/**
 * Fewer seats than the tenant uses is refused, with the numbers, before anything reaches Stripe.
 * (Members keep their seats: lowering the count below them would leave people without one.)
 */
export function checkSeatsCoverUse(tenantName: string, seats: number, inUse: SeatsInUse): void {
  const used = seatsUsed(inUse);
  if (seats >= used) return;
  throw new DomainError(
    'failed-precondition',
    `${tenantName} uses ${plural(used, 'seat')} (${plural(inUse.members, 'member')}, ${plural(inUse.pendingInvites, 'pending invite')}): ` +
      `choose at least ${used}, or remove members or revoke invites first.`,
    { reason: 'seats-below-used', field: 'seats', seats, used, members: inUse.members, pendingInvites: inUse.pendingInvites },
  );
}

function refuse(reason: string, message: string, code: 'failed-precondition' | 'permission-denied' = 'failed-precondition'): DomainError {
  return new DomainError(code, message, { reason });
}

/** Why this caller cannot start a Checkout for this tenant now, or null. Seats are checked apart (they need the ledger). */
export function checkoutRefusal(caller: BillingCaller, tenant: BillingTenant): DomainError | null {
  if (!caller.role || !CHECKOUT_ROLES.includes(caller.role)) {
    return refuse('role', `Only the owner or an admin of ${tenant.name} can choose its plan${caller.role ? `; you are ${aRole(caller.role)}` : ''}.`, 'permission-denied');
  }
  if (!caller.emailVerified) return refuse('email-unverified', 'Confirm your email address first (see the mail we sent you), then choose a plan.');
  if (tenant.invoiceBilled) {
    return refuse('invoice-billed', `${tenant.name} is billed by invoice under its contract: ask your account manager to change its plan or seats.`);
  }
  if (tenant.staffHold) return refuse('staff-hold', `${tenant.name} is suspended by our staff: contact support to restore it.`);
  if (!(CHECKOUT_STATUSES as readonly TenantStatus[]).includes(tenant.status)) {
    const why =
      tenant.status === 'active'
        ? `${tenant.name} is already on a paid plan: use Manage billing to change its plan or seats.`
        : tenant.status === 'provisioning'
          ? `${tenant.name} is still being set up: try again in a moment.`
          : `${tenant.name} cannot be paid for in status '${tenant.status}'.`;
    return refuse(`status-${tenant.status}`, why);
  }
  if (!tenant.stripeCustomerId) return refuse('no-customer', `${tenant.name} has no billing account yet: try again in a moment.`);
  return null;
}

/** Why this caller cannot open the billing portal (or change seats to `seats` through it), or null. */
export function portalRefusal(caller: BillingCaller, tenant: BillingTenant, seats?: number): DomainError | null {
  if (!caller.role || !PORTAL_ROLES.includes(caller.role)) {
    return refuse('role', `Only the owner of ${tenant.name} can manage its billing${caller.role ? `; you are ${aRole(caller.role)}` : ''}.`, 'permission-denied');
  }
  if (!tenant.stripeCustomerId || tenant.status === 'provisioning' || tenant.status === 'failed') {
    return refuse('no-customer', `${tenant.name} has no billing account${tenant.status === 'failed' ? '' : ' yet: try again in a moment'}.`);
  }
  if (seats === undefined) return null;
  if (tenant.invoiceBilled) return refuse('invoice-billed', `${tenant.name}'s seats are set by its contract: ask your account manager for more.`);
  if (tenant.status !== 'trial' && tenant.status !== 'active' && tenant.status !== 'past_due') {
    return refuse(`status-${tenant.status}`, `${tenant.name} is ${tenant.status.replace('_', ' ')}: choose a plan (Upgrade) with the seats you need instead.`);
  }
  if (seats === tenant.seatCap) return refuse('same-seats', `${tenant.name} already has ${plural(seats, 'seat')}.`);
  return null;
}

/**
 * What a completed Checkout (a card saved for the tenant's customer) does to the tenant's one
 * subscription, by the subscription's status in Stripe. Never a second live subscription: a new one
 * is made only when the old one has ended (docs/billing.md, "One live subscription").
 */
export type ConversionStep =
  /** trialing: change to the chosen plan and seats and end the trial now, charged in the same request (all or nothing). */
  | 'end_trial'
  /** paused at trial end: the chosen plan and seats, then resume it, charged now; undone if the charge fails. */
  | 'resume'
  /** past_due, unpaid, incomplete: pay the open invoice with the new card, then the chosen plan and seats. */
  | 'pay_open_invoice'
  /** canceled, incomplete_expired: a new subscription, charged in the create request (nothing is made if it fails). */
  | 'subscribe'
  /** active: already paid for; the card becomes the default, plan and seats stay (the portal changes those). */
  | 'save_card';

export function conversionStep(status: StripeSubscriptionStatus): ConversionStep {
  switch (status) {
    case 'trialing':
      return 'end_trial';
    case 'paused':
      return 'resume';
    case 'past_due':
    case 'unpaid':
    case 'incomplete':
      return 'pay_open_invoice';
    case 'canceled':
    case 'incomplete_expired':
      return 'subscribe';
    case 'active':
      return 'save_card';
  }
}

/** The Checkout's chosen plan and seats travel in its metadata (set by startCheckout, read back from Stripe). */
export const CheckoutMetadataSchema = z.object({
  tenantId: TenantIdSchema,
  plan: BuyablePlanSchema,
  seats: z.coerce.number().pipe(SeatsSchema),
});
export type CheckoutChoice = z.output<typeof CheckoutMetadataSchema>;

/** Idempotency keys: one Checkout per tenant, plan, seats and generation; each step of a completed one once. */
export const billingKeys = {
  checkout: (tenantId: string, plan: PlanId, seats: number, generation: number) => `checkout:${tenantId}:${plan}:${seats}:g${generation}`,
  conversion: (sessionId: string, step: string) => `conversion:${sessionId}:${step}`,
};

export function formatMoney(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
}

/** What the person agrees to, shown on Stripe's Checkout page above the card form. */
export function checkoutTerms(choice: { plan: PlanId; seats: number }, status: TenantStatus): string {
  const price = PLAN_PRICES[choice.plan];
  const total = formatMoney(price.unitAmount * choice.seats, price.currency);
  const each = formatMoney(price.unitAmount, price.currency);
  const what = `${PLANS[choice.plan].label} plan, ${plural(choice.seats, 'seat')} at ${each} per seat: ${total} a ${price.interval}.`;
  const when =
    status === 'trial'
      ? 'Saving your card ends the trial: the first period is charged now.'
      : status === 'past_due' || status === 'suspended'
        ? 'Saving your card pays the open invoice now.'
        : 'Saving your card starts the plan: the first period is charged now.';
  return `${what} ${when}`;
}

/** The portal's configurations, as data: what a customer may do there (STRIPE.md §8). */
export const PORTAL_CONFIGURATION_VERSION = '1';
/**
 * `seat_change`: the configuration of the seat deep link only (openBillingPortal with `seats`). STRIPE.md §8
 * does not say whether a `subscription_update_confirm` with a quantity needs `quantity` in
 * `default_allowed_updates`; that configuration allows it, so the link works either way, while the portal's
 * home (`self_serve`) still offers no free seat edits, whose lower bound nobody would check.
 */
export type PortalKind = 'self_serve' | 'seat_change' | 'invoiced';

export function portalFeatures(kind: PortalKind, products: Array<{ product: string; prices: string[] }>) {
  const invoicesAndCard = { invoice_history: { enabled: true }, payment_method_update: { enabled: kind !== 'invoiced' } };
  if (kind === 'invoiced') {
    // A contract sets the plan, the seats and the end: the portal shows invoices only.
    return { ...invoicesAndCard, subscription_cancel: { enabled: false }, subscription_update: { enabled: false } };
  }
  return {
    ...invoicesAndCard,
    // Cancelling keeps the service to the end of what was paid for.
    subscription_cancel: { enabled: true, mode: 'at_period_end' as const, proration_behavior: 'none' as const },
    subscription_update: {
      enabled: true,
      // Seats only through our deep link (openBillingPortal with `seats`): their lower bound is checked before Stripe.
      default_allowed_updates: kind === 'seat_change' ? ['price' as const, 'quantity' as const] : ['price' as const],
      products,
      // Stripe's own default for API updates; the portal's default would be none (STRIPE.md §8, §9).
      proration_behavior: 'create_prorations' as const,
      // A plan change in a trial keeps the trial: no card is on file to charge yet.
      trial_update_behavior: 'continue_trial' as const,
    },
  };
}
