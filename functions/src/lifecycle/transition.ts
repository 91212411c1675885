import type { DocumentData, DocumentSnapshot, Firestore, Timestamp, Transaction } from 'firebase-admin/firestore';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import { mailIds, transition, type LifecycleEvent } from '../domain/lifecycle';
import { escapeHtml, type OutgoingMail } from '../domain/mail';
import type { TenantStatus } from '../domain/status';

export interface TransitionOptions {
  /** Who or what: a staff uid, `system:expireTrials`, `stripe:evt_...`, `provisioning:job_...`. */
  actor: string;
  now: Date;
  /** The status the caller decided on (a sweep's query): if the tenant has moved since, nothing is written. */
  expectedStatus?: TenantStatus;
  /** A condition besides the status, checked on the transaction's own read (a sweep's deadline); a reason refuses. */
  guard?: (tenant: DocumentData) => string | null;
  stripeEventId?: string;
  /** Failed retries as Stripe counts them (invoice attempt_count − 1), for `countFailedRetry`. */
  failedPaymentRetries?: number;
  /** For `setTrialEndsAt` effects. */
  trialEndsAt?: Date;
  /** Free text for the history entry (a staff reason, a failure message). */
  reason?: string;
  /** More fields for the tenant update, in the same write (a webhook's Stripe ids). */
  tenantFields?: Record<string, unknown>;
  /** More reads and writes in the same transaction, run after the checks passed and before this change's writes. */
  alsoInTransaction?: (tx: Transaction, tenant: DocumentSnapshot) => Promise<void> | void;
}

export interface TransitionResult {
  tenantId: string;
  event: LifecycleEvent;
  from: TenantStatus;
  to: TenantStatus;
  historyId: string;
  mailIds: string[];
}

/** Applies one lifecycle event to one tenant in its own transaction. Refusals throw a DomainError and write nothing. */
export async function applyTransition(db: Firestore, tenantId: string, event: LifecycleEvent, options: TransitionOptions): Promise<TransitionResult> {
  return db.runTransaction(async (tx) => {
    const tenant = await tx.get(refs(db).tenant(tenantId));
    // Refuse before any extra work, so a refusal writes nothing at all.
    checkTenant(tenant, event, options);
    await options.alsoInTransaction?.(tx, tenant);
    return transitionInTransaction(tx, db, tenant, event, options);
  });
}

/** The status and deadline checks, on the transaction's read: a tenant that moved since the caller looked is refused. */
function checkTenant(tenant: DocumentSnapshot, event: LifecycleEvent, options: TransitionOptions): void {
  if (!tenant.exists) throw new DomainError('not-found', `Tenant ${tenant.id} does not exist`);
  const status = tenant.get('status') as TenantStatus;
  if (options.expectedStatus && status !== options.expectedStatus) {
    throw new DomainError('failed-precondition', `Tenant ${tenant.id} is now '${status}', no longer '${options.expectedStatus}'`, {
      status,
      reason: 'status-changed',
    });
  }
  const refusal = options.guard?.(tenant.data()!);
  if (refusal) throw new DomainError('failed-precondition', `Tenant ${tenant.id}: ${refusal}`, { status, reason: 'guard' });
  transition(status, event, tenant.get('staffHold') === true);
}

/**
 * The single write path of a status change, for a tenant already read in `tx` (all reads done):
 * the table decides, then the tenant update, its history entry and any mail are written together.
 */
export function transitionInTransaction(
  tx: Transaction,
  db: Firestore,
  tenant: DocumentSnapshot,
  event: LifecycleEvent,
  options: TransitionOptions,
): TransitionResult {
  checkTenant(tenant, event, options);
  const from = tenant.get('status') as TenantStatus;
  const { to, effects } = transition(from, event, tenant.get('staffHold') === true);
  const data = tenant.data()!;
  const { now } = options;
  const update: Record<string, unknown> = { ...options.tenantFields, status: to, statusChangedAt: now, updatedAt: now };
  const queued: string[] = [];
  for (const effect of effects) {
    switch (effect.type) {
      case 'setFailedPaymentRetries':
        update.failedPaymentRetries = effect.value;
        break;
      case 'countFailedRetry': {
        const counted = from === 'past_due' ? Number(data.failedPaymentRetries ?? 0) + 1 : 1;
        update.failedPaymentRetries = Math.max(1, options.failedPaymentRetries ?? counted);
        break;
      }
      case 'startPastDue':
        update.pastDueSince = now;
        break;
      case 'clearPastDue':
        update.pastDueSince = null;
        break;
      case 'setTrialEndsAt':
        if (!options.trialEndsAt) throw new DomainError('invalid-argument', `trialEndsAt: is required for '${event}'`, { field: 'trialEndsAt' });
        update.trialEndsAt = options.trialEndsAt;
        break;
      case 'placeStaffHold':
        update.staffHold = true;
        break;
      case 'liftStaffHold':
        update.staffHold = false;
        break;
      case 'grantService':
        update.staffGrant = true;
        break;
      case 'releaseDomains':
        releaseHeldDomains(tx, db, tenant, now, `released because the organisation is now ${to}`);
        update.heldDomains = [];
        break;
      case 'queueMail': {
        const trialEndsAtMs = (data.trialEndsAt as Timestamp | null)?.toMillis() ?? 0;
        const id = mailIds.trialExpired(tenant.id, trialEndsAtMs);
        tx.set(db.collection(COLLECTIONS.mail).doc(id), trialExpiredMail(tenant.id, data));
        queued.push(id);
        break;
      }
    }
  }
  tx.update(tenant.ref, update);
  const history = refs(db).newHistoryEntry(tenant.id);
  tx.create(history, {
    from,
    to,
    cause: event,
    actor: options.actor,
    at: now,
    ...(options.reason ? { reason: options.reason } : {}),
    ...(options.stripeEventId ? { stripeEventId: options.stripeEventId } : {}),
  });
  return { tenantId: tenant.id, event, from, to, historyId: history.id, mailIds: queued };
}

/**
 * Blind writes, no reads (this runs after the transaction's reads): `heldDomains` lists exactly the
 * domains whose verifiedDomains entry names this tenant, kept so in every transaction that changes one.
 */
function releaseHeldDomains(tx: Transaction, db: Firestore, tenant: DocumentSnapshot, now: Date, reason: string): void {
  const ref = refs(db);
  for (const domain of (tenant.get('heldDomains') as string[] | undefined) ?? []) {
    tx.delete(ref.verifiedDomain(domain));
    tx.set(
      ref.domainClaim(tenant.id, domain),
      { status: 'released', releasedAt: now, releaseReason: `${domain} was ${reason}; claim it again if you need it back.`, joinPolicy: 'off', nextCheckAt: null, updatedAt: now },
      { merge: true },
    );
  }
}

function trialExpiredMail(tenantId: string, tenant: DocumentData): OutgoingMail {
  const name = String(tenant.name ?? 'your organisation');
  return {
    to: tenant.billingEmail,
    tenantId,
    message: {
      subject: `Your ${name} trial has ended`,
      text: `The trial of ${name} has ended. Your data is kept: choose a plan to keep working with your team.`,
      html: `<p>The trial of <strong>${escapeHtml(name)}</strong> has ended. Your data is kept: choose a plan to keep working with your team.</p>`,
    },
  };
}

/** A refusal that means "this tenant is not (or no longer) due": a sweep counts it as skipped. */
export function isRefusal(error: unknown): error is DomainError {
  return error instanceof DomainError && (error.code === 'failed-precondition' || error.code === 'not-found');
}
