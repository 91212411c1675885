// The team's rules as pure functions: who may do what to whom, in which status, and the seat ledger.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../functions/src/domain/errors';
import { inviteTokenHash, newInviteToken, tokenMatches } from '../../functions/src/domain/inviteToken';
import { ASSIGNABLE_ROLES } from '../../functions/src/domain/policy';
import { TENANT_STATUSES, type TenantRole, type TenantStatus } from '../../functions/src/domain/status';
import {
  acceptReservedSeat,
  admitWithoutInvite,
  chargeInviteMail,
  checkResendAllowed,
  dailyCountOf,
  inviterNameFor,
  MAX_SENDS_PER_INVITE,
  RECIPIENT_INVITE_MAILS_PER_DAY,
  checkAcceptance,
  checkInvite,
  checkLeave,
  checkManageInvite,
  checkRemoval,
  checkRoleChange,
  checkTeamStatus,
  checkTransfer,
  effectiveInviteStatus,
  inviteLink,
  inviteMail,
  InviteMemberSchema,
  maskEmail,
  releaseInviteSeat,
  releaseMemberSeat,
  requireVerifiedEmail,
  reserveInviteSeat,
  TEAM_ACTION_GATES,
  type StoredInvite,
  type TeamAction,
} from '../../functions/src/domain/team';
import { parseOrThrow } from '../../functions/src/domain/validation';

