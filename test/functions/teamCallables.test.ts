// The team callables as the web app calls them (real web SDK → Functions emulator → Firestore and
// Auth emulators): each one's permission and bad-input refusals, with the whole database unchanged
// after every refusal, beside what it does when allowed.
import { beforeEach, describe, expect, it } from 'vitest';
import { acceptInvite as acceptInProcess, inviteMember as inviteInProcess, resendInvite as resendInProcess } from '../../functions/src/team/invites';
import { auth, clearEmulators, db } from '../helpers/emulators';
import { client } from '../helpers/callables';
import { account, APP_URL, expectLedgerConsistent, expectNothingWritten, inviteLinkOf, seatsOf, seedTeam } from '../helpers/team';
import type { Caller } from '../helpers/emulators';

const TEAM = {
  'owner@acme.test': 'owner',
  'admin@acme.test': 'admin',
  'manager@acme.test': 'manager',
  'member@acme.test': 'member',
  'viewer@acme.test': 'viewer',
} as const;

/** Expects the call to be refused with `code` (and `reason`, when given), and nothing written. */
async function refused(call: () => Promise<unknown>, code: string, match: { reason?: string; message?: RegExp } = {}) {
  const error = (await expectNothingWritten(call)) as { code: string; message: string; details?: { reason?: string } };
  expect(error.code, error.message).toBe(`functions/${code}`);
  if (match.reason) expect(error.details?.reason, error.message).toBe(match.reason);
  if (match.message) expect(error.message).toMatch(match.message);
  return error;
}

/** The id of the pending invite to `email` in the tenant. */
async function inviteIdFor(tenantId: string, email: string): Promise<string> {
  return (await db.collection(`tenants/${tenantId}/invites`).where('email', '==', email).where('status', '==', 'pending').get()).docs[0].id;
}

let callers: Record<string, Caller>;
async function as(email: string): Promise<Caller> {
  callers[email] ??= await client(email);
  return callers[email];
}

