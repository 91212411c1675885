/**
 * The tenant lifecycle as data: which event moves a tenant from which status to which, and what
 * else that change does (its effects, as data). Pure: no firebase import. Every status change
 * goes through `transition`, applied by functions/src/lifecycle/transition.ts. See docs/lifecycle.md.
 */
import { z } from 'zod';
import { DomainError } from './errors';
import { MAX_TRIAL_AHEAD_DAYS } from './plans';
import { statusReleasesDomains } from './domains';
import type { PlatformRole, TenantStatus } from './status';

export const LIFECYCLE_EVENTS = [
  // Time (scheduled sweeps)
  'trial_ended',
  'go_live_reached',
  'grace_period_ended',
  // Payment (Stripe webhooks)
  'payment_succeeded',
  'payment_failed',
  'payment_retry_failed',
  'retries_exhausted',
  'subscription_canceled',
  'reactivated',
  // Platform staff (changeTenantStatus)
  'extend_trial',
  'activate',
  'suspend',
  'cancel',
  // Provisioning saga
  'opened_trial',
  'opened_active',
  'provisioning_rolled_back',
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

/** What a transition does besides setting `status`; functions/src/lifecycle/transition.ts writes them. */
export type Effect =
  /** Trigger Email document, written in the same transaction as the change. */
  | { type: 'queueMail'; mail: 'trial_expired' }
  | { type: 'setFailedPaymentRetries'; value: number }
  /**
   * One more failed retry: Stripe's own count where the event carries it (attempt_count − 1, so the
   * result does not depend on the order events arrive in), else the current count + 1; at least 1.
   */
  | { type: 'countFailedRetry' }
  /** `pastDueSince = now`: starts the grace window that suspendPastDue measures. */
  | { type: 'startPastDue' }
  | { type: 'clearPastDue' }
  /** `trialEndsAt` from the request (a staff extension, or Stripe's trial_end). */
  | { type: 'setTrialEndsAt' }
  /** A staff suspension is a hold: billing events cannot lift it, only a staff `activate`. */
  | { type: 'placeStaffHold' }
  | { type: 'liftStaffHold' }
  /** A staff `activate` grants service the billing map honours while Stripe's state alone would take it away (domain/billing.ts `staff_grant`). */
  | { type: 'grantService' }
  /** Every domain the tenant holds goes back (verifiedDomains/{domain} deleted, its claim `released`): see domain/domains.ts. */
  | { type: 'releaseDomains' };

interface Rule {
  from: readonly TenantStatus[];
  to: TenantStatus;
  effects?: (from: TenantStatus) => Effect[];
}

const paid: Effect[] = [{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'clearPastDue' }];
/** The states a paying (or trialling) customer can be in; `provisioning` and `failed` are the saga's. */
const LIVE = ['trial', 'trial_expired', 'active', 'past_due', 'suspended'] as const satisfies readonly TenantStatus[];

/** The table. A (status, event) pair that is not here is refused. */
export const LIFECYCLE: Record<LifecycleEvent, Rule> = {
  trial_ended: { from: ['trial'], to: 'trial_expired', effects: () => [{ type: 'queueMail', mail: 'trial_expired' }] },
  // A sales tenant's pre-go-live trial ends in `active`: its contract, not a card, pays (provisioning's openingTerms).
  go_live_reached: { from: ['trial'], to: 'active', effects: () => paid },
  grace_period_ended: { from: ['past_due'], to: 'suspended' },
  payment_succeeded: { from: ['trial', 'trial_expired', 'past_due', 'suspended'], to: 'active', effects: () => paid },
  // Not from trial_expired: an expired trial stays write-blocked until it is paid (domain/billing.ts).
  payment_failed: {
    from: ['trial', 'active'],
    to: 'past_due',
    effects: () => [{ type: 'setFailedPaymentRetries', value: 0 }, { type: 'startPastDue' }],
  },
  // A failed retry blocks writes (CONTRACT.md). Arriving without the first failure (lost or stale), it still counts one.
  payment_retry_failed: {
    from: ['trial', 'active', 'past_due'],
    to: 'past_due',
    effects: (from) => (from === 'past_due' ? [{ type: 'countFailedRetry' }] : [{ type: 'countFailedRetry' }, { type: 'startPastDue' }]),
  },
  retries_exhausted: { from: ['active', 'past_due'], to: 'suspended' },
  subscription_canceled: { from: LIVE, to: 'cancelled' },
  reactivated: { from: ['suspended', 'cancelled'], to: 'active', effects: () => paid },
  extend_trial: { from: ['trial', 'trial_expired'], to: 'trial', effects: () => [{ type: 'setTrialEndsAt' }] },
  activate: {
    from: ['trial', 'trial_expired', 'past_due', 'suspended', 'cancelled'],
    to: 'active',
    effects: () => [...paid, { type: 'liftStaffHold' }, { type: 'grantService' }],
  },
  suspend: { from: ['trial', 'trial_expired', 'active', 'past_due'], to: 'suspended', effects: () => [{ type: 'placeStaffHold' }] },
  cancel: { from: LIVE, to: 'cancelled' },
  // The saga's ready step opens a tenant; a rollback can only ever close one that never opened.
  opened_trial: { from: ['provisioning'], to: 'trial' },
  opened_active: { from: ['provisioning'], to: 'active' },
  provisioning_rolled_back: { from: ['provisioning'], to: 'failed' },
};

/** How a provisioned tenant opens: in its trial, or `active` when it has none (a sales tenant whose go-live has come). */
export function openingEvent(trialEndsAt: Date | null): LifecycleEvent {
  return trialEndsAt ? 'opened_trial' : 'opened_active';
}

/** What may still happen to a tenant under a staff hold: staff lift it or end the tenant; a cancelled subscription ends it. */
export const EVENTS_UNDER_STAFF_HOLD: readonly LifecycleEvent[] = ['activate', 'cancel', 'subscription_canceled'];

export function isAllowed(status: TenantStatus, event: LifecycleEvent, staffHold = false): boolean {
  return LIFECYCLE[event].from.includes(status) && (!staffHold || EVENTS_UNDER_STAFF_HOLD.includes(event));
}

/** The one transition function. Refuses what the table does not allow, naming status and event. */
export function transition(status: TenantStatus, event: LifecycleEvent, staffHold = false): { to: TenantStatus; effects: Effect[] } {
  const rule = LIFECYCLE[event];
  if (staffHold && !EVENTS_UNDER_STAFF_HOLD.includes(event)) {
    throw new DomainError(
      'failed-precondition',
      `The tenant is held by a staff suspension: '${event}' cannot lift it (only ${EVENTS_UNDER_STAFF_HOLD.join(', ')})`,
      { status, event, reason: 'staff-hold' },
    );
  }
  if (!rule.from.includes(status)) {
    const allowed = (LIFECYCLE_EVENTS as readonly LifecycleEvent[]).filter((e) => isAllowed(status, e));
    throw new DomainError(
      'failed-precondition',
      `A tenant in status '${status}' cannot take event '${event}' (allowed in '${status}': ${allowed.join(', ') || 'none'})`,
      { status, event, reason: 'not-allowed' },
    );
  }
  const effects = rule.effects?.(status) ?? [];
  // Derived from the status, not listed per event: whichever event ends a tenant, its domains go back.
  if (statusReleasesDomains(rule.to) && !statusReleasesDomains(status)) effects.push({ type: 'releaseDomains' });
  return { to: rule.to, effects };
}

// Timing of the scheduled sweeps.
/** Stripe sends customer.subscription.trial_will_end three days before a trial ends; the reminder mail matches it. */
export const TRIAL_REMINDER_DAYS = 3;
/** How long a tenant stays past_due (writes allowed until the first failed retry) before it is suspended. */
export const PAST_DUE_GRACE_DAYS = 14;
export const DAY_MS = 86_400_000;
/**
 * A trial with a Stripe subscription ends when Stripe says (paused, or converted and paid: the webhook).
 * expireTrials is the backstop for events that never came, this long after the trial's end.
 */
export const STRIPE_TRIAL_END_GRACE_DAYS = 1;

/** Deterministic mail ids: a re-run or a duplicate writes the same document; a new trial end gets a new one. */
export const mailIds = {
  trialExpired: (tenantId: string, trialEndsAtMs: number) => `trial-expired-${tenantId}-${trialEndsAtMs}`,
  trialReminder: (tenantId: string, trialEndsAtMs: number) => `trial-reminder-${tenantId}-${trialEndsAtMs}`,
};

// Staff actions (the changeTenantStatus callable)
export const STAFF_ACTIONS = ['extend_trial', 'activate', 'suspend', 'cancel'] as const;
export type StaffAction = (typeof STAFF_ACTIONS)[number];

/** Who may take which action: sales may only give a prospect more time. */
export const STAFF_ACTION_ROLES: Record<StaffAction, readonly PlatformRole[]> = {
  extend_trial: ['super_admin', 'sales'],
  activate: ['super_admin'],
  suspend: ['super_admin'],
  cancel: ['super_admin'],
};

/** A staff cancel ends the subscription now, or lets it run to the end of the period already paid for. */
export const CANCEL_WHEN = ['now', 'period_end'] as const;
export type CancelWhen = (typeof CANCEL_WHEN)[number];

export const StaffActionSchema = z
  .object({
    tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a tenant id (letters, digits, _ and -)'),
    action: z.enum(STAFF_ACTIONS, { message: `one of ${STAFF_ACTIONS.join(', ')}` }),
    trialEndsAt: z.coerce.date({ message: 'a date (ISO 8601)' }).optional(),
    when: z.enum(CANCEL_WHEN, { message: `one of ${CANCEL_WHEN.join(', ')}` }).optional(),
    reason: z.string().trim().min(3, 'at least 3 characters: say why, for the history').max(500, 'at most 500 characters'),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.action === 'extend_trial' && !input.trialEndsAt)
      ctx.addIssue({ code: 'custom', path: ['trialEndsAt'], message: 'is required to extend a trial' });
    if (input.action !== 'extend_trial' && input.trialEndsAt)
      ctx.addIssue({ code: 'custom', path: ['trialEndsAt'], message: 'is only for extend_trial' });
    if (input.action === 'cancel' && !input.when)
      ctx.addIssue({ code: 'custom', path: ['when'], message: `is required to cancel: ${CANCEL_WHEN.join(' or ')}` });
    if (input.action !== 'cancel' && input.when) ctx.addIssue({ code: 'custom', path: ['when'], message: 'is only for cancel' });
  });
export type StaffActionInput = z.output<typeof StaffActionSchema>;

/** The clock-dependent check of a new trial end: in the future, within Stripe's two-year limit. */
export function checkTrialEnd(trialEndsAt: Date, now: Date): void {
  if (trialEndsAt.getTime() <= now.getTime())
    throw new DomainError('invalid-argument', 'trialEndsAt: must be in the future', { field: 'trialEndsAt' });
  if (trialEndsAt.getTime() > now.getTime() + MAX_TRIAL_AHEAD_DAYS * DAY_MS)
    throw new DomainError('invalid-argument', `trialEndsAt: at most ${MAX_TRIAL_AHEAD_DAYS} days ahead (Stripe's limit for a trial end)`, {
      field: 'trialEndsAt',
    });
}

export function requireStaffRole(role: unknown, action: StaffAction): PlatformRole {
  const allowed = STAFF_ACTION_ROLES[action];
  if (typeof role !== 'string' || !allowed.includes(role as PlatformRole)) {
    throw new DomainError('permission-denied', `Only platform ${allowed.join(' or ')} staff can ${action.replace('_', ' ')} a tenant`);
  }
  return role as PlatformRole;
}
