import type { Auth } from 'firebase-admin/auth';
import type { DocumentSnapshot, Firestore, Transaction } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import { newInviteToken, tokenMatches } from '../domain/inviteToken';
import {
  AcceptInviteSchema,
  acceptReservedSeat,
  chargeInviteMail,
  checkAcceptance,
  checkResendAllowed,
  dailyCountOf,
  inviterNameFor,
  checkInvite,
  checkManageInvite,
  checkTeamStatus,
  DescribeInviteSchema,
  effectiveInviteStatus,
  inviteExpiresAt,
  inviteLink,
  inviteMail,
  inviteMailId,
  InviteMemberSchema,
  InviteRefSchema,
  releaseInviteSeat,
  requireVerifiedEmail,
  RESEND_MIN_INTERVAL_MS,
  reserveInviteSeat,
  seatUsage,
  type Account,
  type DailyCount,
  type SeatLedger,
  type StoredInvite,
  type TeamAction,
} from '../domain/team';
import type { TenantRole } from '../domain/status';
import { parseOrThrow } from '../domain/validation';
import { readTeamTenant, TEAM_TRANSACTION_ATTEMPTS, toDate, writeSeats, type TeamTenant } from './tenant';

export interface InviteDeps {
  db: Firestore;
  /** Who holds an invited address (a member is found by the uid of the account with that email). */
  auth: Auth;
  /** Base URL of the web app, for the accept link in the mail. */
  appUrl: string;
}

export function storedInvite(snap: DocumentSnapshot): StoredInvite {
  const data = snap.data()!;
  return {
    email: String(data.email),
    role: data.role as TenantRole,
    status: data.status,
    expiresAt: toDate(data.expiresAt) ?? new Date(0),
    tokenHash: String(data.tokenHash ?? ''),
    invitedBy: String(data.invitedBy ?? ''),
    acceptedBy: data.acceptedBy ?? null,
    lastSentAt: toDate(data.lastSentAt) ?? new Date(0),
    sendCount: Number(data.sendCount ?? 1),
  };
}

export interface InviteResult {
  inviteId: string;
  email: string;
  role: TenantRole;
  status: 'pending';
  expiresAt: string;
  /** `new`: a seat was reserved; `resent`: the pending invite to that address was sent again; `unchanged`: it was sent moments ago. */
  outcome: 'new' | 'resent' | 'unchanged';
  seats: ReturnType<typeof seatUsage>;
}

/** The uid of the Auth account with `email`, or null; never rejects unobserved (it is awaited inside a transaction that may throw first). */
function accountHolding(auth: Auth, email: string): () => Promise<string | null> {
  const lookup = auth.getUserByEmail(email).then(
    (user) => ({ uid: user.uid as string | null }),
    (error: unknown) => ((error as { code?: string }).code === 'auth/user-not-found' ? { uid: null } : { uid: null, error }),
  );
  return async () => {
    const found = (await lookup) as { uid: string | null; error?: unknown };
    if (found.error) throw found.error;
    return found.uid;
  };
}

/**
 * Invites `email` with `role`. One transaction reads, in one round trip, the tenant's ledger and
 * quotas, the inviter's membership, the address's latest invite pointer and its daily mail count (then
 * by id, only when they exist, that invite and the membership of the account holding the address);
 * it reserves a seat, creates the invite and queues its mail. A member's address is refused; an address
 * with a pending invite gets that invite again. Reads run one after another, never in parallel, so a
 * transaction aborted by contention is retried by the SDK.
 */