describe('inviteMember', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  it('owner invites: the invite (address normalised, no token stored), its mail with the link, one seat reserved', async () => {
    const { tenantId } = await seedTeam('t-inv', TEAM, { seatCap: 10 });
    const owner = await as('owner@acme.test');
    const result = await owner.call<{ inviteId: string; outcome: string; seats: unknown }>('inviteMember', { tenantId, email: '  New.Person@ACME.test ', role: 'manager' });
    expect(result).toMatchObject({ email: 'new.person@acme.test', role: 'manager', status: 'pending', outcome: 'new', seats: { used: 6, free: 4, seatCap: 10, members: 5, pendingInvites: 1 } });
    const invite = (await db.doc(`tenants/${tenantId}/invites/${result.inviteId}`).get()).data()!;
    expect(invite).toMatchObject({ email: 'new.person@acme.test', role: 'manager', status: 'pending', invitedBy: owner.uid, sendCount: 1 });
    const days = (invite.expiresAt.toDate().getTime() - invite.createdAt.toDate().getTime()) / 86_400_000;
    expect(days).toBe(7);
    const { link, token } = await inviteLinkOf(result.inviteId);
    expect(link).toBe(`${APP_URL}/invite/${tenantId}/${result.inviteId}?token=${token}`);
    expect(JSON.stringify(invite)).not.toContain(token);
    const mail = (await db.collection('mail').where('inviteId', '==', result.inviteId).get()).docs[0].data();
    expect(mail).toMatchObject({ to: 'new.person@acme.test', tenantId, message: { subject: expect.stringContaining('invited you to') } });
    expect(await seatsOf(tenantId)).toEqual({ members: 5, pendingInvites: 1 });
  });

  it('refuses the unauthenticated, bad input, roles that may not invite, and an admin inviting an admin, writing nothing', async () => {
    const { tenantId } = await seedTeam('t-inv-refusals', TEAM, { seatCap: 10 });
    const anonymous = await client('');
    await refused(() => anonymous.call('inviteMember', { tenantId, email: 'x@acme.test', role: 'member' }), 'unauthenticated');
    const owner = await as('owner@acme.test');
    await refused(() => owner.call('inviteMember', { tenantId, role: 'member' }), 'invalid-argument', { message: /^email: an email address/ });
    await refused(() => owner.call('inviteMember', { tenantId, email: 'not-an-email', role: 'member' }), 'invalid-argument', { message: /email: a valid email address/ });
    await refused(() => owner.call('inviteMember', { tenantId, email: 'x@acme.test', role: 'owner' }), 'invalid-argument', { message: /role: one of admin, manager, member, viewer/ });
    await refused(() => owner.call('inviteMember', { tenantId, email: 'x@acme.test', role: 'member', seats: 99 }), 'invalid-argument');
    await refused(() => owner.call('inviteMember', { tenantId: '../other', email: 'x@acme.test', role: 'member' }), 'invalid-argument', { message: /^tenantId: / });
    await refused(() => owner.call('inviteMember', 'x@acme.test'), 'invalid-argument');
    for (const email of ['manager@acme.test', 'member@acme.test', 'viewer@acme.test']) {
      await refused(async () => (await as(email)).call('inviteMember', { tenantId, email: 'x@acme.test', role: 'viewer' }), 'permission-denied', { message: /Only the owner or an admin can invite people/ });
    }
    await refused(async () => (await as('admin@acme.test')).call('inviteMember', { tenantId, email: 'x@acme.test', role: 'admin' }), 'permission-denied', { message: /Only the owner can invite someone as admin/ });
    await account('outsider@else.test');
    await refused(async () => (await as('outsider@else.test')).call('inviteMember', { tenantId, email: 'x@acme.test', role: 'viewer' }), 'permission-denied', { reason: 'not-a-member' });
    await refused(() => owner.call('inviteMember', { tenantId: 'no-such-tenant', email: 'x@acme.test', role: 'viewer' }), 'not-found');
  });

  it("needs the inviter's verified email", async () => {
    const { tenantId, people } = await seedTeam('t-inv-unverified', TEAM, { seatCap: 10 });
    await auth.updateUser(people.owner.uid, { emailVerified: false });
    await refused(async () => (await as('owner@acme.test')).call('inviteMember', { tenantId, email: 'x@acme.test', role: 'viewer' }), 'failed-precondition', { reason: 'email-unverified' });
  });

  it('an existing member is "already a member"; a pending address gets its invite again', async () => {
    const { tenantId, people } = await seedTeam('t-inv-again', TEAM, { seatCap: 10 });
    const owner = await as('owner@acme.test');
    await refused(() => owner.call('inviteMember', { tenantId, email: 'Member@acme.test', role: 'viewer' }), 'already-exists', { message: /member@acme\.test is already a member/ });
    const first = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'twice@acme.test', role: 'member' });
    const firstLink = await inviteLinkOf(first.inviteId);
    // Moments later (a double click): the same pending invite, nothing sent again.
    expect(await owner.call('inviteMember', { tenantId, email: 'twice@acme.test', role: 'member' })).toMatchObject({ inviteId: first.inviteId, outcome: 'unchanged' });
    // Later on: sent again with a new link and a new expiry; still one seat.
    const later = new Date(Date.now() + 5 * 60_000);
    const again = await inviteInProcess({ db, auth, appUrl: APP_URL }, people.owner, { tenantId, email: 'twice@acme.test', role: 'viewer' }, later);
    expect(again).toMatchObject({ inviteId: first.inviteId, outcome: 'resent', role: 'viewer' });
    const secondLink = await inviteLinkOf(first.inviteId);
    expect(secondLink.token).not.toBe(firstLink.token);
    expect(await seatsOf(tenantId)).toEqual({ members: 5, pendingInvites: 1 });
    // The replaced link says so.
    const twice = await client('twice@acme.test');
    await refused(() => twice.call('acceptInvite', { tenantId, inviteId: first.inviteId, token: firstLink.token }), 'permission-denied', { reason: 'link-replaced' });
  });

  it('at the seat cap: which limit, how many are used, what the plan allows, where to get more', async () => {
    const { tenantId } = await seedTeam('t-inv-full', TEAM); // 5 members of the starter plan's 5 seats
    await refused(async () => (await as('owner@acme.test')).call('inviteMember', { tenantId, email: 'sixth@acme.test', role: 'viewer' }), 'resource-exhausted', {
      reason: 'seat-cap',
      message: /^No seat left: all 5 seats of your Starter plan are taken \(5 members, 0 pending invites\)\..*billing page \(\/app\/t-inv-full\/billing\)/,
    });
  });

  it('growing the team follows the billing state: refused in trial_expired and after a failed payment retry', async () => {
    for (const [status, failedPaymentRetries, remedy] of [
      ['trial_expired', 0, /the trial has ended: choose a plan/],
      ['past_due', 1, /a payment has failed: update the card/],
    ] as const) {
      await clearEmulators();
      callers = {};
      const { tenantId } = await seedTeam(`t-inv-${status}`, TEAM, { status, failedPaymentRetries, seatCap: 10 });
      await refused(async () => (await as('owner@acme.test')).call('inviteMember', { tenantId, email: 'x@acme.test', role: 'viewer' }), 'failed-precondition', {
        reason: 'tenant-status',
        message: remedy,
      });
    }
  });
});

