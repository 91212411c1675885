/**
 * The team: who may invite, accept, remove, change roles and transfer ownership, in which tenant
 * status, and the seat ledger that keeps members plus pending invites within the seat cap.
 * Pure and browser-safe (the web app shares its rules): no firebase, no node imports. functions/src/team/ loads, decides with these, and writes in one
 * transaction. See docs/team.md.
 */
import { z } from 'zod';
import { DomainError } from './errors';
import { escapeHtml, type OutgoingMail } from './mail';
import { PLANS, type PlanId } from './plans';
import { ASSIGNABLE_ROLES, roleRank, STATUS_ACCESS, statusAllowsWrite } from './policy';
import { TENANT_ROLES, type TenantRole, type TenantStatus } from './status';

export const DAY_MS = 86_400_000;


// ---------------------------------------------------------------------------------------------
// Input

/** Emails are compared trimmed and lower-cased, never otherwise rewritten (dots and +tags are part of the address). */
export const EmailSchema = z
  .string({ message: 'an email address' })
  .trim()
  .toLowerCase()
  .max(320, 'at most 320 characters')
  .pipe(z.email('a valid email address'));

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function emailDomain(email: string): string {
  return normaliseEmail(email).split('@').pop() ?? '';
}

const IdSchema = (what: string) => z.string({ message: `${what} (a document id)` }).regex(/^[A-Za-z0-9_-]{1,128}$/, `${what}: letters, digits, _ and -`);
export const TenantIdSchema = IdSchema('a tenant id');
export const UidSchema = IdSchema('a user id');
export const InviteIdSchema = IdSchema('an invite id');
/** The secret of an invite link: 43 base64url characters (256 bits). */
export const InviteTokenSchema = z.string({ message: 'the token from the invite link' }).regex(/^[A-Za-z0-9_-]{20,100}$/, 'the token from the invite link');

/** Roles a person can be given; `owner` changes hands only by transferOwnership. */
export const GIVABLE_ROLES = TENANT_ROLES.filter((role): role is Exclude<TenantRole, 'owner'> => role !== 'owner');
export const GivableRoleSchema = z.enum(GIVABLE_ROLES, {
  message: `one of ${GIVABLE_ROLES.join(', ')} (ownership moves only with transferOwnership)`,
});

export const InviteMemberSchema = z.object({ tenantId: TenantIdSchema, email: EmailSchema, role: GivableRoleSchema }).strict();
export const InviteRefSchema = z.object({ tenantId: TenantIdSchema, inviteId: InviteIdSchema }).strict();
export const AcceptInviteSchema = z.object({ tenantId: TenantIdSchema, inviteId: InviteIdSchema, token: InviteTokenSchema.optional() }).strict();
export const DescribeInviteSchema = z.object({ tenantId: TenantIdSchema, inviteId: InviteIdSchema, token: InviteTokenSchema }).strict();
export const MemberRefSchema = z.object({ tenantId: TenantIdSchema, uid: UidSchema }).strict();
export const ChangeMemberRoleSchema = z.object({ tenantId: TenantIdSchema, uid: UidSchema, role: GivableRoleSchema }).strict();
export const TenantRefSchema = z.object({ tenantId: TenantIdSchema }).strict();

/** The signed-in caller as the ID token describes them. */
export interface Account {
  uid: string;
  email: string | null;
  emailVerified: boolean;
  displayName?: string;
}

export function requireVerifiedEmail(account: Account, toDo: string): string {
  if (!account.email) throw new DomainError('failed-precondition', `Your account has no email address; add one before you ${toDo}`, { reason: 'no-email' });
  if (!account.emailVerified) {
    throw new DomainError('failed-precondition', `Verify your email address (${account.email}) before you ${toDo}: open the link we sent you, then sign in again`, {
      reason: 'email-unverified',
    });
  }
  return normaliseEmail(account.email);
}

// ---------------------------------------------------------------------------------------------
// Tenant status: what a billing state leaves the team

/**
 * `grow`: adds people, rights or claims: only where the tenant's status allows writes.
 * `shrink`: takes access away (or only looks): wherever someone can still see the tenant, so a
 * billing block never keeps a fired employee inside.
 */
export type TeamGate = 'grow' | 'shrink';

