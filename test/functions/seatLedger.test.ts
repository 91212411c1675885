// The seat ledger under concurrency, on the real Firestore emulator (real transactions): members plus
// pending invites never exceed the seat cap, and after every race the ledger equals a recount of the
// documents (tools/seat-ledger.ts).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FieldValue } from 'firebase-admin/firestore';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../functions/src/domain/team';
import { expireInvites } from '../../functions/src/team/expireInvites';
import { acceptInvite, inviteMember, revokeInvite } from '../../functions/src/team/invites';
import { removeMember } from '../../functions/src/team/members';
import { client } from '../helpers/callables';
import { auth, clearEmulators, db } from '../helpers/emulators';
import { APP_URL, databaseSnapshot, expectLedgerConsistent, inviteLinkOf, seatsOf, seedTeam } from '../helpers/team';

const deps = { db, auth, appUrl: APP_URL };
const invitee = (i: number, tag = 'x'): Account => ({ uid: `joiner-${tag}-${i}`, email: `joiner-${tag}-${i}@acme.test`, emailVerified: true });

/** Invites `count` people as members and returns their accounts with invite ids and link tokens. */
async function invitePeople(tenantId: string, owner: Account, count: number, tag: string) {
  const people = [];
  for (let i = 0; i < count; i++) {
    const person = invitee(i, tag);
    const { inviteId } = await inviteMember(deps, owner, { tenantId, email: person.email, role: 'member' });
    people.push({ person, inviteId, token: (await inviteLinkOf(inviteId)).token });
  }
  return people;
}

const fulfilled = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;
const reasons = (results: PromiseSettledResult<unknown>[]) =>
  results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { details?: { reason?: string } }).details?.reason);