describe('acceptInvite and describeInvite', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  async function invited(email: string, role = 'member', overrides = {}) {
    const { tenantId, people } = await seedTeam('t-acc', TEAM, { seatCap: 10, ...overrides });
    const { inviteId } = await (await as('owner@acme.test')).call<{ inviteId: string }>('inviteMember', { tenantId, email, role });
    return { tenantId, inviteId, people, ...(await inviteLinkOf(inviteId)) };
  }

  it('a person who signs up through the link joins with the invited role, their address verified, and gets no tenant of their own', async () => {
    const { tenantId, inviteId, token } = await invited('newbie@acme.test', 'manager');
    // Before signing in, the link shows what it invites to.
    const anonymous = await client('');
    expect(await anonymous.call('describeInvite', { tenantId, inviteId, token })).toMatchObject({
      tenantName: `Tenant ${tenantId}`,
      email: 'newbie@acme.test',
      role: 'manager',
      status: 'pending',
      invitedByName: 'owner',
    });
    // A brand-new account, unverified; the Auth trigger fires for it as for any signup.
    const newbie = await client('newbie@acme.test');
    expect((await auth.getUser(newbie.uid)).emailVerified).toBe(false);
    expect(await newbie.call('acceptInvite', { tenantId, inviteId, token })).toEqual({ tenantId, role: 'manager', alreadyMember: false });
    expect((await db.doc(`tenants/${tenantId}/members/${newbie.uid}`).get()).data()).toMatchObject({ role: 'manager', email: 'newbie@acme.test', joinedVia: 'invite', inviteId });
    expect((await db.doc(`tenants/${tenantId}/invites/${inviteId}`).get()).data()).toMatchObject({ status: 'accepted', acceptedBy: newbie.uid });
    expect((await auth.getUser(newbie.uid)).emailVerified).toBe(true);
    expect(await seatsOf(tenantId)).toEqual({ members: 6, pendingInvites: 0 });
    // A double click replays; the Auth trigger has run for the new account and provisioned nothing.
    expect(await newbie.call('acceptInvite', { tenantId, inviteId, token })).toMatchObject({ alreadyMember: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await db.collection('tenants').count().get()).data().count).toBe(1);
    expect((await db.collectionGroup('members').where('uid', '==', newbie.uid).get()).docs.map((d) => d.ref.parent.parent!.id)).toEqual([tenantId]);
    await expectLedgerConsistent([tenantId]);
  });

  it('H2: the address the link proved is the one verified, even when the account changed its email after it was read', async () => {
    const { tenantId, inviteId, token } = await invited('a2@acme.test');
    const racer = await client('a2@acme.test');
    // The callable read the account as a2@acme.test (unverified); the email changes before its Auth update.
    const readBeforeTheChange = { uid: racer.uid, email: 'a2@acme.test', emailVerified: false };
    await auth.updateUser(racer.uid, { email: 'ceo@victim.test' });
    await acceptInProcess({ db, auth }, readBeforeTheChange, { tenantId, inviteId, token });
    const user = await auth.getUser(racer.uid);
    expect({ email: user.email, emailVerified: user.emailVerified }).toEqual({ email: 'a2@acme.test', emailVerified: true });
    expect((await auth.listUsers()).users.filter((u) => u.email === 'ceo@victim.test')).toEqual([]);
  });

  it('H2: a replay of an accepted invite proves nothing again: an unverified account stays unverified, its email untouched', async () => {
    const { tenantId, inviteId, token } = await invited('again@acme.test');
    const person = await client('again@acme.test');
    await person.call('acceptInvite', { tenantId, inviteId, token });
    expect((await auth.getUser(person.uid)).emailVerified).toBe(true);
    // Later the account is unverified again (say, by an email change and back); replaying the link must not verify it.
    await auth.updateUser(person.uid, { emailVerified: false });
    expect(await person.call('acceptInvite', { tenantId, inviteId, token })).toMatchObject({ tenantId, alreadyMember: true });
    await acceptInProcess({ db, auth }, { uid: person.uid, email: 'again@acme.test', emailVerified: false }, { tenantId, inviteId, token });
    const user = await auth.getUser(person.uid);
    expect({ email: user.email, emailVerified: user.emailVerified }).toEqual({ email: 'again@acme.test', emailVerified: false });
  });

  it('signed in as another account: refused, naming both addresses; nothing written', async () => {
    const { tenantId, inviteId, token } = await invited('right@acme.test');
    await account('wrong@elsewhere.test');
    await refused(async () => (await as('wrong@elsewhere.test')).call('acceptInvite', { tenantId, inviteId, token }), 'permission-denied', {
      reason: 'wrong-account',
      message: /This invite is for right@acme\.test, and you are signed in as wrong@elsewhere\.test/,
    });
  });

  it('expired, revoked and already accepted: each its own refusal; nothing written', async () => {
    const { tenantId, inviteId, token } = await invited('late@acme.test');
    const late = await client('late@acme.test');
    await db.doc(`tenants/${tenantId}/invites/${inviteId}`).update({ expiresAt: new Date(Date.now() - 1000) });
    await refused(() => late.call('acceptInvite', { tenantId, inviteId, token }), 'failed-precondition', { reason: 'expired', message: /This invite expired on .*send a new one/ });
    expect(await late.call('describeInvite', { tenantId, inviteId, token })).toMatchObject({ status: 'expired' });

    const second = await (await as('owner@acme.test')).call<{ inviteId: string }>('inviteMember', { tenantId, email: 'gone@acme.test', role: 'member' });
    const secondLink = await inviteLinkOf(second.inviteId);
    await (await as('admin@acme.test')).call('revokeInvite', { tenantId, inviteId: second.inviteId });
    const gone = await client('gone@acme.test');
    await refused(() => gone.call('acceptInvite', { tenantId, inviteId: second.inviteId, token: secondLink.token }), 'failed-precondition', { reason: 'revoked' });

    const third = await (await as('owner@acme.test')).call<{ inviteId: string }>('inviteMember', { tenantId, email: 'shared@acme.test', role: 'member' });
    const thirdLink = await inviteLinkOf(third.inviteId);
    const sharer = await client('shared@acme.test');
    await sharer.call('acceptInvite', { tenantId, inviteId: third.inviteId, token: thirdLink.token });
    // The same address in another account (it changed hands): the invite is used up.
    await auth.updateUser(sharer.uid, { email: 'renamed@acme.test' });
    const reused = await account('shared@acme.test');
    const other = await client('shared@acme.test');
    expect(other.uid).toBe(reused.uid);
    await refused(() => other.call('acceptInvite', { tenantId, inviteId: third.inviteId, token: thirdLink.token }), 'failed-precondition', { reason: 'accepted' });
  });

  it('without the link, an unverified address must verify first; a bad token or id is refused', async () => {
    const { tenantId, inviteId, token } = await invited('noverify@acme.test');
    const person = await client('noverify@acme.test');
    await refused(() => person.call('acceptInvite', { tenantId, inviteId }), 'failed-precondition', { reason: 'email-unverified' });
    await refused(() => person.call('acceptInvite', { tenantId, inviteId, token: 'short' }), 'invalid-argument', { message: /^token: / });
    await refused(() => person.call('acceptInvite', { tenantId, inviteId: 'nope', token }), 'not-found');
    const anonymous = await client('');
    await refused(() => anonymous.call('acceptInvite', { tenantId, inviteId, token }), 'unauthenticated');
    await refused(() => anonymous.call('describeInvite', { tenantId, inviteId }), 'invalid-argument', { message: /^token: / });
    await refused(() => anonymous.call('describeInvite', { tenantId, inviteId, token: 'A'.repeat(43) }), 'permission-denied', { reason: 'link-replaced' });
  });

  it('a tenant whose trial ended takes no new members; the invitee is told why', async () => {
    const { tenantId, inviteId, token } = await invited('blocked@acme.test');
    await db.doc(`tenants/${tenantId}`).update({ status: 'trial_expired' });
    const person = await client('blocked@acme.test');
    await refused(() => person.call('acceptInvite', { tenantId, inviteId, token }), 'failed-precondition', { reason: 'tenant-status' });
  });
});

