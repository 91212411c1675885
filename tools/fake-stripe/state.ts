// The state of one Stripe account (everything one secret key sees), its settings, its clocks, and
// how a change becomes an event. The objects are kept in their wire shape: what the API returns.
import { newId } from './ids';
import type { Json, Metadata } from './params';

/** The API version whose shapes the simulator renders (the pinned stripe SDK's): basil and later. */
export const API_VERSION = '2026-10-28.endive';

export interface Rec<T, M = Record<string, never>> {
  /** Creation order within the account: lists are newest first by it. */
  seq: number;
  value: T;
  meta: M;
}

export interface Customer extends Json {
  id: string;
  object: 'customer';
  created: number;
  email: string | null;
  name: string | null;
  balance: number;
  metadata: Metadata;
  test_clock: string | null;
  invoice_settings: { custom_fields: null; default_payment_method: string | null; footer: null; rendering_options: null };
  invoice_prefix: string;
  next_invoice_sequence: number;
}

export interface Price extends Json {
  id: string;
  object: 'price';
  active: boolean;
  currency: string;
  product: string;
  unit_amount: number;
  recurring: { interval: Interval; interval_count: number; meter: null; trial_period_days: null; usage_type: 'licensed' } | null;
  lookup_key: string | null;
  nickname: string | null;
}

export interface Product extends Json {
  id: string;
  object: 'product';
  name: string;
  active: boolean;
}

export type Interval = 'day' | 'week' | 'month' | 'year';

export interface PaymentMethod extends Json {
  id: string;
  object: 'payment_method';
  customer: string | null;
  type: 'card';
  card: Json & { brand: string; last4: string };
  created: number;
}

export interface SubscriptionItem extends Json {
  id: string;
  object: 'subscription_item';
  price: Price;
  quantity: number;
  subscription: string;
  current_period_start: number;
  current_period_end: number;
  metadata: Metadata;
}

export type SubscriptionStatus = 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';
export type MissingPaymentMethod = 'cancel' | 'pause' | 'create_invoice';
export type CollectionMethod = 'charge_automatically' | 'send_invoice';

export interface Subscription extends Json {
  id: string;
  object: 'subscription';
  customer: string;
  status: SubscriptionStatus;
  created: number;
  start_date: number;
  billing_cycle_anchor: number;
  billing_mode: { type: 'classic' | 'flexible'; flexible: { proration_discounts: 'included' | 'itemized' } | null; updated_at?: number };
  collection_method: CollectionMethod;
  days_until_due: number | null;
  default_payment_method: string | null;
  trial_start: number | null;
  trial_end: number | null;
  trial_settings: { end_behavior: { billing_cycle_anchor?: null; missing_payment_method: MissingPaymentMethod } };
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  cancellation_details: { comment: string | null; feedback: string | null; reason: string | null };
  currency: string;
  latest_invoice: string | null;
  metadata: Metadata;
  pending_update: Json | null;
  status_details?: Json;
  test_clock: string | null;
  items: { object: 'list'; data: SubscriptionItem[]; has_more: false; total_count: number; url: string };
}

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
export type BillingReason = 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'manual';

export interface InvoiceLine extends Json {
  id: string;
  object: 'line_item';
  amount: number;
  description: string;
  period: { start: number; end: number };
  quantity: number;
}

export interface Invoice extends Json {
  id: string;
  object: 'invoice';
  customer: string;
  status: InvoiceStatus;
  billing_reason: BillingReason;
  collection_method: CollectionMethod;
  created: number;
  currency: string;
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  auto_advance: boolean;
  automatically_finalizes_at: number | null;
  due_date: number | null;
  next_payment_attempt: number | null;
  number: string | null;
  hosted_invoice_url: string | null;
  invoice_pdf: string | null;
  parent: { type: 'subscription_details'; quote_details: null; subscription_details: { metadata: Metadata; subscription: string; subscription_proration_date?: number } } | null;
  lines: { object: 'list'; data: InvoiceLine[]; has_more: boolean; total_count: number; url: string };
  period_start: number;
  period_end: number;
  starting_balance: number;
  ending_balance: number | null;
  subtotal: number;
  total: number;
  status_transitions: { finalized_at: number | null; marked_uncollectible_at: number | null; paid_at: number | null; voided_at: number | null };
  test_clock: string | null;
  metadata: Metadata;
  default_payment_method: string | null;
  last_finalization_error: null;
  webhooks_delivered_at: number | null;
}