describe('seat ledger under concurrency', () => {
  beforeEach(clearEmulators);

  it('20 concurrent invites at one seat below the cap admit exactly one', async () => {
    const { tenantId, people } = await seedTeam('t-race-invites', { 'owner@acme.test': 'owner', 'm1@acme.test': 'member', 'm2@acme.test': 'member' });
    await inviteMember(deps, people.owner, { tenantId, email: 'held@acme.test', role: 'viewer' }); // 3 members + 1 pending of 5

    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => inviteMember(deps, people.owner, { tenantId, email: `racer-${i}@acme.test`, role: 'member' })));

    expect(fulfilled(results)).toBe(1);
    expect(reasons(results)).toEqual(Array(19).fill('seat-cap'));
    expect(await seatsOf(tenantId)).toEqual({ members: 3, pendingInvites: 2 });
    expect((await db.collection(`tenants/${tenantId}/invites`).where('status', '==', 'pending').count().get()).data().count).toBe(2);
    // One invite mail per admitted invite, none for the refused ones.
    expect((await db.collection('mail').where('tenantId', '==', tenantId).count().get()).data().count).toBe(2);
    await expectLedgerConsistent([tenantId]);
  });

  it('20 concurrent invites of one address make one pending invite', async () => {
    const { tenantId, people } = await seedTeam('t-race-same', { 'owner@acme.test': 'owner' }, { seatCap: 25, pendingInviteLimit: 50 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => inviteMember(deps, people.owner, { tenantId, email: 'same@acme.test', role: 'member' })));
    expect(fulfilled(results)).toBe(20);
    const outcomes = results.map((r) => (r as PromiseFulfilledResult<{ outcome: string }>).value.outcome).sort();
    expect(outcomes.filter((o) => o === 'new')).toHaveLength(1);
    expect(new Set(outcomes.filter((o) => o !== 'new'))).toEqual(new Set(['unchanged']));
    expect(await seatsOf(tenantId)).toEqual({ members: 1, pendingInvites: 1 });
    await expectLedgerConsistent([tenantId]);
  });

  it('20 concurrent accepts of distinct invites at the cap fill it exactly', async () => {
    const { tenantId, people } = await seedTeam('t-race-accepts', { 'owner@acme.test': 'owner' }, { seatCap: 21, pendingInviteLimit: 50 });
    const invited = await invitePeople(tenantId, people.owner, 20, 'full');
    expect(await seatsOf(tenantId)).toEqual({ members: 1, pendingInvites: 20 });

    const results = await Promise.allSettled(invited.map(({ person, inviteId, token }) => acceptInvite(deps, person, { tenantId, inviteId, token })));

    expect(fulfilled(results)).toBe(20);
    expect(await seatsOf(tenantId)).toEqual({ members: 21, pendingInvites: 0 });
    await expectLedgerConsistent([tenantId]);
  });

  it('20 concurrent accepts after the cap was lowered never exceed it', async () => {
    const { tenantId, people } = await seedTeam('t-race-lowered', { 'owner@acme.test': 'owner' }, { seatCap: 21, pendingInviteLimit: 50 });
    const invited = await invitePeople(tenantId, people.owner, 20, 'lowered');
    // A plan change took seats away while the invites were out.
    await db.doc(`tenants/${tenantId}`).update({ seatCap: 11 });

    const results = await Promise.allSettled(invited.map(({ person, inviteId, token }) => acceptInvite(deps, person, { tenantId, inviteId, token })));

    expect(fulfilled(results)).toBe(10);
    expect(reasons(results)).toEqual(Array(10).fill('seat-cap'));
    expect(await seatsOf(tenantId)).toEqual({ members: 11, pendingInvites: 10 });
    const members = await db.collection(`tenants/${tenantId}/members`).count().get();
    expect(members.data().count).toBe(11);
    await expectLedgerConsistent([tenantId]);
  });

  it('a revoke racing an accept: one of them wins, and the counts equal what the documents say', async () => {
    for (let round = 0; round < 5; round++) {
      const { tenantId, people } = await seedTeam(`t-race-revoke-${round}`, { [`owner-${round}@acme.test`]: 'owner' }, { seatCap: 5 });
      const [{ person, inviteId, token }] = await invitePeople(tenantId, people.owner, 1, `revoke-${round}`);

      const [accepted, revoked] = await Promise.allSettled([acceptInvite(deps, person, { tenantId, inviteId, token }), revokeInvite(deps, people.owner, { tenantId, inviteId })]);

      expect([accepted.status, revoked.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
      const invite = (await db.doc(`tenants/${tenantId}/invites/${inviteId}`).get()).data()!;
      const member = await db.doc(`tenants/${tenantId}/members/${person.uid}`).get();
      if (accepted.status === 'fulfilled') {
        expect(invite.status).toBe('accepted');
        expect(member.exists).toBe(true);
        expect(reasons([revoked])).toEqual(['accepted']);
        expect(await seatsOf(tenantId)).toEqual({ members: 2, pendingInvites: 0 });
      } else {
        expect(invite.status).toBe('revoked');
        expect(member.exists).toBe(false);
        expect(reasons([accepted])).toEqual(['revoked']);
        expect(await seatsOf(tenantId)).toEqual({ members: 1, pendingInvites: 0 });
      }
      await expectLedgerConsistent([tenantId]);
    }
  });

  it('invites, removals and accepts interleaved at random keep the ledger equal to the documents and within the cap', async () => {
    const { tenantId, people } = await seedTeam('t-race-mixed', { 'owner@acme.test': 'owner', 'a@acme.test': 'member', 'b@acme.test': 'viewer' }, { seatCap: 8 });
    const invited = await invitePeople(tenantId, people.owner, 4, 'mixed');
    const work = [
      ...invited.map(({ person, inviteId, token }, i) => (i % 2 ? acceptInvite(deps, person, { tenantId, inviteId, token }) : revokeInvite(deps, people.owner, { tenantId, inviteId }))),
      removeMember(deps, people.owner, { tenantId, uid: people['a@acme.test'].uid }),
      ...Array.from({ length: 8 }, (_, i) => inviteMember(deps, people.owner, { tenantId, email: `late-${i}@acme.test`, role: 'viewer' })),
    ];
    await Promise.allSettled(work);
    await expectLedgerConsistent([tenantId]);
    const seats = await seatsOf(tenantId);
    expect(seats.members + seats.pendingInvites).toBeLessThanOrEqual(8);
  });
});