describe('revokeInvite and resendInvite', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  it('revoke frees the seat, is idempotent, and is allowed while billing blocks growth; resend is not', async () => {
    const { tenantId } = await seedTeam('t-rev', TEAM, { seatCap: 10 });
    const owner = await as('owner@acme.test');
    const { inviteId } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'x@acme.test', role: 'member' });
    const { inviteId: adminInvite } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'boss@acme.test', role: 'admin' });
    await db.doc(`tenants/${tenantId}`).update({ status: 'trial_expired' });
    await refused(() => owner.call('resendInvite', { tenantId, inviteId }), 'failed-precondition', { reason: 'tenant-status' });
    await refused(async () => (await as('member@acme.test')).call('revokeInvite', { tenantId, inviteId }), 'permission-denied');
    await refused(async () => (await as('admin@acme.test')).call('revokeInvite', { tenantId, inviteId: adminInvite }), 'permission-denied', { message: /Only the owner can revoke the invite for an admin/ });
    await refused(() => owner.call('revokeInvite', { tenantId, inviteId: 'missing' }), 'not-found');
    await refused(() => owner.call('revokeInvite', { tenantId }), 'invalid-argument', { message: /^inviteId: / });
    expect(await (await as('admin@acme.test')).call('revokeInvite', { tenantId, inviteId })).toMatchObject({ status: 'revoked', changed: true });
    expect(await owner.call('revokeInvite', { tenantId, inviteId })).toMatchObject({ status: 'revoked', changed: false });
    expect(await seatsOf(tenantId)).toEqual({ members: 5, pendingInvites: 1 });
    await expectLedgerConsistent([tenantId]);
  });

  it('resend sends a new link a minute after the last one; refused for invites that are not pending', async () => {
    const { tenantId } = await seedTeam('t-resend', TEAM, { seatCap: 10 });
    const owner = await as('owner@acme.test');
    const { inviteId } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'x@acme.test', role: 'member' });
    expect(await owner.call('resendInvite', { tenantId, inviteId })).toMatchObject({ sent: false });
    await db.doc(`tenants/${tenantId}/invites/${inviteId}`).update({ lastSentAt: new Date(Date.now() - 120_000) });
    expect(await owner.call('resendInvite', { tenantId, inviteId })).toMatchObject({ sent: true });
    expect((await db.collection('mail').where('inviteId', '==', inviteId).count().get()).data().count).toBe(2);
    await refused(async () => (await as('viewer@acme.test')).call('resendInvite', { tenantId, inviteId }), 'permission-denied');
    await owner.call('revokeInvite', { tenantId, inviteId });
    await refused(() => owner.call('resendInvite', { tenantId, inviteId }), 'failed-precondition', { reason: 'revoked', message: /Invite x@acme\.test again instead/ });
  });
});