export interface InvoiceItem extends Json {
  id: string;
  object: 'invoiceitem';
  amount: number;
  customer: string;
  invoice: string | null;
  description: string;
  period: { start: number; end: number };
  proration: boolean;
  quantity: number;
  parent: { type: 'subscription_details'; subscription_details: { subscription: string; subscription_item: string | null } } | null;
}

export interface PaymentIntent extends Json {
  id: string;
  object: 'payment_intent';
  amount: number;
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'succeeded' | 'canceled';
  customer: string;
  payment_method: string | null;
  last_payment_error: Json | null;
  client_secret: string;
}

export interface InvoicePayment extends Json {
  id: string;
  object: 'invoice_payment';
  invoice: string;
  status: 'open' | 'paid' | 'canceled';
  payment: { type: 'payment_intent'; payment_intent: string };
}

export interface TestClock extends Json {
  id: string;
  object: 'test_helpers.test_clock';
  created: number;
  deletes_after: number;
  frozen_time: number;
  livemode: false;
  name: string | null;
  status: 'advancing' | 'internal_failure' | 'ready';
  status_details: { advancing?: { target_frozen_time: number } };
}

export interface WebhookEndpoint extends Json {
  id: string;
  object: 'webhook_endpoint';
  url: string;
  enabled_events: string[];
  status: 'enabled' | 'disabled';
  /** The version this endpoint's events are rendered at (delivery.ts, versions.ts). */
  api_version: string;
  secret?: string;
}

export interface StripeEvent extends Json {
  id: string;
  object: 'event';
  api_version: string;
  type: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  data: { object: Json; previous_attributes?: Json };
  request: { id: string | null; idempotency_key: string | null };
}

export interface CheckoutSession extends Json {
  id: string;
  object: 'checkout.session';
  mode: 'setup';
  status: 'open' | 'complete' | 'expired';
  customer: string;
  client_reference_id: string | null;
  metadata: Metadata;
  setup_intent: string;
  success_url: string;
  cancel_url: string | null;
  url: string | null;
  expires_at: number;
  created: number;
}

export interface CheckoutSessionMeta {
  /** The customer's test clock: the session lives in its time (creation, expiry). */
  clock: string | null;
  /** The last card refused on the hosted page, shown there. */
  lastError: string | null;
}

export interface SetupIntent extends Json {
  id: string;
  object: 'setup_intent';
  status: 'requires_payment_method' | 'succeeded' | 'canceled';
  customer: string;
  payment_method: string | null;
  metadata: Metadata;
  last_setup_error: Json | null;
}

export interface PortalConfiguration extends Json {
  id: string;
  object: 'billing_portal.configuration';
  active: boolean;
  is_default: boolean;
  default_return_url: string | null;
  metadata: Metadata;
  features: {
    invoice_history: { enabled: boolean };
    payment_method_update: { enabled: boolean };
    subscription_cancel: { enabled: boolean; mode: 'at_period_end' | 'immediately'; proration_behavior: 'none' | 'create_prorations' | 'always_invoice' };
    subscription_update: {
      enabled: boolean;
      default_allowed_updates: Array<'price' | 'quantity' | 'promotion_code'>;
      products: Array<{ product: string; prices: string[] }>;
      proration_behavior: 'none' | 'create_prorations' | 'always_invoice';
      trial_update_behavior: 'end_trial' | 'continue_trial';
    };
  } & Json;
}

export interface PortalSession extends Json {
  id: string;
  object: 'billing_portal.session';
  configuration: string;
  customer: string;
  flow: Json | null;
  return_url: string | null;
  url: string;
  created: number;
}

export interface PortalSessionMeta {
  clock: string | null;
  /** What the last action on the hosted page did, or why it was refused: shown on the page. */
  notice: { tone: 'ok' | 'error'; text: string } | null;
  /** The flow was completed (a confirm flow shows its result, not its form, again). */
  flowDone: boolean;
}

