// Domain capture against a real DNS server on loopback (dns2): the claim, what each check saw, the
// retries with backoff and the seven-day end, one domain per tenant, and joining by domain.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dnsResolver } from '../../functions/src/adapters/dns';
import { DOMAIN_LAPSE_GRACE_DAYS, DOMAIN_REVERIFY_INTERVAL_MS, FIRST_RECHECK_MS } from '../../functions/src/domain/domains';
import { applyTransition } from '../../functions/src/lifecycle/transition';
import { submitSignup } from '../../functions/src/provisioning/selfServe';
import { claimDomain, recheckDomains, setDomainJoinPolicy, unclaimDomain, verifyDomain } from '../../functions/src/team/domains';
import { joinByDomain, lookupDomainJoin } from '../../functions/src/team/domainJoin';
import { startLocalDns, type LocalDns } from '../../tools/local-dns/server';
import { clearEmulators, db, deps as provisioningDeps } from '../helpers/emulators';
import { client, rejectsWith } from '../helpers/callables';
import { account, expectLedgerConsistent, expectNothingWritten, seatsOf, seedTeam } from '../helpers/team';

const DAY = 86_400_000;
let dns: LocalDns;
let domainDeps: { db: typeof db; resolveTxt: ReturnType<typeof dnsResolver> };

beforeAll(async () => {
  dns = await startLocalDns();
  domainDeps = { db, resolveTxt: dnsResolver([dns.address], { timeoutMs: 1000, tries: 1 }) };
});
afterAll(async () => dns?.close());