describe('issue 24: inviteMember under contention, through the callables', () => {
  beforeEach(clearEmulators);

  it('issue 24: 20 concurrent invites racing 5 accepts at the seat cap, 5 rounds: no internal error, only seat-cap refusals, the cap held, the ledger equal to the documents', async () => {
    const owner = await client('owner@acme.test');
    for (let round = 0; round < 5; round++) {
      // 5 members + 5 pending invites of 12 seats: 2 free. The accepts need no free seat (theirs is reserved); the invites race for the 2.
      const members = Object.fromEntries([['owner@acme.test', 'owner'], ...Array.from({ length: 4 }, (_, i) => [`m${i}-${round}@acme.test`, 'member'])]);
      const { tenantId, people } = await seedTeam(`t-contention-${round}`, members, { seatCap: 12, pendingInviteLimit: 50 });
      const invited = await invitePeople(tenantId, people.owner, 5, `contention-${round}`);
      const joiners = await Promise.all(invited.map(async (i) => ({ ...i, caller: await client(i.person.email!) })));

      const results = await Promise.allSettled([
        ...Array.from({ length: 20 }, (_, i) => owner.call('inviteMember', { tenantId, email: `racer-${round}-${i}@acme.test`, role: 'viewer' })),
        ...joiners.map(({ caller, inviteId, token }) => caller.call('acceptInvite', { tenantId, inviteId, token })),
      ]);

      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => `${(r.reason as { code: string }).code}: ${(r.reason as Error).message}`);
      expect(failures.filter((f) => !f.startsWith('functions/resource-exhausted: No seat left')), `round ${round}`).toEqual([]);
      expect(fulfilled(results.slice(0, 20)), `round ${round}: invites admitted`).toBe(2);
      expect(fulfilled(results.slice(20)), `round ${round}: accepts`).toBe(5);
      expect(await seatsOf(tenantId)).toEqual({ members: 10, pendingInvites: 2 });
      expect((await db.collection(`tenants/${tenantId}/members`).count().get()).data().count).toBe(10);
      expect((await db.collection(`tenants/${tenantId}/invites`).where('status', '==', 'pending').count().get()).data().count).toBe(2);
      await expectLedgerConsistent([tenantId]);
    }
  });
});

describe('invite expiry', () => {
  beforeEach(clearEmulators);

  it('expireInvites marks pending invites past their expiry expired and frees their seats; nothing else changes', async () => {
    const { tenantId, people } = await seedTeam('t-expiry', { 'owner@acme.test': 'owner' });
    const sentAt = new Date('2027-01-01T00:00:00Z');
    const old = await inviteMember(deps, people.owner, { tenantId, email: 'old@acme.test', role: 'member' }, sentAt);
    const fresh = await inviteMember(deps, people.owner, { tenantId, email: 'fresh@acme.test', role: 'member' }, new Date('2027-01-06T00:00:00Z'));
    expect(old.expiresAt).toBe('2027-01-08T00:00:00.000Z'); // the starter plan's 7 days

    const report = await expireInvites(db, new Date('2027-01-09T00:00:00Z'));

    expect(report.expired).toEqual([{ tenantId, inviteId: old.inviteId, email: 'old@acme.test' }]);
    expect(report.errors).toEqual([]);
    expect((await db.doc(`tenants/${tenantId}/invites/${old.inviteId}`).get()).get('status')).toBe('expired');
    expect((await db.doc(`tenants/${tenantId}/invites/${fresh.inviteId}`).get()).get('status')).toBe('pending');
    expect(await seatsOf(tenantId)).toEqual({ members: 1, pendingInvites: 1 });
    await expectLedgerConsistent([tenantId]);

    // A second run is a no-op.
    expect((await expireInvites(db, new Date('2027-01-09T00:00:00Z'))).expired).toEqual([]);
  });

  it('expired, revoked and accepted invites never block a new invite to the same address', async () => {
    const { tenantId, people } = await seedTeam('t-reinvite', { 'owner@acme.test': 'owner' });
    const first = await inviteMember(deps, people.owner, { tenantId, email: 'again@acme.test', role: 'member' }, new Date('2027-01-01T00:00:00Z'));
    // Expired by the clock but not yet swept: the new invite expires it in the same transaction.
    const second = await inviteMember(deps, people.owner, { tenantId, email: 'again@acme.test', role: 'member' }, new Date('2027-01-20T00:00:00Z'));
    expect(second).toMatchObject({ outcome: 'new' });
    expect(second.inviteId).not.toBe(first.inviteId);
    expect((await db.doc(`tenants/${tenantId}/invites/${first.inviteId}`).get()).get('status')).toBe('expired');
    await revokeInvite(deps, people.owner, { tenantId, inviteId: second.inviteId });
    const third = await inviteMember(deps, people.owner, { tenantId, email: 'again@acme.test', role: 'viewer' });
    expect(third).toMatchObject({ outcome: 'new', role: 'viewer' });
    expect(await seatsOf(tenantId)).toEqual({ members: 1, pendingInvites: 1 });
    await expectLedgerConsistent([tenantId]);
  });

  it('a tenant from before the ledger gets its counts from a recount on its first team change', async () => {
    const { tenantId, people } = await seedTeam('t-legacy', { 'owner@acme.test': 'owner', 'm@acme.test': 'member' });
    await db.doc(`tenants/${tenantId}`).update({ seats: null });
    await inviteMember(deps, people.owner, { tenantId, email: 'n@acme.test', role: 'member' });
    expect(await seatsOf(tenantId)).toEqual({ members: 2, pendingInvites: 1 });
    await expectLedgerConsistent([tenantId]);
  });
});