/** How a test card behaves: attached or refused, and what a charge to it does. */
export interface CardBehavior {
  /** A decline when attaching (the card is never saved), as Stripe's declining test cards do. */
  attach: 'succeed' | { code: string; decline_code: string; message: string };
  charge: 'succeed' | { code: string; decline_code: string; message: string; requires_action?: boolean };
}

export interface SubscriptionMeta {
  /** The trial_end for which trial_will_end was sent (once per trial end). */
  trialWillEndFor: number | null;
  /** When an incomplete subscription expires (about 23 h after creation). */
  incompleteExpiresAt: number | null;
  /** send_invoice: when the configured past-due end (cancel or unpaid) applies. */
  pastDueEndAt: number | null;
  /** The invoice a pending update waits on (payment_behavior=pending_if_incomplete). */
  pendingUpdate: { invoice: string; apply: Json } | null;
}

export interface InvoiceMeta {
  subscription: string | null;
  /** A payment attempt due at this time (after a manual finalize, or a resume that attempts later). */
  attemptAt: number | null;
  /** Void this invoice if still unpaid then (resumption invoices, 23 h). */
  voidAt: number | null;
  resume: 'resume_on_payment_attempt' | 'resume_on_payment_success' | null;
  /** When the first automatic attempt failed: retries are days after it. */
  firstFailureAt: number | null;
  retriesDone: number;
  /** send_invoice: overdue processing done for the current due date. */
  overdueHandled: boolean;
  overdueEventAt: number | null;
  /** send_invoice: invoice.will_be_due sent (the automation, when configured). */
  willBeDueSent: boolean;
  paymentIntent: string | null;
  /** An incomplete subscription's first invoice: voiding it expires the subscription. */
  firstOfIncomplete: boolean;
}

export type EndAction = 'cancel' | 'unpaid' | 'past_due';

export interface BillingSettings {
  /** Automatic retries, in days after the first failed attempt (default: Smart Retries' 8 tries in 2 weeks). */
  retryDays: number[];
  /** The subscription after the last retry fails (Dashboard, "Manage failed payments"). */
  afterFinalRetry: EndAction;
  /** send_invoice: the subscription this many days after an overdue invoice made it past_due. */
  sendInvoicePastDue: { action: EndAction; afterDays: number };
  /** How long a subscription's draft invoice waits before Stripe finalizes it. */
  finalizeAfterSeconds: number;
  /** How long an incomplete subscription (or a resumption invoice) waits for payment. */
  incompleteExpiresAfterSeconds: number;
  /** Dashboard automations that emit invoice.overdue / invoice.will_be_due (off unless configured, as in Stripe). */
  automations: { invoiceOverdueDays: number | null; invoiceWillBeDueDays: number | null };
  /** Customers a test clock may hold (the simulator's default local clock has no limit). */
  testClockMaxCustomers: number;
  /**
   * Whether a portal `subscription_update_confirm` deep link may change only what the configuration's
   * `default_allowed_updates` allows (a quantity needs `quantity`). STRIPE.md §8 does not say; the default
   * is the stricter answer, and the product must work under both.
   */
  portalConfirmNeedsAllowedUpdates: boolean;
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = {
  retryDays: [1, 3, 5, 7, 9, 11, 14],
  afterFinalRetry: 'cancel',
  sendInvoicePastDue: { action: 'past_due', afterDays: 30 },
  finalizeAfterSeconds: 3600,
  incompleteExpiresAfterSeconds: 23 * 3600,
  automations: { invoiceOverdueDays: null, invoiceWillBeDueDays: null },
  testClockMaxCustomers: 3,
  portalConfirmNeedsAllowedUpdates: true,
};

/** What an account needs from the simulator around it. */
export interface AccountEnv {
  /** Real time, unix seconds (objects without a test clock live in it). */
  realNow(): number;
  /** Called once per recorded event: webhook delivery. */
  onEvent(account: Account, event: StripeEvent): void;
  /** The simulator's own URL, for hosted pages. */
  baseUrl(): string;
  /** Attach customers created without a test clock to this account's default clock. */
  defaultTestClock: boolean;
  /** Runs an advance of a test clock after the request that started it (asynchronously, as Stripe does). */
  advanceClock(account: Account, clockId: string): void;
}

export class Account {
  private seq = 0;
  readonly customers = new Map<string, Rec<Customer, { deleted: boolean }>>();
  readonly products = new Map<string, Rec<Product>>();
  readonly prices = new Map<string, Rec<Price>>();
  readonly paymentMethods = new Map<string, Rec<PaymentMethod, { behavior: CardBehavior }>>();
  readonly subscriptions = new Map<string, Rec<Subscription, SubscriptionMeta>>();
  readonly invoices = new Map<string, Rec<Invoice, InvoiceMeta>>();
  readonly invoiceItems = new Map<string, Rec<InvoiceItem>>();
  readonly paymentIntents = new Map<string, Rec<PaymentIntent>>();
  readonly invoicePayments = new Map<string, Rec<InvoicePayment>>();
  readonly testClocks = new Map<string, Rec<TestClock, { deleted: boolean }>>();
  readonly webhookEndpoints = new Map<string, Rec<WebhookEndpoint, { secret: string; deleted: boolean }>>();
  /** Checkout (setup mode) and the customer portal: `cs_…`, `seti_…`, `bpc_…` and `bps_…` objects (checkout.ts, portal.ts). */
  readonly checkoutSessions = new Map<string, Rec<CheckoutSession, CheckoutSessionMeta>>();
  readonly setupIntents = new Map<string, Rec<SetupIntent>>();
  readonly billingPortalConfigurations = new Map<string, Rec<PortalConfiguration>>();
  readonly billingPortalSessions = new Map<string, Rec<PortalSession, PortalSessionMeta>>();
  readonly events: Rec<StripeEvent>[] = [];
  defaultClockId: string | null = null;