export async function inviteMember(deps: InviteDeps, account: Account, input: unknown, now = new Date()): Promise<InviteResult> {
  const { tenantId, email, role } = parseOrThrow(InviteMemberSchema, input);
  const inviterEmail = requireVerifiedEmail(account, 'invite people');
  const ref = refs(deps.db);
  const holderOfAddress = accountHolding(deps.auth, email);
  return deps.db.runTransaction(
    async (tx) => {
      const addressRef = ref.inviteAddress(tenantId, email);
      const recipientRef = ref.inviteRecipient(email);
      const {
        tenant,
        members,
        also: [address, recipient],
      } = await readTeamTenant(tx, deps.db, tenantId, [account.uid], [addressRef, recipientRef]);
      const inviter = members.get(account.uid) ?? null;
      checkInvite(inviter?.role ?? null, role);
      checkTeamStatus('inviteMember', tenant);
      const holderUid = await holderOfAddress();
      const latestInviteId = address.exists ? String(address.get('inviteId') ?? '') : '';
      const byId = [...(holderUid && holderUid !== account.uid ? [ref.member(tenantId, holderUid)] : []), ...(latestInviteId ? [ref.invite(tenantId, latestInviteId)] : [])];
      const found = byId.length ? await tx.getAll(...byId) : [];
      const holderMembership = holderUid && holderUid !== account.uid ? found.shift()! : null;
      if (holderUid === account.uid || holderMembership?.exists) {
        throw new DomainError('already-exists', `email: ${email} is already a member of ${tenant.name}`, { field: 'email', reason: 'already-member' });
      }
      // Every pending invite is in the address index once the ledger has counted none; until then, a query finds older ones.
      const indexed = tenant.inviteAddressesIndexed || tenant.seats.pendingInvites === 0;
      const candidates = indexed ? found.filter((doc) => doc.exists && doc.get('status') === 'pending') : (await tx.get(ref.invites(tenantId).where('email', '==', email).where('status', '==', 'pending'))).docs;
      const inviterName = inviterNameFor(inviter?.displayName, inviterEmail);
      const mailCounts = { tenant: dailyCountOf(tenant.inviteMails, now), recipient: dailyCountOf(recipient.data(), now) };
      const indexFlag = indexed && !tenant.inviteAddressesIndexed ? { inviteAddressesIndexed: true as const } : {};
      let seats = tenant.seats;
      for (const doc of candidates) {
        const invite = storedInvite(doc);
        if (effectiveInviteStatus(invite, now) === 'pending') {
          checkManageInvite(inviter!.role, invite.role, 'resend the invite');
          const sent = sendAgain(tx, deps, tenant, { inviteId: doc.id, invite, role, inviterName, senderUid: account.uid, mailCounts, seats, now });
          if (!sent.sent && seats !== tenant.seats) writeSeats(tx, tenant, seats);
          return result(doc.id, email, sent.role, sent.expiresAt, sent.sent ? 'resent' : 'unchanged', tenant, seats);
        }
        // Expired by the clock but not yet swept: it frees its seat here, and never blocks the new invite.
        tx.update(doc.ref, { status: 'expired', expiredAt: now, updatedAt: now });
        seats = releaseInviteSeat(seats);
      }
      seats = reserveInviteSeat(seats, tenant);
      const charged = chargeInviteMail(mailCounts, tenant, email);
      const inviteRef = ref.invites(tenantId).doc();
      const { token, tokenHash } = newInviteToken();
      const expiresAt = inviteExpiresAt(tenant.plan, now);
      tx.create(inviteRef, {
        email,
        role,
        status: 'pending',
        expiresAt,
        tokenHash,
        invitedBy: account.uid,
        invitedByName: inviterName,
        createdAt: now,
        updatedAt: now,
        lastSentAt: now,
        sendCount: 1,
      });
      tx.set(addressRef, { email, inviteId: inviteRef.id, updatedAt: now });
      queueInviteMail(tx, deps, tenant, inviteRef.id, { email, role, sendCount: 1, expiresAt, token, inviterName });
      tx.set(recipientRef, charged.recipient);
      writeSeats(tx, tenant, seats, { inviteMails: charged.tenant, ...indexFlag });
      return result(inviteRef.id, email, role, expiresAt, 'new', tenant, seats);
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

function result(inviteId: string, email: string, role: TenantRole, expiresAt: Date, outcome: InviteResult['outcome'], tenant: TeamTenant, seats = tenant.seats): InviteResult {
  return { inviteId, email, role, status: 'pending', expiresAt: expiresAt.toISOString(), outcome, seats: seatUsage(seats, tenant.seatCap) };
}

function queueInviteMail(
  tx: FirebaseFirestore.Transaction,
  deps: Pick<InviteDeps, 'db' | 'appUrl'>,
  tenant: TeamTenant,
  inviteId: string,
  send: { email: string; role: TenantRole; sendCount: number; expiresAt: Date; token: string; inviterName: string },
) {
  const mail = inviteMail({
    to: send.email,
    tenantId: tenant.id,
    tenantName: tenant.name,
    inviterName: send.inviterName,
    role: send.role,
    link: inviteLink(deps.appUrl, tenant.id, inviteId, send.token),
    expiresAt: send.expiresAt,
  });
  tx.set(refs(deps.db).mail(inviteMailId(tenant.id, inviteId, send.sendCount)), { ...mail, inviteId, createdAt: new Date() });
}

interface Resend {
  inviteId: string;
  invite: StoredInvite;
  role: TenantRole;
  inviterName: string;
  senderUid: string;
  /** Today's invite mails of the tenant and of the address, as read in this transaction. */
  mailCounts: { tenant: DailyCount; recipient: DailyCount };
  /** The ledger to store with the tenant's mail count. */
  seats: SeatLedger;
  now: Date;
}

/**
 * Sends a pending invite again with a new link (the old one stops working) and a new expiry. Within
 * RESEND_MIN_INTERVAL_MS of the last send it does nothing: that is a double click, not a resend. A send
 * counts against the invite's cap and the tenant's and the address's daily quotas.
 */
function sendAgain(tx: Transaction, deps: Pick<InviteDeps, 'db' | 'appUrl'>, tenant: TeamTenant, resend: Resend): { sent: boolean; expiresAt: Date; role: TenantRole } {
  const { inviteId, invite, role, now } = resend;
  if (now.getTime() - invite.lastSentAt.getTime() < RESEND_MIN_INTERVAL_MS) return { sent: false, expiresAt: invite.expiresAt, role: invite.role };
  checkResendAllowed(invite);
  const charged = chargeInviteMail(resend.mailCounts, tenant, invite.email);
  const { token, tokenHash } = newInviteToken();
  const expiresAt = inviteExpiresAt(tenant.plan, now);
  const sendCount = invite.sendCount + 1;
  tx.update(refs(deps.db).invite(tenant.id, inviteId), { role, tokenHash, expiresAt, lastSentAt: now, sendCount, lastSentBy: resend.senderUid, updatedAt: now });
  queueInviteMail(tx, deps, tenant, inviteId, { email: invite.email, role, sendCount, expiresAt, token, inviterName: resend.inviterName });
  tx.set(refs(deps.db).inviteRecipient(invite.email), charged.recipient);
  writeSeats(tx, tenant, resend.seats, { inviteMails: charged.tenant });
  return { sent: true, expiresAt, role };
}

/** The tenant and its invite, for a manager allowed to act on that invite (by rank, and in the tenant's status). */
async function readInviteToManage(
  tx: Transaction,
  db: Firestore,
  account: Account,
  tenantId: string,
  inviteId: string,
  operation: Extract<TeamAction, 'resendInvite' | 'revokeInvite'>,
  action: string,
) {
  const { tenant, members } = await readTeamTenant(tx, db, tenantId, [account.uid]);
  const snap = await tx.get(refs(db).invite(tenantId, inviteId));
  if (!snap.exists) throw new DomainError('not-found', `No invite ${inviteId} in ${tenant.name}`, { reason: 'no-invite' });
  const invite = storedInvite(snap);
  checkManageInvite(members.get(account.uid)?.role ?? null, invite.role, action);
  checkTeamStatus(operation, tenant);
  return { tenant, invite, manager: members.get(account.uid) ?? null };
}

export async function resendInvite(deps: Pick<InviteDeps, 'db' | 'appUrl'>, account: Account, input: unknown, now = new Date()) {
  const { tenantId, inviteId } = parseOrThrow(InviteRefSchema, input);
  const senderEmail = requireVerifiedEmail(account, 'resend invites');
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, invite, manager } = await readInviteToManage(tx, deps.db, account, tenantId, inviteId, 'resendInvite', 'resend the invite');
      const status = effectiveInviteStatus(invite, now);
      if (status !== 'pending') {
        throw new DomainError('failed-precondition', `This invite is ${status}; only a pending invite can be resent. Invite ${invite.email} again instead.`, {
          reason: status,
        });
      }
      const recipient = await tx.get(refs(deps.db).inviteRecipient(invite.email));
      const sent = sendAgain(tx, deps, tenant, {
        inviteId,
        invite,
        role: invite.role,
        inviterName: inviterNameFor(manager?.displayName, senderEmail),
        senderUid: account.uid,
        mailCounts: { tenant: dailyCountOf(tenant.inviteMails, now), recipient: dailyCountOf(recipient.data(), now) },
        seats: tenant.seats,
        now,
      });
      return { inviteId, sent: sent.sent, expiresAt: sent.expiresAt.toISOString() };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/** Revokes a pending invite and frees its seat; revoking it again is a no-op. */
export async function revokeInvite(deps: Pick<InviteDeps, 'db'>, account: Account, input: unknown, now = new Date()) {
  const { tenantId, inviteId } = parseOrThrow(InviteRefSchema, input);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, invite } = await readInviteToManage(tx, deps.db, account, tenantId, inviteId, 'revokeInvite', 'revoke the invite');
      if (invite.status === 'revoked') return { inviteId, status: 'revoked' as const, changed: false };
      if (invite.status === 'accepted') {
        throw new DomainError('failed-precondition', `${invite.email} has already accepted this invite; remove the member instead`, { reason: 'accepted' });
      }
      // A pending invite (even one past its expiry, not yet swept) still holds its seat: revoking frees it.
      const seats = invite.status === 'pending' ? releaseInviteSeat(tenant.seats) : tenant.seats;
      tx.update(refs(deps.db).invite(tenantId, inviteId), { status: 'revoked', revokedBy: account.uid, revokedAt: now, updatedAt: now });
      if (invite.status === 'pending') writeSeats(tx, tenant, seats);
      return { inviteId, status: 'revoked' as const, changed: true, seats: seatUsage(seats, tenant.seatCap) };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

export interface AcceptDeps {
  db: Firestore;
  auth: Auth;
}

/**
 * The signed-in person accepts an invite to their address. In one transaction: the invite becomes
 * `accepted`, the membership is created with the invited role, and the ledger turns the reserved seat
 * into a member. Bringing the link's token proves the mailbox, so it verifies the address too.
 */
export async function acceptInvite(deps: AcceptDeps, account: Account, input: unknown, now = new Date()) {
  const { tenantId, inviteId, token } = parseOrThrow(AcceptInviteSchema, input);
  const ref = refs(deps.db);
  const outcome = await deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
      const snap = await tx.get(ref.invite(tenantId, inviteId));
      if (!snap.exists) throw new DomainError('not-found', 'This invite does not exist; ask whoever invited you to send a new one', { reason: 'no-invite' });
      const invite = storedInvite(snap);
      const linkProof = token !== undefined && tokenMatches(token, invite.tokenHash);
      if (token !== undefined && !linkProof && invite.status === 'pending') {
        throw new DomainError('permission-denied', 'This invite link has been replaced by a newer one; open the link in the latest invite mail', {
          reason: 'link-replaced',
        });
      }
      const decision = checkAcceptance(invite, account, linkProof, now);
      const existing = members.get(account.uid);
      // A replay proves nothing new: the address was verified (or not) when the invite was first accepted.
      if (decision === 'replay') return { tenantId, role: existing?.role ?? invite.role, alreadyMember: true, linkProof: false, provenEmail: invite.email };
      checkTeamStatus('acceptInvite', tenant);
      if (existing) {
        // Already in (joined by domain meanwhile): the invite is used up and its reserved seat freed.
        tx.update(snap.ref, { status: 'accepted', acceptedBy: account.uid, acceptedAt: now, updatedAt: now });
        writeSeats(tx, tenant, releaseInviteSeat(tenant.seats));
        return { tenantId, role: existing.role, alreadyMember: true, linkProof, provenEmail: invite.email };
      }
      const seats = acceptReservedSeat(tenant.seats, tenant);
      tx.create(ref.member(tenantId, account.uid), {
        uid: account.uid,
        role: invite.role,
        email: invite.email,
        displayName: account.displayName ?? '',
        joinedAt: now,
        joinedVia: 'invite',
        inviteId,
        invitedBy: invite.invitedBy,
      });
      tx.update(snap.ref, { status: 'accepted', acceptedBy: account.uid, acceptedAt: now, updatedAt: now });
      writeSeats(tx, tenant, seats);
      return { tenantId, role: invite.role, alreadyMember: false, linkProof, provenEmail: invite.email };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
  // Only that mailbox received the token: the invited address is proven, so it is the one marked verified
  // (pinned in the same update: the account may have changed its email since it was read).
  if (outcome.linkProof && !account.emailVerified) await verifyProvenEmail(deps.auth, account.uid, outcome.provenEmail);
  return { tenantId: outcome.tenantId, role: outcome.role, alreadyMember: outcome.alreadyMember };
}

async function verifyProvenEmail(auth: Auth, uid: string, email: string): Promise<void> {
  try {
    await auth.updateUser(uid, { email, emailVerified: true });
  } catch (error) {
    // Another account took the address meanwhile: this one proved nothing it still holds, so it stays unverified.
    if ((error as { code?: string }).code !== 'auth/email-already-exists') throw error;
  }
}

/** What the accept page shows before sign-in, to whoever holds the link: the token is required. */
export async function describeInvite(deps: Pick<InviteDeps, 'db'>, input: unknown, now = new Date()) {
  const { tenantId, inviteId, token } = parseOrThrow(DescribeInviteSchema, input);
  const ref = refs(deps.db);
  const [tenant, snap] = await deps.db.getAll(ref.tenant(tenantId), ref.invite(tenantId, inviteId));
  const invite = snap.exists ? storedInvite(snap) : null;
  if (!tenant.exists || !invite) throw new DomainError('not-found', 'This invite does not exist; ask whoever invited you to send a new one', { reason: 'no-invite' });
  if (!tokenMatches(token, invite.tokenHash)) {
    const replaced = invite.status === 'pending';
    throw new DomainError(
      'permission-denied',
      replaced ? 'This invite link has been replaced by a newer one; open the link in the latest invite mail' : 'This invite link is not valid',
      { reason: replaced ? 'link-replaced' : 'invalid-link' },
    );
  }
  return {
    tenantId,
    tenantName: String(tenant.get('name') ?? ''),
    email: invite.email,
    role: invite.role,
    status: effectiveInviteStatus(invite, now),
    expiresAt: invite.expiresAt.toISOString(),
    invitedByName: String(snap.get('invitedByName') ?? ''),
  };
}
