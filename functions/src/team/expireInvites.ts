import type { Firestore, Query, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS } from '../adapters/firestore';
import { releaseInviteSeat } from '../domain/team';
import { readTeamTenant, TEAM_TRANSACTION_ATTEMPTS, toDate, writeSeats } from './tenant';

export interface ExpireInvitesReport {
  sweep: 'expireInvites';
  expired: Array<{ tenantId: string; inviteId: string; email: string }>;
  /** Found due but accepted, revoked or resent (a new expiry) meanwhile: nothing written. */
  skipped: Array<{ tenantId: string; inviteId: string; reason: string }>;
  errors: Array<{ tenantId: string; inviteId: string; message: string }>;
}

/**
 * Pending invites past their expiry become `expired` and free their seat, each in a transaction with
 * the tenant's ledger. Takes `now`: the scheduled wrapper passes the clock, tests and
 * `npm run lifecycle -- --at` pass a date.
 */
export async function expireInvites(db: Firestore, now: Date, options: { pageSize?: number; concurrency?: number } = {}): Promise<ExpireInvitesReport> {
  const pageSize = options.pageSize ?? 200;
  const concurrency = options.concurrency ?? 10;
  const report: ExpireInvitesReport = { sweep: 'expireInvites', expired: [], skipped: [], errors: [] };
  const due: Query = db.collectionGroup(COLLECTIONS.invites).where('status', '==', 'pending').where('expiresAt', '<=', now).orderBy('expiresAt');
  let cursor: QueryDocumentSnapshot | undefined;
  for (;;) {
    const page = await (cursor ? due.startAfter(cursor) : due).limit(pageSize).get();
    for (let i = 0; i < page.docs.length; i += concurrency) {
      await Promise.all(page.docs.slice(i, i + concurrency).map((invite) => expireOne(db, invite, now, report)));
    }
    if (page.size < pageSize) break;
    cursor = page.docs[page.docs.length - 1];
  }
  if (report.expired.length || report.errors.length) {
    (report.errors.length ? logger.error : logger.info)(`expireInvites: ${report.expired.length} expired, ${report.skipped.length} skipped, ${report.errors.length} errors`, {
      errors: report.errors.slice(0, 20),
    });
  }
  return report;
}

async function expireOne(db: Firestore, found: QueryDocumentSnapshot, now: Date, report: ExpireInvitesReport): Promise<void> {
  const tenantId = found.ref.parent.parent!.id;
  const where = { tenantId, inviteId: found.id };
  try {
    const outcome = await db.runTransaction(
      async (tx) => {
        const { tenant } = await readTeamTenant(tx, db, tenantId);
        const invite = await tx.get(found.ref);
        if (!invite.exists || invite.get('status') !== 'pending') return `it is ${invite.get('status') ?? 'gone'} now`;
        if ((toDate(invite.get('expiresAt'))?.getTime() ?? 0) > now.getTime()) return 'it was resent with a later expiry';
        tx.update(invite.ref, { status: 'expired', expiredAt: now, updatedAt: now });
        writeSeats(tx, tenant, releaseInviteSeat(tenant.seats));
        return null;
      },
      { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
    );
    if (outcome) report.skipped.push({ ...where, reason: outcome });
    else report.expired.push({ ...where, email: String(found.get('email')) });
  } catch (error) {
    report.errors.push({ ...where, message: error instanceof Error ? error.message : String(error) });
  }
}