  constructor(
    readonly apiKey: string,
    readonly env: AccountEnv,
    public settings: BillingSettings,
  ) {}

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  /** Stores a new object under its id. */
  add<T extends { id: string }, M>(map: Map<string, Rec<T, M>>, value: T, meta: M): Rec<T, M> {
    const rec = { seq: this.nextSeq(), value, meta };
    map.set(value.id, rec);
    return rec;
  }

  /** The time of a clock: a test clock's frozen time, or real time for objects on no clock. */
  clockTime(clockId: string | null): number {
    if (clockId === null) return this.env.realNow();
    const clock = this.testClocks.get(clockId);
    return clock ? clock.value.frozen_time : this.env.realNow();
  }
}

/** The request behind a change: its id and idempotency key, or null for Stripe's own scheduler. */
export interface Origin {
  id: string | null;
  idempotency_key: string | null;
}

/** Where a change happens: the account, the time on the object's clock, and what caused it. */
export interface Ctx {
  account: Account;
  now: number;
  origin: Origin;
}

export const AUTOMATIC: Origin = { id: null, idempotency_key: null };

/**
 * The keys that changed, with their old values: nested hashes to the changed keys, arrays and lists
 * whole, as Stripe's `previous_attributes`.
 */
export function previousAttributes(before: Json, after: Json): Json {
  const previous: Json = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const isHash = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v) && (v as Json).object !== 'list';
    previous[key] = isHash(a) && isHash(b) ? previousAttributes(a, b) : a === undefined ? null : structuredClone(a);
  }
  return previous;
}

/** Records one event with a snapshot of the object, and hands it to webhook delivery. */
export function emit(ctx: Ctx, type: string, object: Json, previous?: Json): StripeEvent {
  const event: StripeEvent = {
    id: newId('evt', 24),
    object: 'event',
    api_version: API_VERSION,
    created: ctx.now,
    data: { object: structuredClone(object), ...(previous ? { previous_attributes: structuredClone(previous) } : {}) },
    livemode: false,
    pending_webhooks: 0,
    request: { ...ctx.origin },
    type,
  };
  ctx.account.events.push({ seq: ctx.account.nextSeq(), value: event, meta: {} });
  ctx.account.env.onEvent(ctx.account, event);
  return event;
}

/** Emits `<type>.updated` with previous_attributes when anything changed; returns whether it did. */
export function emitUpdated(ctx: Ctx, type: string, before: Json, after: Json): boolean {
  const previous = previousAttributes(before, after);
  if (Object.keys(previous).length === 0) return false;
  emit(ctx, type, after, previous);
  return true;
}
