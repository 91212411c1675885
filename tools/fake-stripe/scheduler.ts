// Stripe's own scheduler: everything that happens to subscriptions and invoices as time passes on a
// clock (a test clock's frozen time, or real time for objects on none), walked in time order.
// STRIPE.md §10: trial_will_end at T−3d, trial end, renewals, finalisation about 1 h after a draft,
// retries, the 23-hour incomplete expiry, cancel_at, send_invoice due dates.
import {
  applyEndAction,
  attemptPayment,
  cancelNow,
  createInvoice,
  customerOf,
  expireIncomplete,
  expirePendingUpdate,
  finalizeInvoice,
  nextPeriodEnd,
  periodLines,
  periodOf,
  resolvePaymentMethod,
  setPeriod,
  voidInvoice,
  type InvoiceRec,
  type SubRec,
} from './billing';
import { AUTOMATIC, emit, emitUpdated, type Account, type Ctx } from './state';
import { DAY } from './time';

export const TRIAL_WILL_END_BEFORE = 3 * DAY;

interface Work {
  at: number;
  /** Among works due at one instant: invoices before subscriptions, then creation order. */
  rank: number;
  seq: number;
  what: string;
  run(ctx: Ctx): void;
}

function invoiceWork(account: Account, inv: InvoiceRec): Work[] {
  const invoice = inv.value;
  const works: Work[] = [];
  const add = (at: number | null, rank: number, what: string, run: (ctx: Ctx) => void) => {
    if (at !== null) works.push({ at, rank, seq: inv.seq, what: `${what} ${invoice.id}`, run });
  };
  if (invoice.status === 'draft' && invoice.auto_advance) {
    // Finalized about an hour after creation, then charged at once (STRIPE.md §3).
    add(invoice.automatically_finalizes_at, 0, 'finalize', (ctx) => {
      finalizeInvoice(ctx, inv);
      if (inv.value.status === 'open' && inv.value.collection_method === 'charge_automatically') attemptPayment(ctx, inv, { automatic: true });
    });
  }
  if (invoice.status !== 'open') return works;
  if (invoice.collection_method === 'charge_automatically') {
    add(inv.meta.attemptAt, 1, 'attempt', (ctx) => attemptPayment(ctx, inv, { automatic: true }));
    if (invoice.auto_advance && inv.meta.attemptAt === null) {
      add(invoice.next_payment_attempt, 1, 'retry', (ctx) => {
        inv.meta.retriesDone += 1;
        attemptPayment(ctx, inv, { automatic: true });
      });
    }
  }
  add(inv.meta.voidAt, 2, 'void unpaid', (ctx) => voidInvoice(ctx, inv));
  if (invoice.collection_method === 'send_invoice' && invoice.due_date !== null && !inv.meta.overdueHandled) {
    add(invoice.due_date, 2, 'overdue', (ctx) => invoiceOverdue(ctx, inv));
  }
  const willBeDue = account.settings.automations.invoiceWillBeDueDays;
  if (invoice.collection_method === 'send_invoice' && invoice.due_date !== null && willBeDue !== null && !inv.meta.willBeDueSent) {
    add(invoice.due_date - willBeDue * DAY, 2, 'invoice.will_be_due', (ctx) => {
      inv.meta.willBeDueSent = true;
      emit(ctx, 'invoice.will_be_due', inv.value);
    });
  }
  add(inv.meta.overdueEventAt, 2, 'invoice.overdue', (ctx) => {
    inv.meta.overdueEventAt = null;
    emit(ctx, 'invoice.overdue', inv.value);
  });
  return works;
}

/** A sent invoice unpaid at its due date makes the subscription past_due (STRIPE.md §6). */
function invoiceOverdue(ctx: Ctx, inv: InvoiceRec): void {
  inv.meta.overdueHandled = true;
  const { automations, sendInvoicePastDue } = ctx.account.settings;
  if (automations.invoiceOverdueDays !== null) inv.meta.overdueEventAt = ctx.now + automations.invoiceOverdueDays * DAY;
  const sub = inv.meta.subscription ? ctx.account.subscriptions.get(inv.meta.subscription) : undefined;
  if (!sub || (sub.value.status !== 'active' && sub.value.status !== 'trialing')) return;
  const before = structuredClone(sub.value);
  sub.value.status = 'past_due';
  emitUpdated(ctx, 'customer.subscription.updated', before, sub.value);
  if (sendInvoicePastDue.action !== 'past_due') sub.meta.pastDueEndAt = ctx.now + sendInvoicePastDue.afterDays * DAY;
}

