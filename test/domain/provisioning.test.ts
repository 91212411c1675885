import { describe, expect, it } from 'vitest';
import { DomainError } from '../../functions/src/domain/errors';
import {
  checkDates,
  chooseSlug,
  deriveSlug,
  fingerprintOf,
  jobIdFor,
  openingTerms,
  ProvisioningRequestSchema,
  decideOnExistingJob,
  slugCandidates,
  type ProvisioningRequest,
} from '../../functions/src/domain/provisioning';
import { PLANS } from '../../functions/src/domain/plans';
import { parseOrThrow } from '../../functions/src/domain/validation';

const now = new Date('2026-11-22T12:00:00Z');
const base: ProvisioningRequest = {
  idempotencyKey: 'key-00000001',
  source: 'self_serve',
  owner: { uid: 'u1', email: 'ada@acme.test', displayName: 'Ada' },
  companyName: 'Acme Corp',
  plan: 'starter',
  requestedBy: 'u1',
};

/** A DomainError with `code` whose message matches `message`. */
const refusal = (code: string, message: RegExp) => expect.objectContaining({ code, message: expect.stringMatching(message) });

function invalidFields(input: unknown): string[] {
  try {
    parseOrThrow(ProvisioningRequestSchema, input);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('invalid-argument');
    return (error as DomainError).details?.fields as string[];
  }
  expect.fail('expected the request to be refused');
}

describe('slugs', () => {
  it('derives a lowercase, hyphenated, accent-free slug from the company name', () => {
    expect(deriveSlug('  Émile & Sons, GmbH ')).toBe('emile-sons-gmbh');
    expect(deriveSlug('X')).toBe('x-team');
    expect(deriveSlug('Admin')).toBe('admin-team');
    expect(deriveSlug('a'.repeat(80)).length <= 40).toBeTruthy();
  });

  it('offers a tenant-id-suffixed fallback for a derived slug, and nothing else for an explicit one', () => {
    expect(slugCandidates(base, 'AbCdEf123')).toEqual(['acme-corp', 'acme-corp-abcdef']);
    expect(slugCandidates({ ...base, slug: 'acme' }, 'AbCdEf123')).toEqual(['acme']);
  });

  it('takes the fallback when the derived slug is taken, but refuses a taken explicit slug', () => {
    expect(chooseSlug(base, ['acme-corp', 'acme-corp-abcdef'], [true, false])).toBe('acme-corp-abcdef');
    expect(() => chooseSlug({ ...base, slug: 'acme' }, ['acme'], [true])).toThrow(refusal('already-exists', /slug: 'acme' is already taken/));
  });
});

describe('provisioning request schema', () => {
  it('accepts a complete self-serve request', () => {
    expect(parseOrThrow(ProvisioningRequestSchema, base).companyName).toBe('Acme Corp');
  });

  it('names each bad field', () => {
    expect(invalidFields({ ...base, companyName: 'A' })).toEqual(['companyName']);
    expect(invalidFields({ ...base, plan: 'gold' })).toEqual(['plan']);
    expect(invalidFields({ ...base, idempotencyKey: 'short' })).toEqual(['idempotencyKey']);
    expect(invalidFields({ ...base, slug: 'www' })).toEqual(['slug']);
    expect(invalidFields({ ...base, owner: { ...base.owner, email: 'nope' } })).toEqual(['owner.email']);
    expect(invalidFields({ ...base, extra: 1 })).toEqual(['']);
  });

  it('keeps sales-only terms away from self-serve', () => {
    expect(invalidFields({ ...base, plan: 'enterprise' })).toEqual(['plan']);
    expect(invalidFields({ ...base, seatCap: 50 })).toEqual(['seatCap']);
    expect(invalidFields({ ...base, goLiveAt: now })).toEqual(['goLiveAt']);
  });
});

describe('opening terms', () => {
  it('gives self-serve a trial of the plan length and the plan seat cap', () => {
    const terms = openingTerms(base, now);
    expect(terms.seatCap).toBe(PLANS.starter.seatCap);
    expect(terms.trialEndsAt?.getTime()).toBe(now.getTime() + PLANS.starter.trialDays * 86_400_000);
  });

  it('gives a sales tenant live at go-live no trial (it opens active), and a trial ending at go-live before it', () => {
    const sales: ProvisioningRequest = { ...base, source: 'sales', plan: 'enterprise', seatCap: 120 };
    expect(openingTerms(sales, now)).toEqual({ trialEndsAt: null, goLiveAt: now, seatCap: 120 });
    const later = new Date('2027-01-01T00:00:00Z');
    expect(openingTerms({ ...sales, goLiveAt: later }, now)).toEqual({ trialEndsAt: later, goLiveAt: later, seatCap: 120 });
  });
});

describe('dates Stripe would refuse', () => {
  it('refuses a go-live or trial end more than two years ahead, and accepts one inside', () => {
    const sales: ProvisioningRequest = { ...base, source: 'sales', plan: 'enterprise' };
    const inside = new Date(now.getTime() + 700 * 86_400_000);
    const beyond = new Date(now.getTime() + 731 * 86_400_000);
    expect(() => checkDates({ ...sales, goLiveAt: inside }, now)).not.toThrow();
    expect(() => checkDates({ ...sales, goLiveAt: beyond }, now)).toThrow(refusal('invalid-argument', /goLiveAt: at most 730 days/));
    expect(() => checkDates({ ...base, trialEndsAt: beyond }, now)).toThrow(/trialEndsAt: at most/);
    expect(() => checkDates({ ...base, trialEndsAt: new Date(now.getTime() - 1) }, now)).toThrow(/trialEndsAt: must be in the future/);
  });
});

describe('idempotency', () => {
  it('maps a key to one job id and a request to one fingerprint, whoever asks', () => {
    expect(jobIdFor('k-1234567')).toBe(jobIdFor('k-1234567'));
    expect(jobIdFor('k-1234567')).not.toBe(jobIdFor('k-1234568'));
    expect(fingerprintOf(base)).toBe(fingerprintOf({ ...base, requestedBy: 'someone-else' }));
    expect(fingerprintOf(base)).not.toBe(fingerprintOf({ ...base, plan: 'team' }));
  });

  it('replays the stored result for the same request and refuses a different one', () => {
    const result = { tenantId: 't1', status: 'trial' as const, jobId: 'j1' };
    const job = { fingerprint: fingerprintOf(base), result, status: 'completed' as const, attempt: 1 };
    expect(decideOnExistingJob(job, base)).toEqual({ replay: result });
    expect(decideOnExistingJob({ ...job, status: 'running' }, base)).toEqual({ replay: result });
    expect(() => decideOnExistingJob(job, { ...base, companyName: 'Other' })).toThrow(
      expect.objectContaining({ code: 'already-exists', details: expect.objectContaining({ field: 'idempotencyKey' }) }),
    );
  });

  it('starts a clean new attempt after a rollback, but not over an unfinished undo', () => {
    const result = { tenantId: 't1', status: 'trial' as const, jobId: 'j1' };
    const job = { fingerprint: fingerprintOf(base), result, attempt: 2 };
    expect(decideOnExistingJob({ ...job, status: 'rolled_back' }, base)).toEqual({ retry: 3 });
    expect(decideOnExistingJob({ ...job, status: 'failed', undoErrors: [] }, base)).toEqual({ retry: 3 });
    expect(() => decideOnExistingJob({ ...job, status: 'failed', undoErrors: [{ step: 'x' }] }, base)).toThrow(
      expect.objectContaining({ code: 'failed-precondition' }),
    );
  });
});