describe('claiming and verifying a domain', () => {
  beforeEach(async () => {
    await clearEmulators();
    dns.reset();
  });

  it('issues a TXT record, records what each check saw, and verifies once the record is there', async () => {
    const { tenantId, people } = await seedTeam('t-dom', { 'owner@acme.test': 'owner', 'admin@acme.test': 'admin' });
    const claimedAt = new Date();
    const claim = await claimDomain(domainDeps, people.admin, { tenantId, domain: 'Acme.test' }, claimedAt);
    expect(claim).toMatchObject({ domain: 'acme.test', status: 'pending', recordName: '_tenancy-challenge.acme.test', attempts: 0, lastCheck: null, joinPolicy: 'off' });
    expect(claim.recordValue).toMatch(/^tenancy-domain-verification=[A-Za-z0-9_-]{24}$/);
    expect(claim.verifyBy).toBe(new Date(claimedAt.getTime() + 7 * DAY).toISOString());
    // Claiming again answers the same record: the page can show it again, and a double click changes nothing.
    expect((await claimDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' })).recordValue).toBe(claim.recordValue);

    const none = await verifyDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' });
    expect(none).toMatchObject({ status: 'pending', attempts: 1, lastCheck: { outcome: 'no-record', seen: [] } });
    expect(dns.queries).toContain('_tenancy-challenge.acme.test');

    dns.setTxt(claim.recordName, ['v=spf1 -all', 'tenancy-domain-verification=from-another-product']);
    const other = await verifyDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' });
    expect(other).toMatchObject({ status: 'pending', attempts: 2, lastCheck: { outcome: 'other-value', seen: ['v=spf1 -all', 'tenancy-domain-verification=from-another-product'] } });
    expect(other.lastCheck!.message).toContain(claim.recordValue);

    dns.failLookups(claim.recordName, true);
    expect(await verifyDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' })).toMatchObject({ status: 'pending', lastCheck: { outcome: 'lookup-failed' } });
    dns.failLookups(claim.recordName, false);

    dns.setTxt(claim.recordName, ['v=spf1 -all', claim.recordValue]);
    const verified = await verifyDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' });
    expect(verified).toMatchObject({ status: 'verified', attempts: 4, lastCheck: { outcome: 'found' } });
    expect(Date.parse(verified.nextCheckAt!)).toBe(Date.parse(verified.verifiedAt!) + DOMAIN_REVERIFY_INTERVAL_MS);
    expect((await db.doc('verifiedDomains/acme.test').get()).data()).toMatchObject({ tenantId, domain: 'acme.test' });
    // Verified stays verified: checking again looks nothing up.
    const queries = dns.queries.length;
    expect((await verifyDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' })).status).toBe('verified');
    expect(dns.queries.length).toBe(queries);
  });

  it('refuses public mail domains, bad names, members below admin and unverified claimers, writing nothing', async () => {
    const { tenantId, people } = await seedTeam('t-dom-refusals', { 'owner@acme.test': 'owner', 'manager@acme.test': 'manager' });
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [() => claimDomain(domainDeps, people.owner, { tenantId, domain: 'gmail.com' }), 'invalid-argument', /public mail provider/],
      [() => claimDomain(domainDeps, people.owner, { tenantId, domain: 'not a domain' }), 'invalid-argument', /^domain: /],
      [() => claimDomain(domainDeps, people.owner, { tenantId }), 'invalid-argument', /^domain: /],
      [() => claimDomain(domainDeps, people.manager, { tenantId, domain: 'acme.test' }), 'permission-denied', /Only the owner or an admin can claim a domain; you are a manager/],
      [() => claimDomain(domainDeps, { ...people.owner, emailVerified: false }, { tenantId, domain: 'acme.test' }), 'failed-precondition', /Verify your email address/],
      [() => verifyDomain(domainDeps, people.owner, { tenantId, domain: 'never-claimed.test' }), 'not-found', /has not been claimed/],
      [() => claimDomain(domainDeps, people.owner, { tenantId: 'no-such-tenant', domain: 'acme.test' }), 'not-found', /No organisation/],
    ];
    for (const [call, code, message] of cases) {
      const error = await expectNothingWritten(call);
      expect(error).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect(dns.queries).toEqual([]);
  });

  it('a domain verified by one tenant is refused to another, and loses a race it started second', async () => {
    const a = await seedTeam('t-first', { 'owner@first.test': 'owner' });
    const b = await seedTeam('t-second', { 'owner@second.test': 'owner' });
    const claimA = await claimDomain(domainDeps, a.people.owner, { tenantId: a.tenantId, domain: 'shared.test' });
    const claimB = await claimDomain(domainDeps, b.people.owner, { tenantId: b.tenantId, domain: 'shared.test' });
    dns.setTxt('_tenancy-challenge.shared.test', [claimA.recordValue, claimB.recordValue]);
    expect((await verifyDomain(domainDeps, a.people.owner, { tenantId: a.tenantId, domain: 'shared.test' })).status).toBe('verified');
    const lost = await verifyDomain(domainDeps, b.people.owner, { tenantId: b.tenantId, domain: 'shared.test' });
    expect(lost).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/verified by another organisation first/) });
    expect((await db.doc('verifiedDomains/shared.test').get()).get('tenantId')).toBe(a.tenantId);
    const c = await seedTeam('t-third', { 'owner@third.test': 'owner' });
    const refused = await expectNothingWritten(() => claimDomain(domainDeps, c.people.owner, { tenantId: c.tenantId, domain: 'shared.test' }));
    expect(refused).toMatchObject({ code: 'already-exists', details: { reason: 'verified-elsewhere' } });
  });
});

describe('recheckDomains: the retry-and-pending state', () => {
  beforeEach(async () => {
    await clearEmulators();
    dns.reset();
  });

  it('retries due claims with backoff, verifies when the record appears, and fails after seven days with what it saw', async () => {
    const { tenantId, people } = await seedTeam('t-recheck', { 'owner@acme.test': 'owner' });
    const t0 = new Date('2027-01-01T00:00:00Z');
    const late = await claimDomain(domainDeps, people.owner, { tenantId, domain: 'late.test' }, t0);
    await claimDomain(domainDeps, people.owner, { tenantId, domain: 'never.test' }, t0);

    // Not due yet: nothing is looked up.
    expect(await recheckDomains(domainDeps, new Date(t0.getTime() + 60_000))).toMatchObject({ changed: [], pending: [], errors: [] });
    expect(dns.queries).toEqual([]);

    const first = await recheckDomains(domainDeps, new Date(t0.getTime() + FIRST_RECHECK_MS));
    expect(first.pending.map((p) => p.domain).sort()).toEqual(['late.test', 'never.test']);
    const claim = (await db.doc(`tenants/${tenantId}/domains/never.test`).get()).data()!;
    expect(claim.attempts).toBe(1);
    expect(claim.nextCheckAt.toDate().getTime()).toBe(t0.getTime() + 2 * FIRST_RECHECK_MS); // 5 min, then 10

    // The record appears two days later (DNS is slow); the next due run verifies it.
    dns.setTxt(late.recordName, [late.recordValue]);
    const day2 = await recheckDomains(domainDeps, new Date(t0.getTime() + 2 * DAY));
    expect(day2.changed).toEqual([{ tenantId, domain: 'late.test', to: 'verified', outcome: 'found' }]);

    // Runs until the deadline keep it pending; the run at the deadline fails it with the reason.
    let at = t0.getTime() + 2 * DAY;
    let runs = 0;
    for (;;) {
      const next = (await db.doc(`tenants/${tenantId}/domains/never.test`).get()).get('nextCheckAt');
      if (!next) break;
      at = next.toDate().getTime();
      await recheckDomains(domainDeps, new Date(at));
      runs++;
    }
    const failed = (await db.doc(`tenants/${tenantId}/domains/never.test`).get()).data()!;
    expect(failed.status).toBe('failed');
    expect(at).toBe(t0.getTime() + 7 * DAY);
    expect(runs).toBeLessThan(20); // backed off to 12 hours, not every 5 minutes
    expect(failed.failureReason).toMatch(/^Not verified within 7 days\. The last check: No TXT record at _tenancy-challenge\.never\.test yet/);
    expect(failed.lastCheck.outcome).toBe('no-record');
    // Failed claims are not looked at again (the verified one is, daily); claiming again issues a new record and a new window.
    const queries = dns.queries.filter((name) => name.endsWith('never.test')).length;
    await recheckDomains(domainDeps, new Date(at + 30 * DAY));
    expect(dns.queries.filter((name) => name.endsWith('never.test')).length).toBe(queries);
    const again = await claimDomain(domainDeps, people.owner, { tenantId, domain: 'never.test' }, new Date(at + DAY));
    expect(again).toMatchObject({ status: 'pending', attempts: 0 });
    expect(again.recordValue).not.toBe(claim.recordValue);
  });
});

describe('verifyDomain and claimDomain as callables (the launcher’s DNS server on loopback)', () => {
  beforeEach(clearEmulators);

  it('claims, checks and verifies through the Functions emulator; refuses the unauthenticated', async () => {
    const { tenantId } = await seedTeam('t-dom-callable', { 'owner@callable.test': 'owner' });
    const owner = await client('owner@callable.test');
    const claim = await owner.call<{ recordName: string; recordValue: string }>('claimDomain', { tenantId, domain: 'callable.test' });
    expect(await owner.call('verifyDomain', { tenantId, domain: 'callable.test' })).toMatchObject({ status: 'pending', lastCheck: { outcome: 'no-record' } });
    const control = process.env.LOCAL_DNS_CONTROL;
    expect(control).toBeTruthy();
    await fetch(`${control}/txt/${claim.recordName}`, { method: 'PUT', body: JSON.stringify({ records: [claim.recordValue] }) });
    expect(await owner.call('verifyDomain', { tenantId, domain: 'callable.test' })).toMatchObject({ status: 'verified', lastCheck: { outcome: 'found' } });
    await fetch(`${control}/txt/${claim.recordName}`, { method: 'DELETE' });
    const anonymous = await client('');
    await rejectsWith(anonymous.call('claimDomain', { tenantId, domain: 'other.test' }), 'unauthenticated');
    await rejectsWith(owner.call('claimDomain', { tenantId, domain: 'yahoo.com' }), 'invalid-argument', /public mail provider/);
  });
});

describe('joining by domain', () => {
  beforeEach(async () => {
    await clearEmulators();
    dns.reset();
  });

  /** A tenant that verified acme.test and lets people at it join with `policy`. */
  async function capturedTenant(policy: 'off' | 'suggest' | 'auto', seatCap = 5) {
    const team = await seedTeam('t-captured', { 'owner@acme.test': 'owner' }, { seatCap, name: 'Acme Robotics' });
    const claim = await claimDomain(domainDeps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test' });
    dns.setTxt(claim.recordName, [claim.recordValue]);
    await verifyDomain(domainDeps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test' });
    await setDomainJoinPolicy(domainDeps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test', joinPolicy: policy, defaultRole: 'viewer' });
    return team;
  }

  it('suggest: a verified signup at the domain is offered the tenant and joins with the default role, taking a seat', async () => {
    const { tenantId } = await capturedTenant('suggest');
    const newcomer = await account('newcomer@acme.test');
    expect(await lookupDomainJoin(db, newcomer)).toEqual({
      match: { domain: 'acme.test', joinPolicy: 'suggest', requiresVerification: false, tenantId, tenantName: 'Acme Robotics', role: 'viewer', alreadyMember: false, seatAvailable: true },
    });
    expect(await joinByDomain(db, newcomer, { tenantId })).toEqual({ tenantId, role: 'viewer', alreadyMember: false });
    expect((await db.doc(`tenants/${tenantId}/members/${newcomer.uid}`).get()).data()).toMatchObject({ role: 'viewer', joinedVia: 'domain', email: 'newcomer@acme.test' });
    expect(await seatsOf(tenantId)).toEqual({ members: 2, pendingInvites: 0 });
    // Joining again is a replay.
    expect(await joinByDomain(db, newcomer, { tenantId })).toMatchObject({ alreadyMember: true });
    await expectLedgerConsistent([tenantId]);
  });

  it('an unverified address learns only that its domain is managed, and cannot join', async () => {
    const { tenantId } = await capturedTenant('auto');
    const unverified = await account('unverified@acme.test', { verified: false });
    expect(await lookupDomainJoin(db, unverified)).toEqual({ match: { domain: 'acme.test', joinPolicy: 'auto', requiresVerification: true } });
    const refused = await expectNothingWritten(() => joinByDomain(db, unverified, { tenantId }));
    expect(refused).toMatchObject({ code: 'failed-precondition', details: { reason: 'email-unverified' } });
  });

  it('at the seat cap: "ask your admin for a seat", no membership over the cap and no tenant of their own', async () => {
    const { tenantId } = await capturedTenant('auto', 1);
    const newcomer = await account('late@acme.test');
    expect((await lookupDomainJoin(db, newcomer)).match).toMatchObject({ seatAvailable: false, tenantName: 'Acme Robotics' });
    const noSeat = await expectNothingWritten(() => joinByDomain(db, newcomer, { tenantId }));
    expect(noSeat).toMatchObject({ code: 'resource-exhausted', details: { reason: 'seat-cap', audience: 'joiner' } });
    expect((noSeat as Error).message).toMatch(/Ask an admin of Acme Robotics for a seat/);
    // An auto-captured domain is the organisation's: a separate signup is refused, and nothing is stored.
    const signup = await expectNothingWritten(() =>
      submitSignup(provisioningDeps, { uid: newcomer.uid, email: newcomer.email! }, { companyName: 'Shadow IT', ownerName: 'Late', plan: 'starter' }),
    );
    expect(signup).toMatchObject({ code: 'failed-precondition', details: { reason: 'domain-captured', domain: 'acme.test' } });
    expect((await db.collection('tenants').count().get()).data().count).toBe(1);
    await expectLedgerConsistent([tenantId]);
  });

  it('off, another domain, a public domain: no offer, no join; suggest still lets a person create their own', async () => {
    const { tenantId } = await capturedTenant('off');
    const colleague = await account('colleague@acme.test');
    expect(await lookupDomainJoin(db, colleague)).toEqual({ match: null });
    expect(await expectNothingWritten(() => joinByDomain(db, colleague, { tenantId }))).toMatchObject({ code: 'permission-denied', details: { reason: 'no-domain-match' } });
    expect(await lookupDomainJoin(db, await account('someone@gmail.com'))).toEqual({ match: null });
    expect(await lookupDomainJoin(db, await account('someone@elsewhere.test'))).toEqual({ match: null });
    await setDomainJoinPolicy(domainDeps, (await account('owner@acme.test')), { tenantId, domain: 'acme.test', joinPolicy: 'suggest', defaultRole: 'member' });
    const result = await submitSignup(provisioningDeps, { uid: colleague.uid, email: colleague.email! }, { companyName: 'Side Project', ownerName: 'Col', plan: 'starter' });
    expect(result.tenantId).not.toBe(tenantId);
  });

  it('the join policy is for verified domains, and for the owner and admins', async () => {
    const { tenantId, people } = await seedTeam('t-policy', { 'owner@acme.test': 'owner', 'member@acme.test': 'member' });
    await claimDomain(domainDeps, people.owner, { tenantId, domain: 'acme.test' });
    const unverifiedDomain = await expectNothingWritten(() => setDomainJoinPolicy(domainDeps, people.owner, { tenantId, domain: 'acme.test', joinPolicy: 'auto', defaultRole: 'member' }));
    expect(unverifiedDomain).toMatchObject({ code: 'failed-precondition', details: { reason: 'not-verified' } });
    const notAdmin = await expectNothingWritten(() => setDomainJoinPolicy(domainDeps, people.member, { tenantId, domain: 'acme.test', joinPolicy: 'off', defaultRole: 'member' }));
    expect(notAdmin).toMatchObject({ code: 'permission-denied' });
    const adminRole = await expectNothingWritten(() => setDomainJoinPolicy(domainDeps, people.owner, { tenantId, domain: 'acme.test', joinPolicy: 'auto', defaultRole: 'admin' }));
    expect(adminRole).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/defaultRole: one of manager, member, viewer/) });
  });
});

describe('M2: a verified domain is its tenant\'s only while the tenant can grow and the record stays', () => {
  beforeEach(async () => {
    await clearEmulators();
    dns.reset();
  });

  /** `tenantId` verifies `domain` at `at` and lets people at it join automatically. */
  async function verifiedBy(tenantId: string, owner: Awaited<ReturnType<typeof account>>, domain: string, at = new Date()) {
    const claim = await claimDomain(domainDeps, owner, { tenantId, domain }, at);
    dns.setTxt(claim.recordName, [claim.recordValue]);
    expect((await verifyDomain(domainDeps, owner, { tenantId, domain }, at)).status).toBe('verified');
    await setDomainJoinPolicy(domainDeps, owner, { tenantId, domain, joinPolicy: 'auto', defaultRole: 'member' }, at);
    return claim;
  }
  const signup = (person: Awaited<ReturnType<typeof account>>, companyName: string) =>
    submitSignup(provisioningDeps, { uid: person.uid, email: person.email! }, { companyName, ownerName: 'New', plan: 'starter' });

  it('M2: capture counts only while the tenant can take members: trial_expired, suspended, cancelled and blocked past_due route nobody and block nobody', async () => {
    const { tenantId, people } = await seedTeam('t-holder', { 'owner@acme.test': 'owner' }, { name: 'Acme Robotics' });
    await verifiedBy(tenantId, people.owner, 'acme.test');
    const newcomer = await account('newcomer@acme.test');
    // While the tenant can grow: routed to it, and refused an organisation of their own.
    expect((await lookupDomainJoin(db, newcomer)).match).toMatchObject({ tenantId, joinPolicy: 'auto' });
    expect(await expectNothingWritten(() => signup(newcomer, 'Shadow IT'))).toMatchObject({ code: 'failed-precondition', details: { reason: 'domain-captured' } });
    await db.doc(`tenants/${tenantId}`).update({ status: 'past_due', failedPaymentRetries: 0 });
    expect((await lookupDomainJoin(db, newcomer)).match).toMatchObject({ tenantId });

    for (const [status, failedPaymentRetries] of [['past_due', 1], ['trial_expired', 0], ['suspended', 0], ['cancelled', 0]] as const) {
      await db.doc(`tenants/${tenantId}`).update({ status, failedPaymentRetries });
      expect(await lookupDomainJoin(db, newcomer), status).toEqual({ match: null });
      const refused = await expectNothingWritten(() => joinByDomain(db, newcomer, { tenantId }));
      expect(refused, status).toMatchObject({ code: 'permission-denied', details: { reason: 'no-domain-match' } });
    }
    // Not blocked either: the person creates their own organisation.
    const own = await signup(newcomer, 'Acme Skunkworks');
    expect(own.tenantId).not.toBe(tenantId);
    expect((await db.doc(`tenants/${tenantId}/members/${newcomer.uid}`).get()).exists).toBe(false);
  });

  it('M2: cancelling the tenant releases its domains in the transition\'s transaction; another tenant can claim one then, and not before', async () => {
    const holder = await seedTeam('t-holder', { 'owner@acme.test': 'owner' });
    await verifiedBy(holder.tenantId, holder.people.owner, 'acme.test');
    await verifiedBy(holder.tenantId, holder.people.owner, 'acme-labs.test');
    const pending = await claimDomain(domainDeps, holder.people.owner, { tenantId: holder.tenantId, domain: 'acme-later.test' });
    expect((await db.doc(`tenants/${holder.tenantId}`).get()).get('heldDomains')).toEqual(['acme.test', 'acme-labs.test']);
    const buyer = await seedTeam('t-buyer', { 'owner@buyer.test': 'owner' });
    const held = await expectNothingWritten(() => claimDomain(domainDeps, buyer.people.owner, { tenantId: buyer.tenantId, domain: 'acme.test' }));
    expect(held).toMatchObject({ code: 'already-exists', details: { reason: 'verified-elsewhere' } });

    const done = await applyTransition(db, holder.tenantId, 'cancel', { actor: 'staff-1', now: new Date(), reason: 'closed' });
    expect(done).toMatchObject({ from: 'active', to: 'cancelled' });
    for (const domain of ['acme.test', 'acme-labs.test']) {
      expect((await db.doc(`verifiedDomains/${domain}`).get()).exists, domain).toBe(false);
      expect((await db.doc(`tenants/${holder.tenantId}/domains/${domain}`).get()).data(), domain).toMatchObject({
        status: 'released',
        joinPolicy: 'off',
        releaseReason: expect.stringMatching(/released because the organisation is now cancelled/),
      });
    }
    expect((await db.doc(`tenants/${holder.tenantId}`).get()).get('heldDomains')).toEqual([]);
    // A pending claim of the cancelled tenant verifies nothing, even with its record in place.
    dns.setTxt(pending.recordName, [pending.recordValue]);
    expect(await verifyDomain(domainDeps, holder.people.owner, { tenantId: holder.tenantId, domain: 'acme-later.test' })).toMatchObject({
      status: 'failed',
      failureReason: expect.stringMatching(/the organisation is cancelled/),
    });
    expect((await db.doc('verifiedDomains/acme-later.test').get()).exists).toBe(false);

    const claim = await claimDomain(domainDeps, buyer.people.owner, { tenantId: buyer.tenantId, domain: 'acme.test' });
    dns.setTxt(claim.recordName, [claim.recordValue]);
    expect((await verifyDomain(domainDeps, buyer.people.owner, { tenantId: buyer.tenantId, domain: 'acme.test' })).status).toBe('verified');
    expect((await db.doc('verifiedDomains/acme.test').get()).get('tenantId')).toBe(buyer.tenantId);
  });

  it('M2: a rolled-back provisioning releases what its tenant held, in the same transaction', async () => {
    // A tenant that never opened holds nothing by itself; the list stands for one written before the rollback.
    await seedTeam('t-rolled', { 'owner@rolled.test': 'owner' }, { status: 'provisioning' });
    await db.doc('verifiedDomains/rolled.test').set({ tenantId: 't-rolled', domain: 'rolled.test' });
    await db.doc('tenants/t-rolled').update({ heldDomains: ['rolled.test'] });
    await applyTransition(db, 't-rolled', 'provisioning_rolled_back', { actor: 'provisioning:job-1', now: new Date() });
    expect((await db.doc('verifiedDomains/rolled.test').get()).exists).toBe(false);
    expect((await db.doc('tenants/t-rolled').get()).data()).toMatchObject({ status: 'failed', heldDomains: [] });
  });

  it('M2: unclaimDomain frees the claim and the verified entry; refuses members below admin, strangers and bad input, writing nothing', async () => {
    const { tenantId, people } = await seedTeam('t-unclaim', { 'owner@acme.test': 'owner', 'admin@acme.test': 'admin', 'member@acme.test': 'member' });
    await verifiedBy(tenantId, people.owner, 'acme.test');
    const stranger = await seedTeam('t-stranger', { 'owner@stranger.test': 'owner' });
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [() => unclaimDomain(domainDeps, people.member, { tenantId, domain: 'acme.test' }), 'permission-denied', /Only the owner or an admin can unclaim a domain; you are a member/],
      [() => unclaimDomain(domainDeps, stranger.people.owner, { tenantId, domain: 'acme.test' }), 'permission-denied', /not a member of this organisation/],
      [() => unclaimDomain(domainDeps, people.admin, { tenantId, domain: 'not a domain' }), 'invalid-argument', /^domain: /],
      [() => unclaimDomain(domainDeps, people.admin, { tenantId }), 'invalid-argument', /^domain: /],
      [() => unclaimDomain(domainDeps, people.admin, { tenantId, domain: 'acme.test', extra: 1 }), 'invalid-argument', /extra/],
      [() => unclaimDomain(domainDeps, people.admin, { tenantId, domain: 'never-claimed.test' }), 'not-found', /is not claimed by/],
      // Another tenant's unclaim of its own (absent) claim cannot touch this tenant's verified entry.
      [() => unclaimDomain(domainDeps, stranger.people.owner, { tenantId: stranger.tenantId, domain: 'acme.test' }), 'not-found', /is not claimed by/],
    ];
    for (const [call, code, message] of cases) {
      expect(await expectNothingWritten(call)).toMatchObject({ code, message: expect.stringMatching(message) });
    }
    expect((await db.doc('verifiedDomains/acme.test').get()).get('tenantId')).toBe(tenantId);

    expect(await unclaimDomain(domainDeps, people.admin, { tenantId, domain: 'Acme.test' })).toEqual({ tenantId, domain: 'acme.test', released: true });
    expect((await db.doc(`tenants/${tenantId}/domains/acme.test`).get()).exists).toBe(false);
    expect((await db.doc('verifiedDomains/acme.test').get()).exists).toBe(false);
    expect((await db.doc(`tenants/${tenantId}`).get()).get('heldDomains')).toEqual([]);
    expect(await lookupDomainJoin(db, await account('newcomer@acme.test'))).toEqual({ match: null });
    const claim = await claimDomain(domainDeps, stranger.people.owner, { tenantId: stranger.tenantId, domain: 'acme.test' });
    expect(claim.status).toBe('pending');
  });

  it('M2: unclaimDomain through the Functions emulator: the owner unclaims, a member is refused, the unauthenticated too', async () => {
    const { tenantId } = await seedTeam('t-unclaim-callable', { 'owner@uncl.test': 'owner', 'member@uncl.test': 'member' });
    const owner = await client('owner@uncl.test');
    const member = await client('member@uncl.test');
    await owner.call('claimDomain', { tenantId, domain: 'uncl.test' });
    await rejectsWith(member.call('unclaimDomain', { tenantId, domain: 'uncl.test' }), 'permission-denied', /Only the owner or an admin/);
    await rejectsWith(owner.call('unclaimDomain', { tenantId, domain: 'gmail' }), 'invalid-argument', /domain: /);
    await rejectsWith((await client('')).call('unclaimDomain', { tenantId, domain: 'uncl.test' }), 'unauthenticated');
    expect((await db.doc(`tenants/${tenantId}/domains/uncl.test`).get()).exists).toBe(true);
    expect(await owner.call('unclaimDomain', { tenantId, domain: 'uncl.test' })).toEqual({ tenantId, domain: 'uncl.test', released: false });
    expect((await db.doc(`tenants/${tenantId}/domains/uncl.test`).get()).exists).toBe(false);
  });

  it(`M2: recheckDomains re-checks verified domains: a removed record starts ${DOMAIN_LAPSE_GRACE_DAYS} days of grace with one mail to the owner and admins, its return restores the claim, and a record still missing after the grace period releases the domain`, async () => {
    const { tenantId, people } = await seedTeam('t-lapse', { 'owner@acme.test': 'owner', 'admin@acme.test': 'admin', 'member@acme.test': 'member' }, { name: 'Acme Robotics' });
    const t0 = new Date('2027-02-01T00:00:00Z');
    const at = (days: number) => new Date(t0.getTime() + days * DAY);
    const claim = await verifiedBy(tenantId, people.owner, 'acme.test', t0);
    const claimDoc = () => db.doc(`tenants/${tenantId}/domains/acme.test`).get();
    const lapseMails = async () => (await db.collection('mail').get()).docs.filter((d) => d.id.startsWith('domain-lapsing-'));

    expect((await recheckDomains(domainDeps, at(0.5))).held).toEqual([]); // not due before a day
    const day1 = await recheckDomains(domainDeps, at(1));
    expect(day1.held).toEqual([{ tenantId, domain: 'acme.test', status: 'verified', outcome: 'found', nextCheckAt: at(2).toISOString() }]);

    dns.clear(claim.recordName);
    const day2 = await recheckDomains(domainDeps, at(2));
    expect(day2.changed).toEqual([{ tenantId, domain: 'acme.test', to: 'lapsing', outcome: 'no-record' }]);
    expect((await claimDoc()).data()).toMatchObject({ status: 'lapsing', joinPolicy: 'auto' });
    expect((await claimDoc()).get('releaseAt').toDate()).toEqual(at(2 + DOMAIN_LAPSE_GRACE_DAYS));
    const mails = await lapseMails();
    expect(mails.map((m) => m.get('to')).sort()).toEqual(['admin@acme.test', 'owner@acme.test']);
    expect(mails.map((m) => m.id).sort()).toEqual([`domain-lapsing-${tenantId}-acme.test-${at(2).getTime()}-${people.admin.uid}`, `domain-lapsing-${tenantId}-acme.test-${at(2).getTime()}-${people.owner.uid}`].sort());
    expect(mails[0].get('message.subject')).toBe('acme.test: its verification record is missing');
    expect(mails[0].get('message.text')).toContain(claim.recordValue);
    // Still held in its grace period: colleagues are still routed to the tenant.
    expect((await lookupDomainJoin(db, await account('newcomer@acme.test'))).match).toMatchObject({ tenantId });
    // A later miss in the grace period mails nobody again.
    expect((await recheckDomains(domainDeps, at(2.5))).held).toEqual([expect.objectContaining({ status: 'lapsing', outcome: 'no-record' })]);
    expect(await lapseMails()).toHaveLength(2);

    // The record comes back: verified again, the grace period gone.
    dns.setTxt(claim.recordName, [claim.recordValue]);
    expect((await recheckDomains(domainDeps, at(3))).changed).toEqual([{ tenantId, domain: 'acme.test', to: 'verified', outcome: 'found' }]);
    expect((await claimDoc()).data()).toMatchObject({ status: 'verified', lapsingSince: null, releaseAt: null });

    // Gone again, for good: a new lapse (its own mails), then released once its grace period is over.
    dns.clear(claim.recordName);
    await recheckDomains(domainDeps, at(4));
    expect(await lapseMails()).toHaveLength(4);
    const buyer = await seedTeam('t-buyer', { 'owner@buyer.test': 'owner' });
    expect(await expectNothingWritten(() => claimDomain(domainDeps, buyer.people.owner, { tenantId: buyer.tenantId, domain: 'acme.test' }))).toMatchObject({ code: 'already-exists' });
    let last;
    for (let runs = 0; runs < 30 && (await claimDoc()).get('status') === 'lapsing'; runs++) {
      last = await recheckDomains(domainDeps, (await claimDoc()).get('nextCheckAt').toDate());
    }
    expect(last!.changed).toEqual([{ tenantId, domain: 'acme.test', to: 'released', outcome: 'no-record' }]);
    expect((await claimDoc()).data()).toMatchObject({ status: 'released', joinPolicy: 'off', nextCheckAt: null, releaseReason: expect.stringMatching(/missing for 7 days/) });
    expect((await claimDoc()).get('releasedAt').toDate()).toEqual(at(4 + DOMAIN_LAPSE_GRACE_DAYS));
    expect((await db.doc('verifiedDomains/acme.test').get()).exists).toBe(false);
    expect((await db.doc(`tenants/${tenantId}`).get()).get('heldDomains')).toEqual([]);
    expect(await lookupDomainJoin(db, await account('newcomer@acme.test'))).toEqual({ match: null });
    expect((await claimDomain(domainDeps, buyer.people.owner, { tenantId: buyer.tenantId, domain: 'acme.test' })).status).toBe('pending');
  });
});