/** The DomainError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

const person = (role: TenantRole, uid = `u-${role}`) => ({ uid, role });
const terms = { tenantName: 'Acme', billingPath: '/app/acme/billing', plan: 'starter' as const, seatCap: 5, pendingInviteLimit: 2 };

describe('who may invite whom', () => {
  it('owner invites admin and below; admin invites below admin; nobody else invites', () => {
    for (const role of ['admin', 'manager', 'member', 'viewer'] as const) expect(() => checkInvite('owner', role)).not.toThrow();
    for (const role of ['manager', 'member', 'viewer'] as const) expect(() => checkInvite('admin', role)).not.toThrow();
    const adminInvitingAdmin = refusal(() => checkInvite('admin', 'admin'));
    expect(adminInvitingAdmin.code).toBe('permission-denied');
    expect(adminInvitingAdmin.message).toMatch(/Only the owner can invite someone as admin/);
    for (const role of ['manager', 'member', 'viewer'] as const) {
      const refused = refusal(() => checkInvite(role, 'viewer'));
      expect(refused.code).toBe('permission-denied');
      expect(refused.message).toContain(`you are a ${role}`);
    }
    expect(refusal(() => checkInvite(null, 'viewer')).details?.reason).toBe('not-a-member');
  });

  it('nobody gives owner by invite: the schema refuses it and names the way ownership moves', () => {
    const refused = refusal(() => parseOrThrow(InviteMemberSchema, { tenantId: 't1', email: 'a@b.test', role: 'owner' }));
    expect(refused.code).toBe('invalid-argument');
    expect(refused.message).toMatch(/role: one of admin, manager, member, viewer \(ownership moves only with transferOwnership\)/);
  });

  it('emails are trimmed and lower-cased, and a bad one is named', () => {
    expect(parseOrThrow(InviteMemberSchema, { tenantId: 't1', email: '  Ada@Example.TEST ', role: 'member' }).email).toBe('ada@example.test');
    expect(refusal(() => parseOrThrow(InviteMemberSchema, { tenantId: 't1', email: 'not-an-email', role: 'member' })).message).toMatch(/^email: a valid email address/);
    expect(refusal(() => parseOrThrow(InviteMemberSchema, { tenantId: 't1', email: 'a@b.test', role: 'member', extra: 1 })).code).toBe('invalid-argument');
  });

  it("an admin's invite is the owner's to revoke or resend", () => {
    expect(() => checkManageInvite('owner', 'admin', 'revoke the invite')).not.toThrow();
    expect(refusal(() => checkManageInvite('admin', 'admin', 'revoke the invite')).message).toBe('Only the owner can revoke the invite for an admin');
    expect(() => checkManageInvite('admin', 'member', 'revoke the invite')).not.toThrow();
    expect(refusal(() => checkManageInvite('member', 'viewer', 'revoke the invite')).code).toBe('permission-denied');
  });

  it('the policy table gives admin only below admin', () => {
    expect(ASSIGNABLE_ROLES.owner).toEqual(['admin', 'manager', 'member', 'viewer']);
    expect(ASSIGNABLE_ROLES.admin).toEqual(['manager', 'member', 'viewer']);
    for (const role of ['manager', 'member', 'viewer'] as const) expect(ASSIGNABLE_ROLES[role]).toEqual([]);
  });
});

describe('roles, removal, leaving and ownership', () => {
  it('changing a role: raise or lower within what the actor may give; owner and admins are the owner’s', () => {
    expect(checkRoleChange(person('owner'), person('member'), 'admin')).toBe('raise');
    expect(checkRoleChange(person('owner'), person('admin'), 'viewer')).toBe('lower');
    expect(checkRoleChange(person('admin'), person('viewer'), 'manager')).toBe('raise');
    expect(checkRoleChange(person('admin'), person('manager'), 'manager')).toBe('same');
    expect(refusal(() => checkRoleChange(person('admin'), person('member'), 'admin')).message).toMatch(/Only the owner can make someone admin/);
    expect(refusal(() => checkRoleChange(person('admin'), person('admin', 'u-other-admin'), 'member')).message).toBe("Only the owner can change an admin's role");
    expect(refusal(() => checkRoleChange(person('owner'), person('owner', 'u-owner-2'), 'admin')).details?.reason).toBe('owner');
    expect(refusal(() => checkRoleChange(person('manager'), person('viewer'), 'member')).code).toBe('permission-denied');
  });

  it('nobody changes their own role (an admin promoting themselves included)', () => {
    const self = refusal(() => checkRoleChange(person('admin'), person('admin'), 'manager'));
    expect(self.code).toBe('permission-denied');
    expect(refusal(() => checkRoleChange(person('owner'), person('owner'), 'admin')).details?.reason).toBe('owner');
  });

  it('removal: owner removes anyone but the owner; admin removes below admin; self goes through leave', () => {
    expect(() => checkRemoval(person('owner'), person('admin'))).not.toThrow();
    expect(() => checkRemoval(person('admin'), person('viewer'))).not.toThrow();
    expect(refusal(() => checkRemoval(person('admin'), person('admin', 'u-2'))).message).toBe('Only the owner can remove an admin');
    expect(refusal(() => checkRemoval(person('admin'), person('owner'))).message).toMatch(/The owner cannot be removed/);
    expect(refusal(() => checkRemoval(person('member'), person('viewer'))).code).toBe('permission-denied');
    expect(refusal(() => checkRemoval(person('admin'), person('admin'))).details?.reason).toBe('self');
  });

  it('the last (only) owner never leaves; everyone else may', () => {
    expect(refusal(() => checkLeave(person('owner'))).message).toMatch(/transfer ownership to another member first/);
    for (const role of ['admin', 'manager', 'member', 'viewer'] as const) expect(() => checkLeave(person(role))).not.toThrow();
    expect(refusal(() => checkLeave(null)).code).toBe('not-found');
  });

  it('transfer: only the owner, to another existing member', () => {
    const target = { ...person('member'), email: 'm@acme.test' };
    expect(checkTransfer(person('owner'), 'u-owner', target, target.uid)).toBe(target);
    expect(refusal(() => checkTransfer(person('admin'), 'u-owner', target, target.uid)).code).toBe('permission-denied');
    // A membership that says owner is not enough: the tenant's ownerUid decides.
    expect(refusal(() => checkTransfer(person('owner'), 'u-someone-else', target, target.uid)).code).toBe('permission-denied');
    expect(refusal(() => checkTransfer(person('owner'), 'u-owner', null, 'u-stranger')).code).toBe('not-found');
    expect(refusal(() => checkTransfer(person('owner'), 'u-owner', person('owner'), 'u-owner')).code).toBe('invalid-argument');
  });

  it('inviting and claiming need a verified email', () => {
    expect(requireVerifiedEmail({ uid: 'u', email: 'A@b.test', emailVerified: true }, 'invite people')).toBe('a@b.test');
    const unverified = refusal(() => requireVerifiedEmail({ uid: 'u', email: 'a@b.test', emailVerified: false }, 'invite people'));
    expect(unverified.details?.reason).toBe('email-unverified');
    expect(unverified.message).toMatch(/Verify your email address \(a@b\.test\) before you invite people/);
  });
});

describe('what a tenant status leaves the team', () => {
  const tenant = (status: TenantStatus, failedPaymentRetries = 0) => ({ name: 'Acme', status, failedPaymentRetries, billingPath: '/app/acme/billing' });
  const grow = (Object.keys(TEAM_ACTION_GATES) as TeamAction[]).filter((a) => TEAM_ACTION_GATES[a] === 'grow');
  const shrink = (Object.keys(TEAM_ACTION_GATES) as TeamAction[]).filter((a) => TEAM_ACTION_GATES[a] === 'shrink');

  it('growing the team follows writes: trial, active, past_due before a failed retry', () => {
    for (const action of grow) {
      for (const status of TENANT_STATUSES) {
        const allowed = ['trial', 'active', 'past_due'].includes(status);
        if (allowed) expect(() => checkTeamStatus(action, tenant(status))).not.toThrow();
        else expect(refusal(() => checkTeamStatus(action, tenant(status))).details).toMatchObject({ reason: 'tenant-status', status });
      }
      expect(refusal(() => checkTeamStatus(action, tenant('past_due', 1))).message).toMatch(/update the card on the billing page \(\/app\/acme\/billing\)/);
    }
  });

  it('removing people and lowering roles work in every status where the tenant can be seen (a billing block keeps nobody inside)', () => {
    for (const action of shrink) {
      for (const status of ['trial', 'active', 'past_due', 'trial_expired', 'suspended', 'cancelled'] as const) {
        expect(() => checkTeamStatus(action, tenant(status, 3))).not.toThrow();
      }
      for (const status of ['provisioning', 'failed'] as const) expect(() => checkTeamStatus(action, tenant(status))).toThrow(DomainError);
    }
    expect(shrink).toEqual(expect.arrayContaining(['removeMember', 'lowerRole', 'revokeInvite', 'leaveTenant']));
    expect(grow).toEqual(expect.arrayContaining(['inviteMember', 'acceptInvite', 'raiseRole', 'joinByDomain']));
  });

  it('a trial_expired refusal says what to do', () => {
    expect(refusal(() => checkTeamStatus('inviteMember', tenant('trial_expired'))).message).toBe(
      'Acme cannot invite people now: the trial has ended: choose a plan on the billing page (/app/acme/billing)',
    );
  });
});

describe('the seat ledger', () => {
  it('an invite reserves a seat while members + pending stay within the cap', () => {
    expect(reserveInviteSeat({ members: 3, pendingInvites: 1 }, terms)).toEqual({ members: 3, pendingInvites: 2 });
    const full = refusal(() => reserveInviteSeat({ members: 4, pendingInvites: 1 }, { ...terms, pendingInviteLimit: 10 }));
    expect(full.code).toBe('resource-exhausted');
    expect(full.message).toBe(
      'No seat left: all 5 seats of your Starter plan are taken (4 members, 1 pending invite). Revoke a pending invite or remove a member, or add seats on the billing page (/app/acme/billing).',
    );
    expect(full.details).toMatchObject({ reason: 'seat-cap', limit: 'seatCap', members: 4, pendingInvites: 1, used: 5, seatCap: 5, plan: 'starter', billingPath: '/app/acme/billing' });
  });

  it("pending invites stay within the plan's pending-invite limit, even with seats free", () => {
    const refused = refusal(() => reserveInviteSeat({ members: 1, pendingInvites: 2 }, terms));
    expect(refused.code).toBe('resource-exhausted');
    expect(refused.details).toMatchObject({ reason: 'pending-invite-limit', pendingInviteLimit: 2, pendingInvites: 2 });
    expect(refused.message).toMatch(/allows 2 at a time and 2 are waiting/);
  });

  it('accepting turns the reserved seat into a member, counted once; a lowered cap still holds', () => {
    expect(acceptReservedSeat({ members: 2, pendingInvites: 3 }, terms)).toEqual({ members: 3, pendingInvites: 2 });
    const lowered = refusal(() => acceptReservedSeat({ members: 3, pendingInvites: 2 }, { ...terms, seatCap: 3 }));
    expect(lowered.code).toBe('resource-exhausted');
    expect(lowered.message).toMatch(/^Acme has no free seat for you: all 3 seats are taken\. Ask an admin of Acme for a seat/);
    expect(lowered.details).toMatchObject({ reason: 'seat-cap', audience: 'joiner' });
  });

  it('joining without an invite needs a seat nobody reserved', () => {
    expect(admitWithoutInvite({ members: 3, pendingInvites: 1 }, terms)).toEqual({ members: 4, pendingInvites: 1 });
    expect(refusal(() => admitWithoutInvite({ members: 4, pendingInvites: 1 }, terms)).details).toMatchObject({ reason: 'seat-cap', audience: 'joiner' });
  });

  it('releasing frees a seat and never counts below zero', () => {
    expect(releaseInviteSeat({ members: 2, pendingInvites: 1 })).toEqual({ members: 2, pendingInvites: 0 });
    expect(releaseInviteSeat({ members: 2, pendingInvites: 0 })).toEqual({ members: 2, pendingInvites: 0 });
    expect(releaseMemberSeat({ members: 2, pendingInvites: 1 })).toEqual({ members: 1, pendingInvites: 1 });
  });
});

describe('invites', () => {
  const now = new Date('2027-03-01T12:00:00Z');
  const invite = (overrides: Partial<StoredInvite> = {}): StoredInvite => ({
    email: 'new@acme.test',
    role: 'member',
    status: 'pending',
    expiresAt: new Date('2027-03-05T00:00:00Z'),
    tokenHash: inviteTokenHash('x'.repeat(43)),
    invitedBy: 'u-owner',
    lastSentAt: new Date('2027-02-26T00:00:00Z'),
    sendCount: 1,
    ...overrides,
  });
  const me = { uid: 'u-new', email: 'New@Acme.test', emailVerified: true };

  it('a pending invite past its expiry is expired, swept or not', () => {
    expect(effectiveInviteStatus(invite(), now)).toBe('pending');
    expect(effectiveInviteStatus(invite({ expiresAt: now }), now)).toBe('expired');
    expect(effectiveInviteStatus(invite({ status: 'revoked', expiresAt: new Date(0) }), now)).toBe('revoked');
  });

  it('accepting: distinct refusals for wrong account, expired, revoked and accepted by someone else', () => {
    expect(checkAcceptance(invite(), me, false, now)).toBe('accept');
    const wrong = refusal(() => checkAcceptance(invite(), { ...me, email: 'other@elsewhere.test' }, true, now));
    expect(wrong.code).toBe('permission-denied');
    expect(wrong.details).toMatchObject({ reason: 'wrong-account', invitedEmail: 'new@acme.test', signedInAs: 'other@elsewhere.test' });
    // Without the link, the invited address is not given away.
    expect(refusal(() => checkAcceptance(invite(), { ...me, email: 'other@elsewhere.test' }, false, now)).message).toContain('n••@acme.test');
    expect(refusal(() => checkAcceptance(invite({ expiresAt: new Date('2027-02-28T00:00:00Z') }), me, true, now)).details).toMatchObject({ reason: 'expired' });
    expect(refusal(() => checkAcceptance(invite({ status: 'revoked' }), me, true, now)).details).toMatchObject({ reason: 'revoked' });
    expect(refusal(() => checkAcceptance(invite({ status: 'accepted', acceptedBy: 'u-someone' }), me, true, now)).details).toMatchObject({ reason: 'accepted' });
    // Accepted by this very account: a replay (a double click), not an error.
    expect(checkAcceptance(invite({ status: 'accepted', acceptedBy: 'u-new' }), me, true, now)).toBe('replay');
  });

  it('an unverified address needs the link (which proves the mailbox) or a verification', () => {
    const unverified = { ...me, emailVerified: false };
    expect(checkAcceptance(invite(), unverified, true, now)).toBe('accept');
    expect(refusal(() => checkAcceptance(invite(), unverified, false, now)).details).toMatchObject({ reason: 'email-unverified' });
  });

  it('link tokens: 256 random bits, only the hash stored, compared in constant time', () => {
    const { token, tokenHash } = newInviteToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokenHash).not.toContain(token);
    expect(tokenMatches(token, tokenHash)).toBe(true);
    expect(tokenMatches(newInviteToken().token, tokenHash)).toBe(false);
    expect(newInviteToken().token).not.toBe(token);
  });

  it('the mail names the tenant, the inviter, the role and the address, with the link and the expiry', () => {
    const link = inviteLink('http://127.0.0.1:5000/', 't1', 'i1', 'tok');
    expect(link).toBe('http://127.0.0.1:5000/invite/t1/i1?token=tok');
    const mail = inviteMail({ to: 'new@acme.test', tenantId: 't1', tenantName: 'Acme <Robots>', inviterName: 'Olive', role: 'admin', link, expiresAt: new Date('2027-03-08T00:00:00Z') });
    expect(mail.to).toBe('new@acme.test');
    expect(mail.message.subject).toBe('Olive invited you to Acme <Robots>');
    expect(mail.message.text).toContain('as an admin');
    expect(mail.message.text).toContain(link);
    expect(mail.message.text).toContain('2027-03-08');
    expect(mail.message.html).toContain('Acme &#60;Robots&#62;');
    expect(mail.message.html).not.toContain('<Robots>');
  });

  it('masks addresses', () => {
    expect(maskEmail('ada@example.test')).toBe('a••@example.test');
    expect(maskEmail('a@example.test')).toBe('a•@example.test');
  });
});

describe('M4: invite mail quotas and the inviter name', () => {
  const now = new Date('2027-03-01T23:59:59Z');
  const terms = { tenantName: 'Acme', plan: 'starter' as const, billingPath: '/app/acme/billing' };
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return { code: (error as DomainError).code, reason: (error as DomainError).details?.reason };
    }
    return null;
  };

  it('M4: a daily count is per UTC day: another day stored counts as none today', () => {
    expect(dailyCountOf({ day: '2027-03-01', sent: 7 }, now)).toEqual({ day: '2027-03-01', sent: 7 });
    expect(dailyCountOf({ day: '2027-02-28', sent: 7 }, now)).toEqual({ day: '2027-03-01', sent: 0 });
    expect(dailyCountOf(undefined, now)).toEqual({ day: '2027-03-01', sent: 0 });
    expect(dailyCountOf({ day: '2027-03-01', sent: 'x' }, now)).toEqual({ day: '2027-03-01', sent: 0 });
  });

  it("M4: the tenant's quota follows its plan, the address's is the same for everyone; each refusal says which and when", () => {
    const day = '2027-03-01';
    expect(chargeInviteMail({ tenant: { day, sent: 49 }, recipient: { day, sent: 0 } }, terms, 'x@y.test')).toEqual({ tenant: { day, sent: 50 }, recipient: { day, sent: 1 } });
    expect(refusal(() => chargeInviteMail({ tenant: { day, sent: 50 }, recipient: { day, sent: 0 } }, terms, 'x@y.test'))).toEqual({ code: 'resource-exhausted', reason: 'tenant-daily-invite-mails' });
    expect(refusal(() => chargeInviteMail({ tenant: { day, sent: 50 }, recipient: { day, sent: 0 } }, { ...terms, plan: 'team' }, 'x@y.test'))).toBeNull();
    expect(refusal(() => chargeInviteMail({ tenant: { day, sent: 0 }, recipient: { day, sent: RECIPIENT_INVITE_MAILS_PER_DAY } }, terms, 'x@y.test'))).toEqual({
      code: 'resource-exhausted',
      reason: 'recipient-daily-invite-mails',
    });
  });

  it('M4: the resend cap counts every send of the invite', () => {
    expect(refusal(() => checkResendAllowed({ email: 'x@y.test', sendCount: MAX_SENDS_PER_INVITE - 1 }))).toBeNull();
    expect(refusal(() => checkResendAllowed({ email: 'x@y.test', sendCount: MAX_SENDS_PER_INVITE }))).toEqual({ code: 'resource-exhausted', reason: 'invite-send-limit' });
  });

  it('M4: the inviter is named only by a plain name of at most 60 characters, else by their verified address', () => {
    for (const name of ['Olivia Owner', 'José Ñúñez', 'Zoë O’Brien-Smith', 'J. R. Tolkien', 'Smith Jr.', '李小龍', '  Olivia   Owner  ']) {
      expect(inviterNameFor(name, 'Olivia@Acme.test'), name).toBe(name.replace(/ +/g, ' ').trim());
    }
    for (const name of ['', null, undefined, 'evil.test', 'Visit www.evil.test', 'https://evil.test', 'Call 555 0100', 'Olivia\nBcc: x', 'Olivia\u0007', 'Olivia\u202Eevil', 'a@b', '<b>Olivia</b>', 'O'.repeat(61), '--', "''"]) {
      expect(inviterNameFor(name, 'Olivia@Acme.test'), String(name)).toBe('olivia@acme.test');
    }
  });
});
