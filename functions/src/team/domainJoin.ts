import type { DocumentSnapshot, Firestore } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';
import { claimHoldsDomain, isPublicMailDomain, type DomainJoinOption, type JoinPolicy } from '../domain/domains';
import { DomainError } from '../domain/errors';
import type { TenantRole, TenantStatus } from '../domain/status';
import { admitWithoutInvite, checkTeamStatus, emailDomain, requireVerifiedEmail, teamActionAllowed, TenantRefSchema, type Account } from '../domain/team';
import { parseOrThrow } from '../domain/validation';
import { readTeamTenant, TEAM_TRANSACTION_ATTEMPTS, writeSeats } from './tenant';

interface CapturedDomain {
  domain: string;
  tenantId: string;
  joinPolicy: Exclude<JoinPolicy, 'off'>;
  defaultRole: TenantRole;
  claim: DocumentSnapshot;
}

/**
 * The tenant that holds the domain of `email` and lets people at it join (suggest or auto), if any.
 * Capture counts only while that tenant may take new members (the status table, via the
 * `joinByDomain` gate): an expired, suspended or cancelled tenant neither routes signups to itself
 * nor keeps them from creating their own organisation.
 */
export async function capturedDomainOf(db: Firestore, email: string): Promise<CapturedDomain | null> {
  const domain = emailDomain(email);
  if (!domain || isPublicMailDomain(domain)) return null;
  const ref = refs(db);
  const index = await ref.verifiedDomain(domain).get();
  if (!index.exists) return null;
  const tenantId = String(index.get('tenantId'));
  const [claim, tenant] = await db.getAll(ref.domainClaim(tenantId, domain), ref.tenant(tenantId));
  const joinPolicy = claim.get('joinPolicy') as JoinPolicy | undefined;
  if (!claim.exists || !claimHoldsDomain(claim.get('status')) || !joinPolicy || joinPolicy === 'off') return null;
  if (!tenant.exists || !canGrowByDomain(tenant)) return null;
  return { domain, tenantId, joinPolicy, defaultRole: claim.get('defaultRole') as TenantRole, claim };
}

function canGrowByDomain(tenant: DocumentSnapshot): boolean {
  return teamActionAllowed('joinByDomain', { status: tenant.get('status') as TenantStatus, failedPaymentRetries: Number(tenant.get('failedPaymentRetries') ?? 0) });
}

/** What the signup page offers the signed-in person instead of creating an organisation. */
export async function lookupDomainJoin(db: Firestore, account: Account): Promise<DomainJoinOption> {
  if (!account.email) return { match: null };
  const captured = await capturedDomainOf(db, account.email);
  if (!captured) return { match: null };
  if (!account.emailVerified) return { match: { domain: captured.domain, joinPolicy: captured.joinPolicy, requiresVerification: true } };
  const ref = refs(db);
  const [tenant, member] = await db.getAll(ref.tenant(captured.tenantId), ref.member(captured.tenantId, account.uid));
  const seats = tenant.get('seats') as { members: number; pendingInvites: number } | undefined;
  const used = seats ? seats.members + seats.pendingInvites : 0;
  return {
    match: {
      domain: captured.domain,
      joinPolicy: captured.joinPolicy,
      requiresVerification: false,
      tenantId: captured.tenantId,
      tenantName: String(tenant.get('name') ?? ''),
      role: captured.defaultRole,
      alreadyMember: member.exists,
      seatAvailable: used < Number(tenant.get('seatCap') ?? 0),
    },
  };
}

/**
 * Joins the tenant that captured the caller's (verified) email domain, with its default role, taking
 * a free seat in the same transaction. At the seat cap: `resource-exhausted`, nothing written, and no
 * tenant of the person's own either (submitSignup refuses an `auto` domain).
 */
export async function joinByDomain(db: Firestore, account: Account, input: unknown, now = new Date()) {
  const { tenantId } = parseOrThrow(TenantRefSchema, input);
  const email = requireVerifiedEmail(account, 'join your organisation');
  const captured = await capturedDomainOf(db, email);
  if (!captured || captured.tenantId !== tenantId) {
    throw new DomainError('permission-denied', `${emailDomain(email)} addresses cannot join this organisation by domain; ask an admin there for an invite`, {
      reason: 'no-domain-match',
    });
  }
  const ref = refs(db);
  return db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, db, tenantId, [account.uid]);
      // Re-read in the transaction: an admin may have turned joining off since the lookup.
      const claim = await tx.get(captured.claim.ref);
      const policy = claim.get('joinPolicy') as JoinPolicy;
      if (!claimHoldsDomain(claim.get('status')) || policy === 'off') {
        throw new DomainError('permission-denied', `${tenant.name} no longer lets ${captured.domain} addresses join by themselves; ask an admin for an invite`, {
          reason: 'no-domain-match',
        });
      }
      const existing = members.get(account.uid);
      if (existing) return { tenantId, role: existing.role, alreadyMember: true };
      checkTeamStatus('joinByDomain', tenant);
      const role = claim.get('defaultRole') as TenantRole;
      const seats = admitWithoutInvite(tenant.seats, tenant);
      tx.create(ref.member(tenantId, account.uid), {
        uid: account.uid,
        role,
        email,
        displayName: account.displayName ?? '',
        joinedAt: now,
        joinedVia: 'domain',
        domain: captured.domain,
      });
      writeSeats(tx, tenant, seats);
      return { tenantId, role, alreadyMember: false };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/**
 * A domain set to join automatically is the organisation's: nobody at it creates a separate one.
 * Called by submitSignup before it stores the form, so nothing is written.
 */
export async function refuseCapturedDomain(db: Firestore, email: string): Promise<void> {
  const captured = await capturedDomainOf(db, email);
  if (captured?.joinPolicy !== 'auto') return;
  throw new DomainError(
    'failed-precondition',
    `${captured.domain} belongs to an organisation that is already on Tenancy: people at ${captured.domain} join it rather than create their own. ` +
      'Verify your email address to join it, or ask its admin for an invite.',
    { reason: 'domain-captured', domain: captured.domain },
  );
}
