import { Timestamp, type DocumentData, type Firestore, type Query, type QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { DAY_MS, mailIds, PAST_DUE_GRACE_DAYS, STRIPE_TRIAL_END_GRACE_DAYS, TRIAL_REMINDER_DAYS, type LifecycleEvent } from '../domain/lifecycle';
import type { TenantStatus } from '../domain/status';
import type { TxtResolver } from '../adapters/dns';
import { recheckDomains } from '../team/domains';
import { expireInvites } from '../team/expireInvites';
import { queueReminderInTransaction, reminderRef } from './reminders';
import { applyTransition, isRefusal } from './transition';

export interface SweepOptions {
  /** Tenants per query page (cursor paging with startAfter). */
  pageSize?: number;
  /** Transactions in flight at once within a page. */
  concurrency?: number;
  /** Test hook: runs after the query found a tenant and before its transaction (a webhook may land here). */
  beforeTransition?: (tenantId: string) => Promise<void>;
}

export interface SweepReport {
  sweep: string;
  /** Tenants this run changed (a transition, or a mail queued for a reminder). */
  changed: Array<{ tenantId: string; from: TenantStatus; to: TenantStatus; mailIds: string[] }>;
  /** Found due but already moved (another run, a webhook, staff) or already reminded: nothing written. */
  skipped: Array<{ tenantId: string; reason: string }>;
  errors: Array<{ tenantId: string; message: string }>;
  /** Documents read: query results (at least one per query) plus one tenant (and mail) read per transaction. */
  reads: number;
}

const DEFAULTS = { pageSize: 200, concurrency: 10 };
const tenants = (db: Firestore) => db.collection(COLLECTIONS.tenants);
const millis = (value: unknown) => (value instanceof Timestamp ? value.toMillis() : Number.NaN);

/**
 * Trials whose end has passed become `trial_expired`, the conversion mail queued in the same transaction;
 * a sales tenant's trial ends at its go-live date and becomes `active` instead. A trial with a Stripe
 * subscription is Stripe's to end (a card may be charged within the hour): the sweep only steps in
 * STRIPE_TRIAL_END_GRACE_DAYS later, when Stripe's events have not come.
 */
export async function expireTrials(db: Firestore, now: Date, options: SweepOptions = {}): Promise<SweepReport> {
  const due = tenants(db).where('status', '==', 'trial').where('trialEndsAt', '<=', now).orderBy('trialEndsAt');
  const eventFor = (doc: QueryDocumentSnapshot): LifecycleEvent => (doc.get('source') === 'sales' ? 'go_live_reached' : 'trial_ended');
  const stripeGraceEnd = now.getTime() - STRIPE_TRIAL_END_GRACE_DAYS * DAY_MS;
  return transitionEach(db, 'expireTrials', due, eventFor, 'trial', now, options, (tenant) => {
    if (millis(tenant.trialEndsAt) > now.getTime()) return 'its trial now ends later';
    if (tenant.stripeSubscriptionId && millis(tenant.trialEndsAt) > stripeGraceEnd) return 'Stripe ends this trial; the sweep waits for its events';
    return null;
  });
}

/** `past_due` tenants past their grace window become `suspended`. */
export async function suspendPastDue(db: Firestore, now: Date, options: SweepOptions = {}): Promise<SweepReport> {
  const cutoff = new Date(now.getTime() - PAST_DUE_GRACE_DAYS * DAY_MS);
  const due = tenants(db).where('status', '==', 'past_due').where('pastDueSince', '<=', cutoff).orderBy('pastDueSince');
  return transitionEach(db, 'suspendPastDue', due, 'grace_period_ended', 'past_due', now, options, (tenant) =>
    millis(tenant.pastDueSince) <= cutoff.getTime() ? null : 'its grace window has not ended',
  );
}

/**
 * One reminder per trial end, TRIAL_REMINDER_DAYS before it (when Stripe sends trial_will_end, which
 * queues the same mail id): an extended trial gets a new reminder, a re-run none.
 */
export async function remindEndingTrials(db: Firestore, now: Date, options: SweepOptions = {}): Promise<SweepReport> {
  const horizon = new Date(now.getTime() + TRIAL_REMINDER_DAYS * DAY_MS);
  const due = tenants(db).where('status', '==', 'trial').where('trialEndsAt', '>', now).where('trialEndsAt', '<=', horizon).orderBy('trialEndsAt');
  return sweepEach('remindEndingTrials', due, options, async (doc, report) => {
    const trialEndsAtMs = millis(doc.get('trialEndsAt'));
    const result = await queueTrialReminder(db, doc.id, trialEndsAtMs);
    report.reads += 2;
    if (result === 'queued') report.changed.push({ tenantId: doc.id, from: 'trial', to: 'trial', mailIds: [mailIds.trialReminder(doc.id, trialEndsAtMs)] });
    else report.skipped.push({ tenantId: doc.id, reason: result });
  });
}

/** Queues the reminder for this trial end unless it is queued already or the trial has moved on. */
export async function queueTrialReminder(db: Firestore, tenantId: string, trialEndsAtMs: number): Promise<'queued' | string> {
  const mailRef = reminderRef(db, tenantId, trialEndsAtMs);
  return db.runTransaction(async (tx) => {
    const [tenant, mail] = await tx.getAll(refs(db).tenant(tenantId), mailRef);
    return queueReminderInTransaction(tx, tenant, mail, trialEndsAtMs);
  });
}

/** The tenant sweeps at one time, for the bench and the tests: reminders, expiries, suspensions. */
export async function runAllSweeps(db: Firestore, now: Date, options: SweepOptions = {}): Promise<SweepReport[]> {
  return [await remindEndingTrials(db, now, options), await expireTrials(db, now, options), await suspendPastDue(db, now, options)];
}

/** One sweep's outcome in one shape, whatever it sweeps: a tenant's status, an invite, a domain claim. */
export interface SweepSummary {
  sweep: string;
  /** `subject` names what changed when it is not the tenant itself (an invite, a domain). */
  changed: Array<{ tenantId: string; subject?: string; from: string; to: string; mailIds: string[] }>;
  skipped: Array<{ tenantId: string; subject?: string; reason: string }>;
  errors: Array<{ tenantId: string; subject?: string; message: string }>;
}

export interface EverySweepDeps {
  db: Firestore;
  resolveTxt: TxtResolver;
  /** The web app's origin, for the link in a lapsing domain's mail. */
  appUrl?: string;
}

/**
 * Every scheduled sweep, in the order a moved clock runs them: the one list behind the Local clock
 * (`advanceLocalClock`) and `npm run lifecycle -- --at`, so neither can skip one.
 */
export const EVERY_SWEEP: ReadonlyArray<{ sweep: string; run: (deps: EverySweepDeps, now: Date) => Promise<SweepSummary> }> = [
  { sweep: 'remindEndingTrials', run: ({ db }, now) => remindEndingTrials(db, now) },
  { sweep: 'expireTrials', run: ({ db }, now) => expireTrials(db, now) },
  { sweep: 'suspendPastDue', run: ({ db }, now) => suspendPastDue(db, now) },
  {
    sweep: 'expireInvites',
    run: async ({ db }, now) => {
      const report = await expireInvites(db, now);
      return {
        sweep: report.sweep,
        changed: report.expired.map((e) => ({ tenantId: e.tenantId, subject: `invite ${e.inviteId} (${e.email})`, from: 'pending', to: 'expired', mailIds: [] })),
        skipped: report.skipped.map((s) => ({ tenantId: s.tenantId, subject: `invite ${s.inviteId}`, reason: s.reason })),
        errors: report.errors.map((e) => ({ tenantId: e.tenantId, subject: `invite ${e.inviteId}`, message: e.message })),
      };
    },
  },
  {
    sweep: 'recheckDomains',
    run: async (deps, now) => {
      const report = await recheckDomains(deps, now);
      return {
        sweep: report.sweep,
        changed: report.changed.map((c) => ({ tenantId: c.tenantId, subject: `domain ${c.domain} (${c.outcome})`, from: 'checked', to: c.to, mailIds: [] })),
        skipped: [
          ...report.pending.map((p) => ({ tenantId: p.tenantId, subject: `domain ${p.domain}`, reason: `still pending (${p.outcome}); next check ${p.nextCheckAt}` })),
          ...report.held.map((h) => ({ tenantId: h.tenantId, subject: `domain ${h.domain}`, reason: `still ${h.status} (${h.outcome}); next check ${h.nextCheckAt}` })),
        ],
        errors: report.errors.map((e) => ({ tenantId: e.tenantId, subject: `domain ${e.domain}`, message: e.message })),
      };
    },
  },
];

/** Runs EVERY_SWEEP as of `now`, one after another. */
export async function runEverySweep(deps: EverySweepDeps, now: Date): Promise<SweepSummary[]> {
  const summaries: SweepSummary[] = [];
  for (const { run } of EVERY_SWEEP) summaries.push(await run(deps, now));
  return summaries;
}

async function transitionEach(
  db: Firestore,
  name: string,
  due: Query,
  event: LifecycleEvent | ((doc: QueryDocumentSnapshot) => LifecycleEvent),
  expectedStatus: TenantStatus,
  now: Date,
  options: SweepOptions,
  guard: (tenant: DocumentData) => string | null,
): Promise<SweepReport> {
  return sweepEach(name, due, options, async (doc, report) => {
    report.reads += 1;
    // Conditional on the status and deadline the query saw: a tenant moved meanwhile is refused, and skipped.
    const result = await applyTransition(db, doc.id, typeof event === 'function' ? event(doc) : event, { actor: `system:${name}`, now, expectedStatus, guard });
    report.changed.push({ tenantId: doc.id, from: result.from, to: result.to, mailIds: result.mailIds });
  });
}

/** Pages through the due tenants with a cursor, so the cost follows the due tenants only (one indexed range each). */
async function sweepEach(
  name: string,
  due: Query,
  options: SweepOptions,
  handle: (doc: QueryDocumentSnapshot, report: SweepReport) => Promise<void>,
): Promise<SweepReport> {
  const { pageSize, concurrency } = { ...DEFAULTS, ...options };
  const report: SweepReport = { sweep: name, changed: [], skipped: [], errors: [], reads: 0 };
  let cursor: QueryDocumentSnapshot | undefined;
  for (;;) {
    const page = await (cursor ? due.startAfter(cursor) : due).limit(pageSize).get();
    report.reads += Math.max(page.size, 1);
    for (let i = 0; i < page.docs.length; i += concurrency) {
      await Promise.all(
        page.docs.slice(i, i + concurrency).map(async (doc) => {
          try {
            await options.beforeTransition?.(doc.id);
            await handle(doc, report);
          } catch (error) {
            if (isRefusal(error)) report.skipped.push({ tenantId: doc.id, reason: error.message });
            else report.errors.push({ tenantId: doc.id, message: error instanceof Error ? error.message : String(error) });
          }
        }),
      );
    }
    if (page.size < pageSize) break;
    cursor = page.docs[page.docs.length - 1];
  }
  if (report.changed.length || report.errors.length) {
    (report.errors.length ? logger.error : logger.info)(`${name}: ${report.changed.length} changed, ${report.skipped.length} skipped, ${report.errors.length} errors`, {
      errors: report.errors.slice(0, 20),
    });
  }
  return report;
}
