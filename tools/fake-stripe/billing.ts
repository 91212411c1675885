// The billing engine: invoices and their lifecycle, payment attempts and retries, and the
// subscription transitions they cause. Every function takes a Ctx (account, time on the object's
// clock, origin) and emits one event per change. STRIPE.md §1-§6 and §13 are the specification.
import { cardError, stateError } from './errors';
import { newId } from './ids';
import type { Json } from './params';
import {
  emit,
  emitUpdated,
  type Account,
  type BillingReason,
  type CollectionMethod,
  type Ctx,
  type Customer,
  type EndAction,
  type Invoice,
  type InvoiceItem,
  type InvoiceLine,
  type InvoiceMeta,
  type PaymentIntent,
  type PaymentMethod,
  type Price,
  type Rec,
  type Subscription,
  type SubscriptionItem,
  type SubscriptionMeta,
} from './state';
import { DAY, periodEndAfter } from './time';

export type SubRec = Rec<Subscription, SubscriptionMeta>;
export type InvoiceRec = Rec<Invoice, InvoiceMeta>;

/** Statuses in which a subscription still bills (renews, prorates). */
export const BILLING_STATUSES = ['active', 'past_due', 'unpaid'] as const;
export const TERMINAL_STATUSES = ['canceled', 'incomplete_expired'] as const;
export const isTerminal = (sub: Subscription) => (TERMINAL_STATUSES as readonly string[]).includes(sub.status);

export function customerOf(account: Account, id: string): Customer {
  const rec = account.customers.get(id);
  if (!rec) throw new Error(`fake-stripe: customer ${id} is missing`);
  return rec.value;
}

export function productName(account: Account, price: Price): string {
  return account.products.get(price.product)?.value.name ?? price.product;
}

/** `$2,400.00`, as Stripe writes amounts in descriptions and hosted pages. */
export function money(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
}

/** The billing interval of a subscription (all its prices share one: the simulator refuses mixed intervals). */
export function intervalOf(sub: Subscription): { interval: NonNullable<Price['recurring']>['interval']; count: number } {
  const recurring = sub.items.data[0]?.price.recurring;
  return { interval: recurring?.interval ?? 'month', count: recurring?.interval_count ?? 1 };
}

export function periodOf(sub: Subscription): { start: number; end: number } {
  const item = sub.items.data[0];
  return { start: item?.current_period_start ?? sub.start_date, end: item?.current_period_end ?? sub.start_date };
}

/** basil and later: the period lives on each item (the subscription has no current_period_*). */
export function setPeriod(sub: Subscription, start: number, end: number): void {
  for (const item of sub.items.data) {
    item.current_period_start = start;
    item.current_period_end = end;
  }
}

/** The next period's end for a cycle anchored at the subscription's billing_cycle_anchor. */
export function nextPeriodEnd(sub: Subscription, start: number): number {
  const { interval, count } = intervalOf(sub);
  return periodEndAfter(sub.billing_cycle_anchor, start, interval, count);
}

// ---------------------------------------------------------------- payment methods

/** Stripe's lookup order for an automatic charge (STRIPE.md §3): invoice, subscription, customer default. */
export function resolvePaymentMethod(account: Account, invoice: Invoice | null, sub: Subscription | null, customer: Customer): Rec<PaymentMethod, { behavior: import('./state').CardBehavior }> | null {
  for (const id of [invoice?.default_payment_method, sub?.default_payment_method, customer.invoice_settings.default_payment_method]) {
    if (!id) continue;
    const pm = account.paymentMethods.get(id);
    if (pm && pm.value.customer === customer.id) return pm;
  }
  return null;
}

export type ChargeFailure = { code: string; decline_code?: string; message: string; requires_action?: boolean; no_payment_method?: boolean };

/** What charging now would do, without doing it: to refuse (402) before any change where Stripe refuses. */
export function chargeOutcome(pm: { meta: { behavior: import('./state').CardBehavior } } | null): 'succeed' | ChargeFailure {
  if (!pm) {
    return {
      code: 'resource_missing',
      message: 'This customer has no attached payment source or default payment method. Please consider adding a default payment method.',
      no_payment_method: true,
    };
  }
  return pm.meta.behavior.charge;
}