function subscriptionWork(sub: SubRec): Work[] {
  const s = sub.value;
  const works: Work[] = [];
  const add = (at: number | null, rank: number, what: string, run: (ctx: Ctx) => void) => {
    if (at !== null) works.push({ at, rank, seq: sub.seq, what: `${what} ${s.id}`, run });
  };
  const { end } = periodOf(s);
  if (sub.meta.pendingUpdate && s.pending_update) add(Number(s.pending_update.expires_at), 3, 'pending update expiry', (ctx) => expirePendingUpdate(ctx, sub));
  switch (s.status) {
    case 'incomplete':
      add(sub.meta.incompleteExpiresAt, 3, 'incomplete expiry', (ctx) => expireIncomplete(ctx, sub));
      break;
    case 'trialing': {
      const trialEnd = s.trial_end!;
      if (sub.meta.trialWillEndFor !== trialEnd) add(trialEnd - TRIAL_WILL_END_BEFORE, 4, 'trial_will_end', (ctx) => trialWillEnd(ctx, sub));
      if (s.cancel_at !== null && s.cancel_at <= trialEnd) add(s.cancel_at, 4, 'cancel_at', (ctx) => cancelNow(ctx, sub, 'cancellation_requested'));
      else add(trialEnd, 5, 'trial end', (ctx) => endTrial(ctx, sub));
      break;
    }
    case 'active':
    case 'past_due':
    case 'unpaid':
      if (s.cancel_at !== null && s.cancel_at <= end) add(s.cancel_at, 4, 'cancel_at', (ctx) => cancelNow(ctx, sub, 'cancellation_requested'));
      else add(end, 5, 'renewal', (ctx) => renew(ctx, sub));
      add(sub.meta.pastDueEndAt, 4, 'past-due end', (ctx) => {
        sub.meta.pastDueEndAt = null;
        if (sub.value.status === 'past_due') applyEndAction(ctx, sub, ctx.account.settings.sendInvoicePastDue.action, 'payment_failed');
      });
      break;
    case 'paused':
      if (s.cancel_at !== null) add(s.cancel_at, 4, 'cancel_at', (ctx) => cancelNow(ctx, sub, 'cancellation_requested'));
      break;
    default:
      break;
  }
  return works;
}

/** `customer.subscription.trial_will_end`: 3 days before the trial ends, or at once when fewer remain. */
export function trialWillEnd(ctx: Ctx, sub: SubRec): void {
  sub.meta.trialWillEndFor = sub.value.trial_end;
  emit(ctx, 'customer.subscription.trial_will_end', sub.value);
}

/**
 * Trial end (STRIPE.md §2, §3): without a payment method, `missing_payment_method` decides (cancel,
 * pause, or create_invoice); otherwise a new period starts at trial_end with a draft invoice.
 */
export function endTrial(ctx: Ctx, sub: SubRec): void {
  const { account, now } = ctx;
  const s = sub.value;
  const customer = customerOf(account, s.customer);
  const hasPaymentMethod = resolvePaymentMethod(account, null, s, customer) !== null;
  const behavior = s.trial_settings.end_behavior.missing_payment_method;
  if (s.collection_method === 'charge_automatically' && !hasPaymentMethod && behavior === 'cancel') {
    cancelNow(ctx, sub, null);
    return;
  }
  if (s.collection_method === 'charge_automatically' && !hasPaymentMethod && behavior === 'pause') {
    const before = structuredClone(s);
    s.status = 'paused';
    s.status_details = { paused: { subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: now, type: 'subscription' } };
    emitUpdated(ctx, 'customer.subscription.updated', before, s);
    emit(ctx, 'customer.subscription.paused', s);
    return;
  }
  startNewPeriod(ctx, sub, now, { status: 'active', reason: 'subscription_cycle' });
}

/** The period ends: a new one starts with its invoice (drafts only for unpaid subscriptions, STRIPE.md §4). */
function renew(ctx: Ctx, sub: SubRec): void {
  startNewPeriod(ctx, sub, periodOf(sub.value).end, { status: sub.value.status as 'active' | 'past_due' | 'unpaid', reason: 'subscription_cycle' });
}

export function startNewPeriod(ctx: Ctx, sub: SubRec, start: number, opts: { status: 'active' | 'past_due' | 'unpaid' | 'trialing'; reason: 'subscription_cycle' | 'subscription_update' }): InvoiceRec {
  const s = sub.value;
  const before = structuredClone(s);
  if (s.status === 'trialing') s.billing_cycle_anchor = start;
  const end = nextPeriodEnd(s, start);
  setPeriod(s, start, end);
  s.status = opts.status;
  const inv = createInvoice(ctx, {
    sub: s,
    reason: opts.reason,
    lines: periodLines(ctx.account, s, start, end, false),
    autoAdvance: s.status !== 'unpaid',
    includePending: true,
  });
  s.latest_invoice = inv.value.id;
  // One change, one event: the subscription's new period, status and latest invoice together.
  emitUpdated(ctx, 'customer.subscription.updated', before, s);
  return inv;
}

/** The earliest thing due on a clock, or null. */
function nextWork(account: Account, clockId: string | null): Work | null {
  let best: Work | null = null;
  const consider = (w: Work) => {
    if (!best || w.at < best.at || (w.at === best.at && (w.rank < best.rank || (w.rank === best.rank && w.seq < best.seq)))) best = w;
  };
  for (const inv of account.invoices.values()) if (inv.value.test_clock === clockId) invoiceWork(account, inv).forEach(consider);
  for (const sub of account.subscriptions.values()) if (sub.value.test_clock === clockId) subscriptionWork(sub).forEach(consider);
  return best;
}

/** Runs, in time order, everything due on a clock up to `until`. Returns how many steps ran. */
export function runDue(account: Account, clockId: string | null, until: number): number {
  let steps = 0;
  let last = '';
  let repeats = 0;
  for (;;) {
    const work = nextWork(account, clockId);
    if (!work || work.at > until) return steps;
    // A step must change what is due; the same step at the same instant three times is a simulator bug.
    const key = `${work.what}@${work.at}`;
    repeats = key === last ? repeats + 1 : 0;
    if (repeats > 2) throw new Error(`fake-stripe scheduler: '${key}' does not progress`);
    last = key;
    work.run({ account, now: work.at, origin: AUTOMATIC });
    steps += 1;
  }
}

/** Everything due on every clock that is not advancing: after each request and on a timer. */
export function runDueEverywhere(account: Account): void {
  runDue(account, null, account.env.realNow());
  for (const clock of account.testClocks.values()) {
    if (!clock.meta.deleted && clock.value.status === 'ready') runDue(account, clock.value.id, clock.value.frozen_time);
  }
}
