import { Timestamp, type DocumentReference, type DocumentSnapshot, type Firestore, type Transaction } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import type { PlanId } from '../domain/plans';
import { billingPath, PLANS } from '../domain/plans';
import type { TenantRole, TenantStatus } from '../domain/status';
import type { DailyCount, Person, SeatLedger, SeatTerms, TenantState } from '../domain/team';

/** What team actions need of a tenant, read inside their transaction. */
export interface TeamTenant extends TenantState, SeatTerms {
  id: string;
  ref: DocumentReference;
  ownerUid: string;
  billingEmail: string;
  /** The ledger as stored, or recounted in this transaction for a tenant created before it existed. */
  seats: SeatLedger;
  /** Invite mails sent on the stored day (domain/team.ts dailyCountOf makes it today's). */
  inviteMails: unknown;
  /** Every pending invite of the tenant is in `inviteAddresses` (true once the ledger counted no pending invite). */
  inviteAddressesIndexed: boolean;
}

export function isLedger(value: unknown): value is SeatLedger {
  const v = value as SeatLedger | undefined;
  return Number.isInteger(v?.members) && Number.isInteger(v?.pendingInvites);
}

/**
 * Reads the tenant (and the caller's membership) in `tx`, in one round trip. A tenant without a
 * ledger gets one from a recount of its members and pending invites, read in the same transaction,
 * so the first write stores counts that match the documents.
 */
export async function readTeamTenant(
  tx: Transaction,
  db: Firestore,
  tenantId: string,
  memberUids: string[] = [],
  alsoRead: DocumentReference[] = [],
): Promise<{ tenant: TeamTenant; members: Map<string, Person & { email: string; displayName: string }>; also: DocumentSnapshot[] }> {
  const ref = refs(db);
  const memberRefs = memberUids.map((uid) => ref.member(tenantId, uid));
  const [snap, ...rest] = await tx.getAll(ref.tenant(tenantId), ...memberRefs, ...alsoRead);
  const memberSnaps = rest.slice(0, memberRefs.length);
  if (!snap.exists) throw new DomainError('not-found', `No organisation with id ${tenantId}`, { reason: 'no-tenant' });
  const data = snap.data()!;
  const seats = isLedger(data.seats) ? data.seats : await countSeats(tx, db, tenantId);
  const plan = (data.plan as PlanId) ?? 'starter';
  const tenant: TeamTenant = {
    id: tenantId,
    ref: snap.ref,
    name: String(data.name ?? tenantId),
    status: data.status as TenantStatus,
    failedPaymentRetries: Number(data.failedPaymentRetries ?? 0),
    plan,
    seatCap: Number(data.seatCap ?? PLANS[plan]?.seatCap ?? 0),
    pendingInviteLimit: Number(data.pendingInviteLimit ?? PLANS[plan]?.pendingInviteLimit ?? 0),
    ownerUid: String(data.ownerUid ?? ''),
    billingEmail: String(data.billingEmail ?? ''),
    tenantName: String(data.name ?? tenantId),
    billingPath: billingPath(String(data.slug || tenantId)),
    seats,
    inviteMails: data.inviteMails ?? null,
    inviteAddressesIndexed: data.inviteAddressesIndexed === true,
  };
  const members = new Map(memberSnaps.filter((m) => m.exists).map((m) => [m.id, personOf(m)]));
  return { tenant, members, also: rest.slice(memberRefs.length) };
}

/** What the ledger counts: the tenant's membership documents and its pending invites, read in `tx`. */
export async function countSeats(tx: Transaction, db: Firestore, tenantId: string): Promise<SeatLedger> {
  const ref = refs(db);
  // One read after the other: a read in flight when another one's transaction aborts fails with a non-retried error.
  const members = await tx.get(ref.members(tenantId));
  const pending = await tx.get(ref.invites(tenantId).where('status', '==', 'pending'));
  return { members: members.size, pendingInvites: pending.size };
}

export function personOf(member: DocumentSnapshot): Person & { email: string; displayName: string } {
  return { uid: member.id, role: member.get('role') as TenantRole, email: String(member.get('email') ?? ''), displayName: String(member.get('displayName') ?? '') };
}

/** Stores the ledger; always in the transaction that wrote what it counts. */
export function writeSeats(tx: Transaction, tenant: TeamTenant, seats: SeatLedger, also: { inviteMails?: DailyCount; inviteAddressesIndexed?: true } = {}): void {
  tx.update(tenant.ref, { seats: { members: seats.members, pendingInvites: seats.pendingInvites }, ...also });
}

/** Enough retries for 20+ concurrent team changes on one tenant: they contend on its ledger and are serialised there. */
export const TEAM_TRANSACTION_ATTEMPTS = 30;

/** Firestore gives Timestamps back for the Dates it was given. */
export function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (value instanceof Timestamp) return value.toDate();
  return undefined;
}