// ---------------------------------------------------------------- invoice lines and items

export interface LineSpec {
  amount: number;
  description: string;
  quantity: number;
  period: { start: number; end: number };
  price: Price;
  subscriptionItem: string | null;
  proration: boolean;
  invoiceItem: string | null;
}

/** One line per item for a period: the full price, or $0 "Trial period for …" during a trial. */
export function periodLines(account: Account, sub: Subscription, start: number, end: number, trial: boolean): LineSpec[] {
  return sub.items.data.map((item) => {
    const name = productName(account, item.price);
    const interval = item.price.recurring?.interval ?? 'month';
    return {
      amount: trial ? 0 : item.price.unit_amount * item.quantity,
      description: trial ? `Trial period for ${name}` : `${item.quantity} × ${name} (at ${money(item.price.unit_amount, item.price.currency)} / ${interval})`,
      quantity: item.quantity,
      period: { start, end },
      price: item.price,
      subscriptionItem: item.id,
      proration: false,
      invoiceItem: null,
    };
  });
}

function lineItem(spec: LineSpec, invoiceId: string, sub: Subscription | null): InvoiceLine {
  return {
    id: newId('il', 24),
    object: 'line_item',
    amount: spec.amount,
    currency: spec.price.currency,
    description: spec.description,
    discount_amounts: [],
    discountable: !spec.proration,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: sub
      ? {
          type: 'subscription_item_details',
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: spec.invoiceItem,
            proration: spec.proration,
            proration_details: { credited_items: null },
            subscription: sub.id,
            subscription_item: spec.subscriptionItem,
          },
        }
      : null,
    period: spec.period,
    pretax_credit_amounts: [],
    pricing: { price_details: { price: spec.price.id, product: spec.price.product }, type: 'price_details', unit_amount_decimal: String(spec.price.unit_amount) },
    quantity: spec.quantity,
    taxes: [],
  };
}

/** A pending invoice item (a proration), billed on the subscription's next invoice. */
export function createInvoiceItem(ctx: Ctx, sub: Subscription, spec: LineSpec): Rec<InvoiceItem> {
  const item: InvoiceItem = {
    id: newId('ii', 24),
    object: 'invoiceitem',
    amount: spec.amount,
    currency: spec.price.currency,
    customer: sub.customer,
    date: ctx.now,
    description: spec.description,
    discountable: false,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    net_amount: spec.amount,
    parent: { type: 'subscription_details', subscription_details: { subscription: sub.id, subscription_item: spec.subscriptionItem } },
    period: spec.period,
    pricing: { price_details: { price: spec.price.id, product: spec.price.product }, type: 'price_details', unit_amount_decimal: String(spec.price.unit_amount) },
    proration: spec.proration,
    quantity: spec.quantity,
    tax_rates: [],
    test_clock: sub.test_clock,
  };
  const rec = ctx.account.add(ctx.account.invoiceItems, item, {});
  emit(ctx, 'invoiceitem.created', item);
  return rec;
}

/** Pending items of a subscription become lines of its next invoice. */
function pendingItemLines(account: Account, sub: Subscription, invoiceId: string): LineSpec[] {
  const lines: LineSpec[] = [];
  for (const rec of account.invoiceItems.values()) {
    const item = rec.value;
    if (item.invoice !== null || item.parent?.subscription_details.subscription !== sub.id) continue;
    item.invoice = invoiceId;
    const price = account.prices.get((item.pricing as { price_details: { price: string } }).price_details.price)!.value;
    lines.push({
      amount: item.amount,
      description: item.description,
      quantity: item.quantity,
      period: item.period,
      price,
      subscriptionItem: item.parent.subscription_details.subscription_item,
      proration: item.proration,
      invoiceItem: item.id,
    });
  }
  return lines;
}