describe('the one-off seat ledger backfill (npm run seat-ledger:backfill)', () => {
  beforeEach(clearEmulators);

  /** The command as an operator runs it, against this run's emulator; resolves with what it printed. */
  const backfill = async (...args: string[]) =>
    (await promisify(execFile)(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'tools', 'seat-ledger.ts'), '--backfill', ...args], { env: process.env })).stdout;

  it('prints what it would write and writes nothing; with --apply writes the counts of the documents; a tenant with a ledger is untouched', async () => {
    await seedTeam('t-before-ledger', { 'owner@acme.test': 'owner', 'm1@acme.test': 'member', 'm2@acme.test': 'viewer' });
    const invites = db.collection('tenants/t-before-ledger/invites');
    const expiresAt = new Date(Date.now() + 7 * 86_400_000);
    await Promise.all([
      invites.doc('pending-1').set({ email: 'p1@acme.test', role: 'member', status: 'pending', expiresAt }),
      invites.doc('pending-2').set({ email: 'p2@acme.test', role: 'member', status: 'pending', expiresAt }),
      invites.doc('revoked').set({ email: 'r@acme.test', role: 'member', status: 'revoked', expiresAt }),
      db.doc('tenants/t-before-ledger').update({ seats: FieldValue.delete() }),
    ]);
    await seedTeam('t-with-ledger', { 'owner2@acme.test': 'owner', 'm3@acme.test': 'member' });
    const ledgerTenantWritten = (await db.doc('tenants/t-with-ledger').get()).updateTime!;
    const before = await databaseSnapshot();
    const line = 't-before-ledger: seats {"members":3,"pendingInvites":2}';

    const dryRun = await backfill();
    expect(dryRun).toContain(line);
    expect(dryRun).toContain('dry run: nothing written');
    expect(dryRun).not.toContain('t-with-ledger');
    expect(await databaseSnapshot()).toEqual(before);
    expect((await db.doc('tenants/t-before-ledger').get()).get('seats')).toBeUndefined();

    const applied = await backfill('--apply');
    expect(applied).toContain(line);
    expect(applied).not.toContain('t-with-ledger');
    expect(await seatsOf('t-before-ledger')).toEqual({ members: 3, pendingInvites: 2 });
    await expectLedgerConsistent(['t-before-ledger', 't-with-ledger']);
    // Only the ledger of the tenant without one was written.
    const tenantBefore = before['tenants/t-before-ledger'] as Record<string, unknown>;
    expect(await databaseSnapshot()).toEqual({ ...before, 'tenants/t-before-ledger': { ...tenantBefore, seats: { members: 3, pendingInvites: 2 } } });
    expect((await db.doc('tenants/t-with-ledger').get()).updateTime!.isEqual(ledgerTenantWritten)).toBe(true);

    // Run again, it finds nothing left to do.
    expect(await backfill('--apply')).toContain('0 tenants without a seat ledger');
  });
});