export const TEAM_ACTION_GATES = {
  inviteMember: 'grow',
  resendInvite: 'grow',
  acceptInvite: 'grow',
  joinByDomain: 'grow',
  raiseRole: 'grow',
  claimDomain: 'grow',
  setDomainJoinPolicy: 'grow',
  revokeInvite: 'shrink',
  removeMember: 'shrink',
  lowerRole: 'shrink',
  leaveTenant: 'shrink',
  // Handing billing to someone else is often how a blocked account gets paid again.
  transferOwnership: 'shrink',
  verifyDomain: 'shrink',
  // Giving a domain up takes growth away, so a blocked tenant can still free it for its rightful owner.
  unclaimDomain: 'shrink',
} as const satisfies Record<string, TeamGate>;
export type TeamAction = keyof typeof TEAM_ACTION_GATES;

const REMEDY: Partial<Record<TenantStatus, (billing: string) => string>> = {
  provisioning: () => 'it is still being set up; try again in a minute',
  trial_expired: (billing) => `the trial has ended: choose a plan on the billing page (${billing})`,
  past_due: (billing) => `a payment has failed: update the card on the billing page (${billing})`,
  suspended: (billing) => `the account is suspended: the owner can settle it on the billing page (${billing})`,
  cancelled: (billing) => `the subscription is cancelled: the owner can reactivate it on the billing page (${billing})`,
  failed: () => 'it was never set up (provisioning failed)',
};

export interface TenantState {
  name: string;
  status: TenantStatus;
  failedPaymentRetries: number;
  /** The tenant's billing page (plans.ts billingPath). */
  billingPath: string;
}

/** Whether the tenant's status lets it take `action` now (the status table in policy.ts decides). */
export function teamActionAllowed(action: TeamAction, tenant: Pick<TenantState, 'status' | 'failedPaymentRetries'>): boolean {
  return TEAM_ACTION_GATES[action] === 'grow' ? statusAllowsWrite(tenant.status, tenant.failedPaymentRetries) : STATUS_ACCESS[tenant.status].read !== 'none';
}

export function checkTeamStatus(action: TeamAction, tenant: TenantState): void {
  if (teamActionAllowed(action, tenant)) return;
  const remedy = REMEDY[tenant.status]?.(tenant.billingPath) ?? `its status is ${tenant.status}`;
  throw new DomainError('failed-precondition', `${tenant.name} cannot ${describeAction(action)} now: ${remedy}`, {
    reason: 'tenant-status',
    status: tenant.status,
  });
}

function describeAction(action: TeamAction): string {
  return (
    {
      inviteMember: 'invite people',
      resendInvite: 'resend invites',
      acceptInvite: 'take new members',
      joinByDomain: 'take new members',
      raiseRole: 'give more rights',
      claimDomain: 'claim domains',
      setDomainJoinPolicy: 'change how colleagues join',
      revokeInvite: 'revoke invites',
      removeMember: 'remove members',
      lowerRole: 'change roles',
      leaveTenant: 'be left',
      transferOwnership: 'change owner',
      verifyDomain: 'verify domains',
      unclaimDomain: 'give up domains',
    } satisfies Record<TeamAction, string>
  )[action];
}

// ---------------------------------------------------------------------------------------------
// Who may do what to whom (functions only: no client writes to members or invites)

const MANAGERS_OF_PEOPLE: readonly TenantRole[] = ['owner', 'admin'];

/** Owner and admin manage people and domains; everyone else is refused, saying why. */
export function requireManagerOfPeople(role: TenantRole | null, toDo: string): TenantRole {
  if (!role) throw new DomainError('permission-denied', `You are not a member of this organisation, so you cannot ${toDo}`, { reason: 'not-a-member' });
  if (!MANAGERS_OF_PEOPLE.includes(role)) {
    throw new DomainError('permission-denied', `Only the owner or an admin can ${toDo}; you are a ${role}`, { reason: 'role' });
  }
  return role;
}

/** Nobody invites above their own rank, and only the owner gives `admin` (ASSIGNABLE_ROLES). */
export function checkInvite(actorRole: TenantRole | null, role: TenantRole): void {
  const actor = requireManagerOfPeople(actorRole, 'invite people');
  if (!ASSIGNABLE_ROLES[actor].includes(role)) {
    throw new DomainError('permission-denied', `Only the owner can invite someone as ${role}; you can invite as ${ASSIGNABLE_ROLES[actor].join(', ')}`, {
      reason: 'role',
      field: 'role',
    });
  }
}