// ---------------------------------------------------------------- invoices

export interface NewInvoice {
  sub: Subscription;
  reason: BillingReason;
  lines: LineSpec[];
  /** Leave the draft for automatic finalization (in about an hour), or keep it a draft (unpaid subscriptions). */
  autoAdvance: boolean;
  /** Bill the subscription's pending invoice items (prorations) on it. */
  includePending: boolean;
  /** An id chosen beforehand (the subscription already points at it). */
  id?: string;
}

/** A draft invoice for a subscription, with `invoice.created`. */
export function createInvoice(ctx: Ctx, spec: NewInvoice): InvoiceRec {
  const { account, now } = ctx;
  const { sub } = spec;
  const customer = customerOf(account, sub.customer);
  const id = spec.id ?? newId('in', 24);
  const specs = [...spec.lines, ...(spec.includePending ? pendingItemLines(account, sub, id) : [])];
  const lines = specs.map((s) => lineItem(s, id, sub));
  const subtotal = lines.reduce((sum, line) => sum + line.amount, 0);
  const periodStart = Math.min(...specs.map((s) => s.period.start), now);
  const periodEnd = Math.max(...specs.map((s) => s.period.end), now);
  const collection: CollectionMethod = sub.collection_method;
  const invoice: Invoice = {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Tenancy (fake-stripe)',
    account_tax_ids: null,
    amount_due: Math.max(0, subtotal),
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: Math.max(0, subtotal),
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: spec.autoAdvance,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: spec.autoAdvance ? now + account.settings.finalizeAfterSeconds : null,
    billing_reason: spec.reason,
    collection_method: collection,
    created: now,
    currency: sub.currency,
    custom_fields: null,
    customer: sub.customer,
    customer_account: null,
    customer_address: null,
    customer_email: customer.email,
    customer_name: customer.name,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: collection === 'send_invoice' ? now + (sub.days_until_due ?? 30) * DAY : null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, total_count: lines.length, url: `/v1/invoices/${id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id } },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: periodEnd,
    period_start: periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal,
    subtotal_excluding_tax: subtotal,
    test_clock: sub.test_clock,
    total: subtotal,
    total_discount_amounts: [],
    total_excluding_tax: subtotal,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: now,
  };
  const rec = account.add(account.invoices, invoice, {
    subscription: sub.id,
    attemptAt: null,
    voidAt: null,
    resume: null,
    firstFailureAt: null,
    retriesDone: 0,
    overdueHandled: false,
    overdueEventAt: null,
    willBeDueSent: false,
    paymentIntent: null,
    firstOfIncomplete: false,
  });
  emit(ctx, 'invoice.created', invoice);
  return rec;
}

function subscriptionOf(account: Account, inv: InvoiceRec): SubRec | undefined {
  return inv.meta.subscription ? account.subscriptions.get(inv.meta.subscription) : undefined;
}

/**
 * Draft → open: number, customer balance applied, a PaymentIntent for an automatic charge. An
 * invoice with nothing due is paid at once (the $0 trial invoice, STRIPE.md §1). Does not charge.
 */
export function finalizeInvoice(ctx: Ctx, inv: InvoiceRec): void {
  const { account, now } = ctx;
  const invoice = inv.value;
  if (invoice.status !== 'draft') throw stateError(`This invoice is already finalized, you can't re-finalize a non-draft invoice.`, undefined, 'invoice_not_editable');
  const customerRec = account.customers.get(invoice.customer)!;
  const customer = customerRec.value;

  const balance = customer.balance;
  let due = invoice.total;
  let endingBalance = balance;
  if (invoice.total < 0) {
    due = 0;
    endingBalance = balance + invoice.total;
  } else if (balance < 0) {
    const credit = Math.min(-balance, invoice.total);
    due = invoice.total - credit;
    endingBalance = balance + credit;
  }
  if (endingBalance !== balance) {
    const before = structuredClone(customer);
    customer.balance = endingBalance;
    emitUpdated(ctx, 'customer.updated', before, customer);
  }
  const sequence = customer.next_invoice_sequence;
  customer.next_invoice_sequence += 1;

  Object.assign(invoice, {
    status: 'open',
    number: `${customer.invoice_prefix}-${String(sequence).padStart(4, '0')}`,
    starting_balance: balance,
    ending_balance: endingBalance,
    amount_due: due,
    amount_remaining: due,
    automatically_finalizes_at: null,
    effective_at: now,
    hosted_invoice_url: `${account.env.baseUrl()}/hosted/invoices/${invoice.id}`,
    status_transitions: { ...invoice.status_transitions, finalized_at: now },
  } satisfies Partial<Invoice>);
  if (due > 0 && invoice.collection_method === 'charge_automatically') createPaymentIntent(ctx, inv);
  emit(ctx, 'invoice.finalized', invoice);
  if (due === 0) {
    markPaid(ctx, inv, { outOfBand: false, zero: true });
    return;
  }
  // Test mode sends no mail, but the invoice.sent event still comes (STRIPE.md §6).
  if (invoice.collection_method === 'send_invoice') emit(ctx, 'invoice.sent', invoice);
}

function createPaymentIntent(ctx: Ctx, inv: InvoiceRec): void {
  const { account } = ctx;
  const id = newId('pi', 24);
  const intent: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount: inv.value.amount_due,
    amount_capturable: 0,
    amount_received: 0,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${newId('x', 24).slice(2)}`,
    confirmation_method: 'automatic',
    created: ctx.now,
    currency: inv.value.currency,
    customer: inv.value.customer,
    description: `Subscription ${inv.value.billing_reason === 'subscription_create' ? 'creation' : 'update'}`,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: {},
    payment_method: null,
    payment_method_types: ['card'],
    setup_future_usage: null,
    status: 'requires_payment_method',
  };
  account.add(account.paymentIntents, intent, {});
  account.add(
    account.invoicePayments,
    {
      id: newId('inpay', 24),
      object: 'invoice_payment',
      amount_paid: null,
      amount_requested: intent.amount,
      created: ctx.now,
      currency: intent.currency,
      invoice: inv.value.id,
      is_default: true,
      livemode: false,
      payment: { type: 'payment_intent', payment_intent: id },
      status: 'open',
      status_transitions: { canceled_at: null, paid_at: null },
    },
    {},
  );
  inv.meta.paymentIntent = id;
  emit(ctx, 'payment_intent.created', intent);
}

export interface AttemptOptions {
  /** An automatic attempt (scheduled or the first at finalization) counts toward attempt_count and schedules retries. */
  automatic: boolean;
  /** `invoices.pay({ payment_method })`: charge this one instead of the default. */
  paymentMethod?: string;
}

/** Charges an open invoice once. Returns the failure, if any, after emitting its events. */
export function attemptPayment(ctx: Ctx, inv: InvoiceRec, options: AttemptOptions): ChargeFailure | null {
  const { account, now } = ctx;
  const invoice = inv.value;
  const customer = customerOf(account, invoice.customer);
  const sub = subscriptionOf(account, inv);
  const pm = options.paymentMethod ? account.paymentMethods.get(options.paymentMethod) ?? null : resolvePaymentMethod(account, invoice, sub?.value ?? null, customer);
  const outcome = chargeOutcome(pm);
  // attempt_count follows the retry schedule: the first attempt counts, later manual ones do not (STRIPE.md §4).
  if (options.automatic || invoice.attempt_count === 0) invoice.attempt_count += 1;
  invoice.attempted = true;
  invoice.next_payment_attempt = null;
  inv.meta.attemptAt = null;
  const intent = inv.meta.paymentIntent ? account.paymentIntents.get(inv.meta.paymentIntent)?.value : undefined;

  if (outcome === 'succeed') {
    if (intent) {
      Object.assign(intent, { status: 'succeeded', payment_method: pm!.value.id, amount_received: intent.amount, last_payment_error: null, latest_charge: newId('ch', 24) });
      emit(ctx, 'payment_intent.succeeded', intent);
      const payment = [...account.invoicePayments.values()].find((p) => p.value.invoice === invoice.id);
      if (payment) {
        Object.assign(payment.value, { status: 'paid', amount_paid: intent.amount, status_transitions: { canceled_at: null, paid_at: now } });
        emit(ctx, 'invoice_payment.paid', payment.value);
      }
    }
    markPaid(ctx, inv, { outOfBand: false, zero: false });
    return null;
  }

  const error = {
    code: outcome.code,
    ...(outcome.decline_code ? { decline_code: outcome.decline_code } : {}),
    message: outcome.message,
    payment_method: pm?.value ?? null,
    type: outcome.no_payment_method ? 'invalid_request_error' : 'card_error',
  };
  if (intent) {
    Object.assign(intent, {
      status: outcome.requires_action ? 'requires_action' : 'requires_payment_method',
      payment_method: pm?.value.id ?? null,
      last_payment_error: error,
    });
    emit(ctx, outcome.requires_action ? 'payment_intent.requires_action' : 'payment_intent.payment_failed', intent);
  }
  const retries = account.settings.retryDays;
  const retryable = options.automatic && invoice.auto_advance && !inv.meta.firstOfIncomplete && inv.meta.resume !== 'resume_on_payment_attempt' && !!sub && !isTerminal(sub.value);
  let finalFailure = false;
  if (retryable) {
    if (inv.meta.firstFailureAt === null) inv.meta.firstFailureAt = now;
    const next = retries[inv.meta.retriesDone];
    if (next === undefined) finalFailure = true;
    else invoice.next_payment_attempt = inv.meta.firstFailureAt + next * DAY;
  }
  if (outcome.requires_action) emit(ctx, 'invoice.payment_action_required', invoice);
  emit(ctx, 'invoice.payment_failed', invoice);
  if (sub) afterPaymentFailed(ctx, sub, inv, finalFailure);
  return outcome;
}

/** The error a caller gets for a failed charge inside its request (402 card_error, or 400 with no payment method). */
export function chargeError(failure: ChargeFailure, account?: Account, inv?: InvoiceRec): Error {
  if (failure.no_payment_method) return stateError(failure.message, undefined, 'resource_missing');
  const error = cardError(failure.message, failure.code, failure.decline_code);
  const intent = inv?.meta.paymentIntent ? account?.paymentIntents.get(inv.meta.paymentIntent)?.value : undefined;
  if (intent) error.body.payment_intent = structuredClone(intent);
  return error;
}

export function markPaid(ctx: Ctx, inv: InvoiceRec, how: { outOfBand: boolean; zero: boolean }): void {
  const invoice = inv.value;
  Object.assign(invoice, {
    status: 'paid',
    amount_paid: invoice.amount_due,
    amount_remaining: 0,
    attempted: true,
    auto_advance: false,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, paid_at: ctx.now },
  } satisfies Partial<Invoice>);
  if (how.outOfBand) invoice.amount_paid_off_stripe = invoice.amount_due;
  inv.meta.attemptAt = null;
  inv.meta.voidAt = null;
  emit(ctx, 'invoice.paid', invoice);
  // invoice.payment_succeeded comes with a payment, not when the invoice is marked paid out of band (STRIPE.md §11).
  if (!how.outOfBand) emit(ctx, 'invoice.payment_succeeded', invoice);
  const sub = subscriptionOf(ctx.account, inv);
  if (sub) afterInvoiceSettled(ctx, sub, inv);
}

export function voidInvoice(ctx: Ctx, inv: InvoiceRec): void {
  const invoice = inv.value;
  if (invoice.status !== 'open') throw stateError(`You can only pass in open invoices. This invoice is ${invoice.status}.`, undefined, 'invoice_not_open');
  Object.assign(invoice, {
    status: 'void',
    amount_remaining: 0,
    auto_advance: false,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, voided_at: ctx.now },
  } satisfies Partial<Invoice>);
  inv.meta.attemptAt = null;
  inv.meta.voidAt = null;
  cancelIntent(ctx, inv);
  emit(ctx, 'invoice.voided', invoice);
  const sub = subscriptionOf(ctx.account, inv);
  // Voiding the first invoice of an incomplete subscription expires it (STRIPE.md §5).
  if (sub && inv.meta.firstOfIncomplete && sub.value.status === 'incomplete') expireIncomplete(ctx, sub, false);
}

function cancelIntent(ctx: Ctx, inv: InvoiceRec): void {
  const intent = inv.meta.paymentIntent ? ctx.account.paymentIntents.get(inv.meta.paymentIntent)?.value : undefined;
  if (!intent || intent.status === 'succeeded' || intent.status === 'canceled') return;
  Object.assign(intent, { status: 'canceled', canceled_at: ctx.now, cancellation_reason: 'void_invoice' });
  emit(ctx, 'payment_intent.canceled', intent);
}

export function markUncollectible(ctx: Ctx, inv: InvoiceRec): void {
  const invoice = inv.value;
  if (invoice.status !== 'open') throw stateError(`You can only mark open invoices as uncollectible. This invoice is ${invoice.status}.`, undefined, 'invoice_not_open');
  Object.assign(invoice, {
    status: 'uncollectible',
    auto_advance: false,
    next_payment_attempt: null,
    status_transitions: { ...invoice.status_transitions, marked_uncollectible_at: ctx.now },
  } satisfies Partial<Invoice>);
  inv.meta.attemptAt = null;
  inv.meta.voidAt = null;
  emit(ctx, 'invoice.marked_uncollectible', invoice);
  const sub = subscriptionOf(ctx.account, inv);
  if (sub) afterInvoiceSettled(ctx, sub, inv);
}

// ---------------------------------------------------------------- subscription status from its invoices

function changeSubscription(ctx: Ctx, sub: SubRec, change: (s: Subscription) => void, extraEvents: string[] = []): void {
  const before = structuredClone(sub.value);
  change(sub.value);
  if (emitUpdated(ctx, 'customer.subscription.updated', before, sub.value)) for (const type of extraEvents) emit(ctx, type, sub.value);
}

/** Paid or marked uncollectible: the latest invoice settles the subscription (STRIPE.md §4, §5, §2 resume). */
function afterInvoiceSettled(ctx: Ctx, sub: SubRec, inv: InvoiceRec): void {
  const s = sub.value;
  if (isTerminal(s)) return;
  if (sub.meta.pendingUpdate?.invoice === inv.value.id) {
    applyPendingUpdate(ctx, sub);
    return;
  }
  if (inv.meta.resume && s.status === 'paused') {
    resumeActive(ctx, sub);
    return;
  }
  if (s.latest_invoice !== inv.value.id) return;
  if (s.status === 'incomplete' || s.status === 'past_due' || s.status === 'unpaid') {
    changeSubscription(ctx, sub, (x) => {
      x.status = 'active';
    });
    sub.meta.incompleteExpiresAt = null;
    sub.meta.pastDueEndAt = null;
  }
}

/** The paused subscription comes back: `customer.subscription.updated` and `.resumed` (STRIPE.md §2). */
export function resumeActive(ctx: Ctx, sub: SubRec, status: 'active' | 'past_due' = 'active'): void {
  changeSubscription(
    ctx,
    sub,
    (x) => {
      x.status = status;
      delete x.status_details;
    },
    ['customer.subscription.resumed'],
  );
}

function afterPaymentFailed(ctx: Ctx, sub: SubRec, inv: InvoiceRec, finalFailure: boolean): void {
  const s = sub.value;
  if (isTerminal(s)) return;
  if (inv.meta.firstOfIncomplete) return; // stays incomplete until paid or 23 h
  if (sub.meta.pendingUpdate?.invoice === inv.value.id) return; // the update waits; the subscription is unchanged
  if (inv.meta.resume === 'resume_on_payment_attempt' && s.status === 'paused') {
    resumeActive(ctx, sub, 'past_due'); // resumed on the attempt; a failure leaves it past_due, not retried
    return;
  }
  if (inv.meta.resume === 'resume_on_payment_success') return; // stays paused; Stripe retries
  if (s.status === 'active' || s.status === 'trialing') {
    changeSubscription(ctx, sub, (x) => {
      x.status = 'past_due';
    });
  }
  if (finalFailure) applyEndAction(ctx, sub, ctx.account.settings.afterFinalRetry, 'payment_failed');
}

/** The Dashboard's choice after the last retry (or past-due period): cancel, mark unpaid, or leave past_due. */
export function applyEndAction(ctx: Ctx, sub: SubRec, action: EndAction, reason: string): void {
  if (isTerminal(sub.value)) return;
  if (action === 'cancel') cancelNow(ctx, sub, reason);
  else if (action === 'unpaid') {
    changeSubscription(ctx, sub, (x) => {
      x.status = 'unpaid';
    });
  }
}

/**
 * Ends a subscription now: `customer.subscription.deleted`. Its open invoices stay open but are no
 * longer collected automatically (auto_advance=false), as Stripe does (STRIPE.md §4, §13).
 */
export function cancelNow(ctx: Ctx, sub: SubRec, reason: string | null, details: Json = {}): void {
  const s = sub.value;
  s.status = 'canceled';
  s.canceled_at = s.canceled_at ?? ctx.now;
  s.ended_at = ctx.now;
  s.cancellation_details = { ...s.cancellation_details, ...details, reason } as Subscription['cancellation_details'];
  delete s.status_details;
  sub.meta.pendingUpdate = null;
  emit(ctx, 'customer.subscription.deleted', s);
  for (const inv of ctx.account.invoices.values()) {
    if (inv.meta.subscription !== s.id || inv.value.status !== 'open' || !inv.value.auto_advance) continue;
    const before = structuredClone(inv.value);
    inv.value.auto_advance = false;
    inv.value.next_payment_attempt = null;
    inv.meta.attemptAt = null;
    emitUpdated(ctx, 'invoice.updated', before, inv.value);
  }
}

/** 23 h without payment, or its first invoice voided: incomplete → incomplete_expired, the invoice voided (STRIPE.md §5). */
export function expireIncomplete(ctx: Ctx, sub: SubRec, voidFirst = true): void {
  if (voidFirst && sub.value.latest_invoice) {
    const inv = ctx.account.invoices.get(sub.value.latest_invoice);
    if (inv && inv.value.status === 'open') {
      inv.meta.firstOfIncomplete = false; // voided by the expiry itself
      voidInvoice(ctx, inv);
    }
  }
  sub.meta.incompleteExpiresAt = null;
  changeSubscription(ctx, sub, (x) => {
    x.status = 'incomplete_expired';
    x.canceled_at = ctx.now;
    x.ended_at = ctx.now;
  });
}

// ---------------------------------------------------------------- pending updates (payment_behavior=pending_if_incomplete)

export function applyPendingUpdate(ctx: Ctx, sub: SubRec): void {
  const pending = sub.meta.pendingUpdate;
  if (!pending) return;
  sub.meta.pendingUpdate = null;
  changeSubscription(
    ctx,
    sub,
    (x) => {
      x.items.data = structuredClone(pending.apply.items as SubscriptionItem[]);
      x.items.total_count = x.items.data.length;
      x.pending_update = null;
    },
    ['customer.subscription.pending_update_applied'],
  );
}

export function expirePendingUpdate(ctx: Ctx, sub: SubRec): void {
  const pending = sub.meta.pendingUpdate;
  if (!pending) return;
  sub.meta.pendingUpdate = null;
  const inv = ctx.account.invoices.get(pending.invoice);
  if (inv?.value.status === 'open') voidInvoice(ctx, inv);
  changeSubscription(
    ctx,
    sub,
    (x) => {
      x.pending_update = null;
    },
    ['customer.subscription.pending_update_expired'],
  );
}