describe('M4: invite mail is not a relay', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  const deps = () => ({ db, auth, appUrl: APP_URL });
  const at = (iso: string) => new Date(iso);
  const mailsTo = async (email: string) => (await db.collection('mail').where('to', '==', email).count().get()).data().count;
  /** In-process refusals (they run at a chosen time): the code and reason, and nothing written at all. */
  async function refusedAt(call: () => Promise<unknown>, reason: string, message: RegExp) {
    const error = (await expectNothingWritten(call)) as { code: string; message: string; details?: { reason?: string } };
    expect({ code: error.code, reason: error.details?.reason }, error.message).toEqual({ code: 'resource-exhausted', reason });
    expect(error.message).toMatch(message);
  }

  it("M4: the tenant's daily quota of invite mails (by plan): the next invite is refused, nothing written and no mail; the next day it goes", async () => {
    const { tenantId } = await seedTeam('t-quota-tenant', TEAM, { seatCap: 20 });
    const owner = await as('owner@acme.test');
    await owner.call('inviteMember', { tenantId, email: 'first@acme.test', role: 'member' });
    expect((await db.doc(`tenants/${tenantId}`).get()).get('inviteMails')).toEqual({ day: new Date().toISOString().slice(0, 10), sent: 1 });
    // The starter plan sends 50 a day: as if 49 more had gone out today.
    await db.doc(`tenants/${tenantId}`).update({ 'inviteMails.sent': 50 });
    await refused(() => owner.call('inviteMember', { tenantId, email: 'one-too-many@acme.test', role: 'member' }), 'resource-exhausted', {
      reason: 'tenant-daily-invite-mails',
      message: /has sent today's 50 invite mails, the most the Starter plan sends in a day\. Invites already sent still work; send the rest tomorrow/,
    });
    expect(await mailsTo('one-too-many@acme.test')).toBe(0);
    const tomorrow = new Date(Date.now() + 86_400_000);
    expect(await inviteInProcess(deps(), await account('owner@acme.test'), { tenantId, email: 'one-too-many@acme.test', role: 'member' }, tomorrow)).toMatchObject({ outcome: 'new' });
    expect(await mailsTo('one-too-many@acme.test')).toBe(1);
    await expectLedgerConsistent([tenantId]);
  });

  it("M4: one address's daily quota, from every tenant together: the sixth invite mail of the day is refused, nothing written", async () => {
    const owners = { 'owner@acme.test': 'owner' } as const;
    const a = await seedTeam('t-quota-a', owners, { seatCap: 20 });
    const b = await seedTeam('t-quota-b', owners, { seatCap: 20 });
    const c = await seedTeam('t-quota-c', owners, { seatCap: 20 });
    const owner = a.people.owner;
    const target = { email: 'target@victim.test', role: 'member' };
    const first = await inviteInProcess(deps(), owner, { tenantId: a.tenantId, ...target }, at('2027-03-01T09:00:00Z'));
    await inviteInProcess(deps(), owner, { tenantId: b.tenantId, ...target }, at('2027-03-01T09:01:00Z'));
    for (const minute of ['10', '20', '30']) {
      expect(await resendInProcess(deps(), owner, { tenantId: a.tenantId, inviteId: first.inviteId }, at(`2027-03-01T09:${minute}:00Z`))).toMatchObject({ sent: true });
    }
    expect(await mailsTo('target@victim.test')).toBe(5);
    await refusedAt(() => inviteInProcess(deps(), owner, { tenantId: c.tenantId, ...target }, at('2027-03-01T10:00:00Z')), 'recipient-daily-invite-mails', /target@victim\.test has been sent 5 invite mails today, the most one address receives in a day/);
    const inviteOfB = await inviteIdFor(b.tenantId, target.email);
    await refusedAt(() => resendInProcess(deps(), owner, { tenantId: b.tenantId, inviteId: inviteOfB }, at('2027-03-01T11:00:00Z')), 'recipient-daily-invite-mails', /send it again tomorrow/);
    expect(await mailsTo('target@victim.test')).toBe(5);
    // Another address is not held back, and the next day (UTC) this one may be invited again.
    expect(await inviteInProcess(deps(), owner, { tenantId: c.tenantId, email: 'other@victim.test', role: 'member' }, at('2027-03-01T10:00:00Z'))).toMatchObject({ outcome: 'new' });
    expect(await inviteInProcess(deps(), owner, { tenantId: c.tenantId, ...target }, at('2027-03-02T00:00:01Z'))).toMatchObject({ outcome: 'new' });
    await expectLedgerConsistent([a.tenantId, b.tenantId, c.tenantId]);
  });

  it('M4: an invite is mailed at most 5 times (sendCount); a resend beyond is refused, by resendInvite and by inviting the address again', async () => {
    const { tenantId, people } = await seedTeam('t-resend-cap', TEAM, { seatCap: 20 });
    const first = await inviteInProcess(deps(), people.owner, { tenantId, email: 'deaf@acme.test', role: 'member' }, at('2027-03-01T09:00:00Z'));
    // A day apart each, so no daily quota is what stops them.
    for (const day of ['02', '03', '04', '05']) {
      expect(await resendInProcess(deps(), people.owner, { tenantId, inviteId: first.inviteId }, at(`2027-03-${day}T09:00:00Z`))).toMatchObject({ sent: true });
    }
    expect((await db.doc(`tenants/${tenantId}/invites/${first.inviteId}`).get()).get('sendCount')).toBe(5);
    const message = /The invite to deaf@acme\.test has been sent 5 times, the most one invite is sent\..*revoke it and invite them again/;
    await refusedAt(() => resendInProcess(deps(), people.owner, { tenantId, inviteId: first.inviteId }, at('2027-03-06T09:00:00Z')), 'invite-send-limit', message);
    await refusedAt(() => inviteInProcess(deps(), people.owner, { tenantId, email: 'deaf@acme.test', role: 'member' }, at('2027-03-06T09:00:00Z')), 'invite-send-limit', message);
    expect(await mailsTo('deaf@acme.test')).toBe(5);
    // Through the callable too: the same refusal, with its code.
    await db.doc(`tenants/${tenantId}/invites/${first.inviteId}`).update({ lastSentAt: new Date(Date.now() - 120_000), expiresAt: new Date(Date.now() + 86_400_000) });
    await refused(async () => (await as('owner@acme.test')).call('resendInvite', { tenantId, inviteId: first.inviteId }), 'resource-exhausted', { reason: 'invite-send-limit', message });
  });

  it("M4: the subject names the inviter by their membership's name, only when it is a plain name; never the caller's Auth display name", async () => {
    const { tenantId, people } = await seedTeam('t-inviter-name', TEAM, { seatCap: 20 });
    const spam = 'Your payroll is on hold – call +1 555 0100 https://evil.test';
    await auth.updateUser(people.owner.uid, { displayName: spam });
    await db.doc(`tenants/${tenantId}/members/${people.owner.uid}`).update({ displayName: 'Olivia O’Neil-Owner' });
    const owner = await as('owner@acme.test');
    const named = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: 'named@acme.test', role: 'member' });
    const subjectOf = async (inviteId: string) => String((await db.collection('mail').where('inviteId', '==', inviteId).get()).docs[0].get('message.subject'));
    expect(await subjectOf(named.inviteId)).toBe(`Olivia O’Neil-Owner invited you to Tenant ${tenantId}`);
    expect((await db.doc(`tenants/${tenantId}/invites/${named.inviteId}`).get()).get('invitedByName')).toBe('Olivia O’Neil-Owner');
    // A membership name with a link, digits or control characters is not a name: the verified address stands in.
    for (const [i, name] of ['Olivia https://evil.test', 'Call 555 0100', 'Olivia\u202Eevil', 'evil.test', 'O'.repeat(61)].entries()) {
      await db.doc(`tenants/${tenantId}/members/${people.owner.uid}`).update({ displayName: name });
      const { inviteId } = await owner.call<{ inviteId: string }>('inviteMember', { tenantId, email: `plain-${i}@acme.test`, role: 'member' });
      expect(await subjectOf(inviteId)).toBe(`owner@acme.test invited you to Tenant ${tenantId}`);
    }
    const subjects = (await db.collection('mail').where('tenantId', '==', tenantId).get()).docs.map((d) => String(d.get('message.subject')) + String(d.get('message.text')));
    expect(subjects.filter((text) => /payroll|evil|555/.test(text))).toEqual([]);
  });
});

