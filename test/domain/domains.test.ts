// Domain capture's pure rules: which domains can be claimed, what a TXT answer means, and how long
// a pending claim is retried before it fails.
import { describe, expect, it } from 'vitest';
import {
  afterCheck,
  afterReverify,
  challengeFor,
  checkClaimable,
  ClaimDomainSchema,
  DOMAIN_LAPSE_GRACE_DAYS,
  DOMAIN_REVERIFY_INTERVAL_MS,
  DOMAIN_VERIFY_WINDOW_DAYS,
  evaluateTxt,
  FIRST_RECHECK_MS,
  isPublicMailDomain,
  MAX_RECHECK_MS,
  recheckDelayMs,
  verifyDeadline,
  type DomainCheck,
  type PendingClaim,
} from '../../functions/src/domain/domains';
import { DomainError } from '../../functions/src/domain/errors';
import { transition } from '../../functions/src/domain/lifecycle';
import { parseOrThrow } from '../../functions/src/domain/validation';

const DAY = 86_400_000;
const domainOf = (domain: string) => parseOrThrow(ClaimDomainSchema, { tenantId: 't1', domain }).domain;

describe('which domains a tenant can claim', () => {
  it('normalises: case, spaces, a trailing dot, internationalised names as punycode', () => {
    expect(domainOf(' Acme.COM. ')).toBe('acme.com');
    expect(domainOf('bücher.example')).toBe('xn--bcher-kva.example');
    expect(domainOf('mail.acme.co.uk')).toBe('mail.acme.co.uk');
  });

  it('refuses what is not a domain name, naming the field', () => {
    for (const bad of ['acme', 'ada@acme.com', '-acme.com', 'acme-.com', '10.0.0.1', 'a..b.com', `${'x'.repeat(64)}.com`, '']) {
      expect(() => domainOf(bad), bad).toThrow(/^domain: /);
    }
  });

  it('public mail domains and their subdomains are not claimable', () => {
    for (const domain of ['gmail.com', 'outlook.com', 'yahoo.co.uk', 'proton.me', 'mail.yahoo.com']) expect(isPublicMailDomain(domain), domain).toBe(true);
    for (const domain of ['acme.com', 'gmail.acme.com', 'notgmail.com']) expect(isPublicMailDomain(domain), domain).toBe(false);
    expect(() => checkClaimable('gmail.com', 't1', null)).toThrow(/gmail\.com is a public mail provider/);
  });

  it('a domain another tenant verified is refused; this tenant’s own is not', () => {
    let refused: unknown;
    try {
      checkClaimable('acme.com', 't1', 't2');
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'already-exists', details: { reason: 'verified-elsewhere', field: 'domain' } });
    expect(() => checkClaimable('acme.com', 't1', 't1')).not.toThrow();
  });
});

describe('what one DNS check saw', () => {
  const challenge = challengeFor('acme.com', 'secret123');
  const at = new Date('2027-01-01T00:00:00Z');

  it('the record: a name under the domain, a value naming the product', () => {
    expect(challenge).toEqual({ recordName: '_tenancy-challenge.acme.com', recordValue: 'tenancy-domain-verification=secret123' });
  });

  it('found, among other TXT records, and when split into character-strings', () => {
    expect(evaluateTxt(challenge, { records: [['v=spf1 -all'], ['tenancy-domain-verification=secret123']] }, at).outcome).toBe('found');
    expect(evaluateTxt(challenge, { records: [['tenancy-domain-verification=', 'secret123']] }, at).outcome).toBe('found');
  });

  it('no record, another value (shown, with the value to set), a failed lookup', () => {
    const none = evaluateTxt(challenge, { records: [] }, at);
    expect(none).toMatchObject({ outcome: 'no-record', seen: [] });
    expect(none.message).toMatch(/No TXT record at _tenancy-challenge\.acme\.com yet.*48 hours/);
    const other = evaluateTxt(challenge, { records: [['tenancy-domain-verification=old']] }, at);
    expect(other).toMatchObject({ outcome: 'other-value', seen: ['tenancy-domain-verification=old'] });
    expect(other.message).toContain('Set it to exactly "tenancy-domain-verification=secret123"');
    expect(evaluateTxt(challenge, { error: 'ESERVFAIL' }, at)).toMatchObject({ outcome: 'lookup-failed', message: expect.stringContaining('ESERVFAIL') });
  });
});