/** Revoking or resending an invite is managing that future member: an admin's invite is the owner's to manage. */
export function checkManageInvite(actorRole: TenantRole | null, inviteRole: TenantRole, toDo: string): void {
  const actor = requireManagerOfPeople(actorRole, toDo);
  if (!ASSIGNABLE_ROLES[actor].includes(inviteRole)) {
    throw new DomainError('permission-denied', `Only the owner can ${toDo} for an ${inviteRole}`, { reason: 'role' });
  }
}

export interface Person {
  uid: string;
  role: TenantRole;
}

export type RoleChange = 'same' | 'raise' | 'lower';

/** Returns whether the change raises or lowers the target's rights (the status gate differs), or throws why not. */
export function checkRoleChange(actor: Person | null, target: Person, newRole: TenantRole): RoleChange {
  const actorRole = requireManagerOfPeople(actor?.role ?? null, "change someone's role");
  if (target.role === 'owner') {
    throw new DomainError('failed-precondition', "The owner's role changes only by transferring ownership to another member", { reason: 'owner' });
  }
  if (actor!.uid === target.uid) throw new DomainError('permission-denied', 'Nobody changes their own role; ask the owner', { reason: 'self' });
  if (target.role === 'admin' && actorRole !== 'owner') {
    throw new DomainError('permission-denied', "Only the owner can change an admin's role", { reason: 'role' });
  }
  if (newRole === target.role) return 'same';
  if (!ASSIGNABLE_ROLES[actorRole].includes(newRole)) {
    throw new DomainError('permission-denied', `Only the owner can make someone ${newRole}; you can give ${ASSIGNABLE_ROLES[actorRole].join(', ')}`, {
      reason: 'role',
      field: 'role',
    });
  }
  return roleRank(newRole) < roleRank(target.role) ? 'raise' : 'lower';
}

export function checkRemoval(actor: Person | null, target: Person): void {
  if (actor && actor.uid === target.uid) {
    throw new DomainError('failed-precondition', 'To remove yourself, leave the organisation instead (leaveTenant)', { reason: 'self' });
  }
  const actorRole = requireManagerOfPeople(actor?.role ?? null, 'remove members');
  if (target.role === 'owner') {
    throw new DomainError('failed-precondition', 'The owner cannot be removed: the owner transfers ownership to another member first', { reason: 'owner' });
  }
  if (target.role === 'admin' && actorRole !== 'owner') throw new DomainError('permission-denied', 'Only the owner can remove an admin', { reason: 'role' });
}

export function checkLeave(member: Person | null): void {
  if (!member) throw new DomainError('not-found', 'You are not a member of this organisation', { reason: 'not-a-member' });
  if (member.role === 'owner') {
    throw new DomainError('failed-precondition', 'The owner cannot leave: transfer ownership to another member first, then leave', { reason: 'owner' });
  }
}

export function checkTransfer<T extends Person>(actor: Person | null, ownerUid: string, target: T | null, targetUid: string): T {
  if (!actor || actor.role !== 'owner' || actor.uid !== ownerUid) {
    throw new DomainError('permission-denied', 'Only the owner can transfer ownership', { reason: 'role' });
  }
  if (targetUid === actor.uid) throw new DomainError('invalid-argument', 'uid: you are the owner already; name another member', { field: 'uid' });
  if (!target) throw new DomainError('not-found', 'uid: ownership goes only to a member of this organisation; invite them first', { field: 'uid' });
  return target;
}

// ---------------------------------------------------------------------------------------------
// The seat ledger

/** Per-tenant counts (`tenants/{id}.seats`), changed in the same transaction as what they count. */
export interface SeatLedger {
  members: number;
  pendingInvites: number;
}