describe('removeMember, changeMemberRole, leaveTenant', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  it('owner removes an admin; an admin removes below admin; nobody removes the owner; removal frees a seat', async () => {
    const { tenantId, people } = await seedTeam('t-rm', TEAM);
    const admin = await as('admin@acme.test');
    await refused(() => admin.call('removeMember', { tenantId, uid: people.owner.uid }), 'failed-precondition', { reason: 'owner' });
    await refused(async () => (await as('member@acme.test')).call('removeMember', { tenantId, uid: people.viewer.uid }), 'permission-denied');
    await refused(() => admin.call('removeMember', { tenantId, uid: people.admin.uid }), 'failed-precondition', { reason: 'self', message: /leave the organisation instead/ });
    await refused(() => admin.call('removeMember', { tenantId, uid: 'nobody' }), 'not-found', { reason: 'not-a-member' });
    await refused(() => admin.call('removeMember', { tenantId }), 'invalid-argument', { message: /^uid: / });
    expect(await admin.call('removeMember', { tenantId, uid: people.viewer.uid })).toMatchObject({ removed: true });
    expect(await (await as('owner@acme.test')).call('removeMember', { tenantId, uid: people.admin.uid })).toMatchObject({ removed: true });
    expect(await seatsOf(tenantId)).toEqual({ members: 3, pendingInvites: 0 });
    expect((await db.collection('auditLog').where('type', '==', 'member.removed').count().get()).data().count).toBe(2);
    await expectLedgerConsistent([tenantId]);
  });

  it('a billing block never keeps a fired employee inside: removal and lowering work in every visible status, raising does not', async () => {
    for (const [status, failedPaymentRetries] of [['trial_expired', 0], ['past_due', 2], ['suspended', 0], ['cancelled', 0]] as const) {
      await clearEmulators();
      callers = {};
      const { tenantId, people } = await seedTeam(`t-block-${status}`, TEAM, { status, failedPaymentRetries });
      const owner = await as('owner@acme.test');
      await refused(() => owner.call('changeMemberRole', { tenantId, uid: people.viewer.uid, role: 'manager' }), 'failed-precondition', { reason: 'tenant-status' });
      expect(await owner.call('changeMemberRole', { tenantId, uid: people.admin.uid, role: 'viewer' })).toMatchObject({ role: 'viewer', changed: true });
      expect(await owner.call('removeMember', { tenantId, uid: people.member.uid })).toMatchObject({ removed: true });
      expect((await db.doc(`tenants/${tenantId}/members/${people.member.uid}`).get()).exists).toBe(false);
    }
  });

  it('roles: within what the actor may give; nobody changes their own (no self-promotion); admins are the owner’s', async () => {
    const { tenantId, people } = await seedTeam('t-role', TEAM);
    const admin = await as('admin@acme.test');
    await refused(() => admin.call('changeMemberRole', { tenantId, uid: people.admin.uid, role: 'admin' }), 'permission-denied', { reason: 'self' });
    await refused(() => admin.call('changeMemberRole', { tenantId, uid: people.admin.uid, role: 'owner' }), 'invalid-argument', { message: /role: one of/ });
    await refused(() => admin.call('changeMemberRole', { tenantId, uid: people.member.uid, role: 'admin' }), 'permission-denied', { message: /Only the owner can make someone admin/ });
    await refused(() => admin.call('changeMemberRole', { tenantId, uid: people.owner.uid, role: 'member' }), 'failed-precondition', { reason: 'owner' });
    await refused(async () => (await as('manager@acme.test')).call('changeMemberRole', { tenantId, uid: people.viewer.uid, role: 'member' }), 'permission-denied');
    expect(await admin.call('changeMemberRole', { tenantId, uid: people.viewer.uid, role: 'manager' })).toMatchObject({ role: 'manager', changed: true });
    expect(await admin.call('changeMemberRole', { tenantId, uid: people.viewer.uid, role: 'manager' })).toMatchObject({ changed: false });
    expect(await (await as('owner@acme.test')).call('changeMemberRole', { tenantId, uid: people.member.uid, role: 'admin' })).toMatchObject({ role: 'admin' });
    expect((await db.doc(`tenants/${tenantId}/members/${people.member.uid}`).get()).get('role')).toBe('admin');
  });

  it('anyone but the owner may leave; leaving frees the seat', async () => {
    const { tenantId, people } = await seedTeam('t-leave', TEAM);
    await refused(async () => (await as('owner@acme.test')).call('leaveTenant', { tenantId }), 'failed-precondition', { reason: 'owner', message: /transfer ownership/ });
    await account('stranger@else.test');
    await refused(async () => (await as('stranger@else.test')).call('leaveTenant', { tenantId }), 'not-found');
    expect(await (await as('viewer@acme.test')).call('leaveTenant', { tenantId })).toEqual({ tenantId, left: true });
    expect((await db.doc(`tenants/${tenantId}/members/${people.viewer.uid}`).get()).exists).toBe(false);
    expect(await seatsOf(tenantId)).toEqual({ members: 4, pendingInvites: 0 });
  });
});