describe('retries of a pending claim', () => {
  const claimedAt = new Date('2027-01-01T00:00:00Z');
  const claim = (attempts: number): PendingClaim => ({ domain: 'acme.com', tenantId: 't1', claimedAt, attempts, recordName: 'n', recordValue: 'v' });
  const check = (outcome: 'found' | 'no-record', at: Date) => ({ at, outcome, seen: [], message: `saw ${outcome}.` });

  it('back off from 5 minutes, doubling, to at most 12 hours', () => {
    expect(recheckDelayMs(1)).toBe(FIRST_RECHECK_MS);
    expect(recheckDelayMs(2)).toBe(2 * FIRST_RECHECK_MS);
    expect(recheckDelayMs(5)).toBe(16 * FIRST_RECHECK_MS);
    expect(recheckDelayMs(30)).toBe(MAX_RECHECK_MS);
  });

  it('a miss stays pending with the next check scheduled; the last one lands on the deadline', () => {
    const now = new Date(claimedAt.getTime() + DAY);
    const next = afterCheck(claim(3), check('no-record', now), null, now);
    expect(next).toMatchObject({ status: 'pending', attempts: 4, nextCheckAt: new Date(now.getTime() + 8 * FIRST_RECHECK_MS) });
    const lateNow = new Date(verifyDeadline(claimedAt).getTime() - 60_000);
    expect(afterCheck(claim(40), check('no-record', lateNow), null, lateNow)).toMatchObject({ status: 'pending', nextCheckAt: verifyDeadline(claimedAt) });
  });

  it(`after ${DOMAIN_VERIFY_WINDOW_DAYS} days a miss fails, saying what the last check saw`, () => {
    const now = verifyDeadline(claimedAt);
    const failed = afterCheck(claim(40), check('no-record', now), null, now);
    expect(failed.status).toBe('failed');
    expect(failed).toMatchObject({ failureReason: expect.stringMatching(/^Not verified within 7 days\. The last check: saw no-record\. Claim the domain again/) });
  });

  it('found: verified, unless another tenant verified the domain first', () => {
    const now = new Date(claimedAt.getTime() + 2 * DAY);
    expect(afterCheck(claim(1), check('found', now), null, now)).toMatchObject({ status: 'verified', verifiedAt: now, nextCheckAt: new Date(now.getTime() + DOMAIN_REVERIFY_INTERVAL_MS) });
    expect(afterCheck(claim(1), check('found', now), 't1', now).status).toBe('verified');
    expect(afterCheck(claim(1), check('found', now), 't2', now)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/verified by another organisation first/) });
  });
});

describe('M2: a held domain stays its tenant\'s only while its record stays', () => {
  const now = new Date('2027-03-01T00:00:00Z');
  const found: DomainCheck = { at: now, outcome: 'found', seen: ['x'], message: 'found' };
  const missing: DomainCheck = { at: now, outcome: 'no-record', seen: [], message: 'No TXT record' };
  const failedLookup: DomainCheck = { at: now, outcome: 'lookup-failed', seen: [], message: 'SERVFAIL' };
  const held = (lapsingSince: Date | null) => ({ domain: 'acme.test', tenantId: 't1', status: lapsingSince ? ('lapsing' as const) : ('verified' as const), lapsingSince });

  it('M2: found keeps it verified and looks again a day later; a lapsing one is restored', () => {
    expect(afterReverify(held(null), found, now)).toMatchObject({ status: 'verified', nextCheckAt: new Date(now.getTime() + DOMAIN_REVERIFY_INTERVAL_MS), restored: false });
    expect(afterReverify(held(new Date(now.getTime() - 2 * DAY)), found, now)).toMatchObject({ status: 'verified', lapsingSince: null, releaseAt: null, restored: true });
  });

  it(`M2: a missing record starts ${DOMAIN_LAPSE_GRACE_DAYS} days of grace once, and releases the domain at their end`, () => {
    const first = afterReverify(held(null), missing, now);
    expect(first).toMatchObject({ status: 'lapsing', lapsingSince: now, releaseAt: new Date(now.getTime() + 7 * DAY), startedLapsing: true });
    const later = new Date(now.getTime() + 3 * DAY);
    expect(afterReverify(held(now), missing, later)).toMatchObject({ status: 'lapsing', lapsingSince: now, startedLapsing: false, nextCheckAt: new Date(later.getTime() + MAX_RECHECK_MS) });
    // The last re-check lands on the end of the grace period itself.
    const nearEnd = new Date(now.getTime() + 7 * DAY - 60_000);
    expect(afterReverify(held(now), missing, nearEnd)).toMatchObject({ status: 'lapsing', nextCheckAt: new Date(now.getTime() + 7 * DAY) });
    const end = new Date(now.getTime() + 7 * DAY);
    expect(afterReverify(held(now), missing, end)).toMatchObject({ status: 'released', joinPolicy: 'off', releaseReason: expect.stringMatching(/missing for 7 days/) });
  });

  it('M2: a failed lookup proves nothing: it neither starts the grace period nor releases', () => {
    expect(afterReverify(held(null), failedLookup, now)).toMatchObject({ status: 'verified', restored: false });
    expect(afterReverify(held(now), failedLookup, new Date(now.getTime() + 30 * DAY))).toMatchObject({ status: 'lapsing', lapsingSince: now });
  });

  it('M2: cancelling a tenant or rolling its provisioning back releases its domains; other transitions do not', () => {
    const releases = (status: Parameters<typeof transition>[0], event: Parameters<typeof transition>[1]) =>
      transition(status, event).effects.some((e) => e.type === 'releaseDomains');
    expect(releases('active', 'cancel')).toBe(true);
    expect(releases('past_due', 'subscription_canceled')).toBe(true);
    expect(releases('provisioning', 'provisioning_rolled_back')).toBe(true);
    expect(releases('trial', 'trial_ended')).toBe(false);
    expect(releases('active', 'suspend')).toBe(false);
    expect(releases('cancelled', 'reactivated')).toBe(false);
  });
});