export interface SeatTerms {
  tenantName: string;
  /** The tenant's billing page, where seats are added. */
  billingPath: string;
  plan: PlanId;
  seatCap: number;
  pendingInviteLimit: number;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const planLabel = (plan: PlanId) => PLANS[plan]?.label ?? plan;

function seatDetails(ledger: SeatLedger, terms: SeatTerms, limit: 'seatCap' | 'pendingInviteLimit') {
  return {
    reason: limit === 'seatCap' ? 'seat-cap' : 'pending-invite-limit',
    limit,
    members: ledger.members,
    pendingInvites: ledger.pendingInvites,
    used: ledger.members + ledger.pendingInvites,
    seatCap: terms.seatCap,
    pendingInviteLimit: terms.pendingInviteLimit,
    plan: terms.plan,
    billingPath: terms.billingPath,
  };
}

function seatCapReached(ledger: SeatLedger, terms: SeatTerms): DomainError {
  return new DomainError(
    'resource-exhausted',
    `No seat left: all ${plural(terms.seatCap, 'seat')} of your ${planLabel(terms.plan)} plan are taken ` +
      `(${plural(ledger.members, 'member')}, ${plural(ledger.pendingInvites, 'pending invite')}). ` +
      `Revoke a pending invite or remove a member, or add seats on the billing page (${terms.billingPath}).`,
    seatDetails(ledger, terms, 'seatCap'),
  );
}

/** For the person joining (accept, join by domain): they cannot buy seats, their admin can. */
function noSeatForJoiner(ledger: SeatLedger, terms: SeatTerms): DomainError {
  return new DomainError(
    'resource-exhausted',
    `${terms.tenantName} has no free seat for you: all ${plural(terms.seatCap, 'seat')} are taken. Ask an admin of ${terms.tenantName} for a seat; ` +
      'once one is free, come back to this page.',
    { ...seatDetails(ledger, terms, 'seatCap'), audience: 'joiner' },
  );
}

/** A new pending invite reserves a seat: members + pending ≤ seatCap, pending ≤ the plan's pending-invite limit. */
export function reserveInviteSeat(ledger: SeatLedger, terms: SeatTerms): SeatLedger {
  if (ledger.members + ledger.pendingInvites + 1 > terms.seatCap) throw seatCapReached(ledger, terms);
  if (ledger.pendingInvites + 1 > terms.pendingInviteLimit) {
    throw new DomainError(
      'resource-exhausted',
      `Too many pending invites: your ${planLabel(terms.plan)} plan allows ${terms.pendingInviteLimit} at a time and ${plural(ledger.pendingInvites, 'is', 'are')} waiting. ` +
        `Revoke invites nobody will accept, or wait until people accept; larger plans allow more (${terms.billingPath}).`,
      seatDetails(ledger, terms, 'pendingInviteLimit'),
    );
  }
  return { members: ledger.members, pendingInvites: ledger.pendingInvites + 1 };
}

/**
 * An accepted invite turns its reserved seat into a member: counted once. The member count alone is
 * checked again, since the seat cap may have been lowered after the invite went out.
 */
export function acceptReservedSeat(ledger: SeatLedger, terms: SeatTerms): SeatLedger {
  if (ledger.members + 1 > terms.seatCap) throw noSeatForJoiner(ledger, terms);
  return { members: ledger.members + 1, pendingInvites: Math.max(0, ledger.pendingInvites - 1) };
}

/** Joining without an invite (by domain) needs a seat nobody has reserved. */
export function admitWithoutInvite(ledger: SeatLedger, terms: SeatTerms): SeatLedger {
  if (ledger.members + ledger.pendingInvites + 1 > terms.seatCap) throw noSeatForJoiner(ledger, terms);
  return { members: ledger.members + 1, pendingInvites: ledger.pendingInvites };
}

export function releaseInviteSeat(ledger: SeatLedger): SeatLedger {
  return { members: ledger.members, pendingInvites: Math.max(0, ledger.pendingInvites - 1) };
}

export function releaseMemberSeat(ledger: SeatLedger): SeatLedger {
  return { members: Math.max(0, ledger.members - 1), pendingInvites: ledger.pendingInvites };
}

/** What the team page shows: used of cap, and the pending part of it. */
export function seatUsage(ledger: SeatLedger, seatCap: number) {
  const used = ledger.members + ledger.pendingInvites;
  return { used, free: Math.max(0, seatCap - used), seatCap, ...ledger };
}

// ---------------------------------------------------------------------------------------------
// Invites

export const INVITE_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InviteStatus = (typeof INVITE_STATUSES)[number];

/** A second send of the same invite within this window is a double click, not a resend. */
export const RESEND_MIN_INTERVAL_MS = 60_000;

export interface StoredInvite {
  email: string;
  role: TenantRole;
  status: InviteStatus;
  expiresAt: Date;
  tokenHash: string;
  invitedBy: string;
  acceptedBy?: string | null;
  lastSentAt: Date;
  sendCount: number;
}

export function inviteExpiresAt(plan: PlanId, now: Date): Date {
  return new Date(now.getTime() + (PLANS[plan]?.inviteExpiryDays ?? 7) * DAY_MS);
}

/** A pending invite past its expiry is expired whether or not the sweep has marked it yet. */
export function effectiveInviteStatus(invite: Pick<StoredInvite, 'status' | 'expiresAt'>, now: Date): InviteStatus {
  return invite.status === 'pending' && invite.expiresAt.getTime() <= now.getTime() ? 'expired' : invite.status;
}

export function inviteLink(appUrl: string, tenantId: string, inviteId: string, token: string): string {
  return `${appUrl.replace(/\/+$/, '')}/invite/${encodeURIComponent(tenantId)}/${encodeURIComponent(inviteId)}?token=${token}`;
}

/** Shows the shape of an address without giving it away to someone who holds no link. */
export function maskEmail(email: string): string {
  const [local, domain] = email.split('@');
  return `${local.slice(0, 1)}${'•'.repeat(Math.max(1, Math.min(local.length - 1, 6)))}@${domain}`;
}

/**
 * May `account` accept `invite`? Distinct refusals for each reason a person can act on.
 * `linkProof`: the caller brought the invite's link secret (which only reached the invited mailbox).
 */
export function checkAcceptance(invite: StoredInvite, account: Account, linkProof: boolean, now: Date): 'accept' | 'replay' {
  if (!account.email) throw new DomainError('failed-precondition', 'Your account has no email address; sign up with the invited address', { reason: 'no-email' });
  const signedInAs = normaliseEmail(account.email);
  if (signedInAs !== invite.email) {
    const invited = linkProof ? invite.email : maskEmail(invite.email);
    throw new DomainError(
      'permission-denied',
      `This invite is for ${invited}, and you are signed in as ${signedInAs}. Sign out, then sign in or sign up as ${invited} to accept it.`,
      { reason: 'wrong-account', invitedEmail: invited, signedInAs },
    );
  }
  const status = effectiveInviteStatus(invite, now);
  if (status === 'accepted') {
    if (invite.acceptedBy === account.uid) return 'replay';
    throw new DomainError('failed-precondition', 'This invite has already been accepted; sign in with the account that accepted it', { reason: 'accepted' });
  }
  if (status === 'revoked') {
    throw new DomainError('failed-precondition', 'This invite was revoked by an admin; ask them for a new one if you should still join', { reason: 'revoked' });
  }
  if (status === 'expired') {
    throw new DomainError('failed-precondition', `This invite expired on ${invite.expiresAt.toISOString().slice(0, 10)}; ask whoever invited you to send a new one`, {
      reason: 'expired',
      expiresAt: invite.expiresAt.toISOString(),
    });
  }
  if (!account.emailVerified && !linkProof) {
    throw new DomainError('failed-precondition', `Verify ${signedInAs} first, or open the link in the invite mail: it proves the address is yours`, {
      reason: 'email-unverified',
    });
  }
  return 'accept';
}

export interface InviteMailInput {
  to: string;
  tenantId: string;
  tenantName: string;
  inviterName: string;
  role: TenantRole;
  link: string;
  expiresAt: Date;
}

export function inviteMail(input: InviteMailInput): OutgoingMail {
  const expires = input.expiresAt.toISOString().slice(0, 10);
  const article = /^[aeiou]/.test(input.role) ? 'an' : 'a';
  const subject = `${input.inviterName} invited you to ${input.tenantName}`;
  const text =
    `${input.inviterName} invited you to join ${input.tenantName} as ${article} ${input.role}.\n\n` +
    `Accept the invite: ${input.link}\n\n` +
    `Sign in or sign up as ${input.to}: the invite works only for this address. It expires on ${expires}.`;
  const html =
    `<p>${escapeHtml(input.inviterName)} invited you to join <strong>${escapeHtml(input.tenantName)}</strong> as ${article} ${escapeHtml(input.role)}.</p>` +
    `<p><a href="${escapeHtml(input.link)}">Accept the invite</a></p>` +
    `<p>Sign in or sign up as ${escapeHtml(input.to)}: the invite works only for this address. It expires on ${expires}.</p>`;
  return { to: input.to, tenantId: input.tenantId, message: { subject, text, html } };
}

/** Mail ids: one per send of an invite, so a retried transaction writes the same document. */
export const inviteMailId = (tenantId: string, inviteId: string, sendCount: number) => `invite-${tenantId}-${inviteId}-${sendCount}`;