describe('transferOwnership', () => {
  beforeEach(async () => {
    await clearEmulators();
    callers = {};
  });

  it('moves owner, ownerUid and the billing email in one change; the old owner becomes admin', async () => {
    const { tenantId, people } = await seedTeam('t-transfer', TEAM);
    const owner = await as('owner@acme.test');
    await refused(async () => (await as('admin@acme.test')).call('transferOwnership', { tenantId, uid: people.admin.uid }), 'permission-denied');
    await refused(() => owner.call('transferOwnership', { tenantId, uid: 'stranger' }), 'not-found');
    await refused(() => owner.call('transferOwnership', { tenantId, uid: people.owner.uid }), 'invalid-argument');
    await auth.updateUser(people.member.uid, { emailVerified: false });
    await refused(() => owner.call('transferOwnership', { tenantId, uid: people.member.uid }), 'failed-precondition', { reason: 'target-email-unverified' });

    expect(await owner.call('transferOwnership', { tenantId, uid: people.manager.uid })).toEqual({ tenantId, ownerUid: people.manager.uid, previousOwnerRole: 'admin', billingEmail: 'manager@acme.test' });
    const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
    expect(tenant).toMatchObject({ ownerUid: people.manager.uid, billingEmail: 'manager@acme.test' });
    expect((await db.doc(`tenants/${tenantId}/members/${people.manager.uid}`).get()).get('role')).toBe('owner');
    expect((await db.doc(`tenants/${tenantId}/members/${people.owner.uid}`).get()).get('role')).toBe('admin');
    // The old owner may now leave; the new one may not.
    await refused(async () => (await as('manager@acme.test')).call('leaveTenant', { tenantId }), 'failed-precondition', { reason: 'owner' });
    expect(await owner.call('leaveTenant', { tenantId })).toMatchObject({ left: true });
    expect((await db.collection('auditLog').where('type', '==', 'tenant.ownership_transferred').get()).docs.map((d) => d.data())).toEqual([
      expect.objectContaining({ tenantId, from: people.owner.uid, to: people.manager.uid, billingEmail: { from: 'owner@acme.test', to: 'manager@acme.test' } }),
    ]);
  });
});
