import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

function invalidFields(input: unknown): string[] {
  try {
    parseOrThrow(ProvisioningRequestSchema, input);
  } catch (error) {
    assert.ok(error instanceof DomainError);
    assert.equal(error.code, 'invalid-argument');
    return error.details?.fields as string[];
  }
  assert.fail('expected the request to be refused');
}

describe('slugs', () => {
  it('derives a lowercase, hyphenated, accent-free slug from the company name', () => {
    assert.equal(deriveSlug('  Émile & Sons, GmbH '), 'emile-sons-gmbh');
    assert.equal(deriveSlug('X'), 'x-team');
    assert.equal(deriveSlug('Admin'), 'admin-team');
    assert.ok(deriveSlug('a'.repeat(80)).length <= 40);
  });

  it('offers a tenant-id-suffixed fallback for a derived slug, and nothing else for an explicit one', () => {
    assert.deepEqual(slugCandidates(base, 'AbCdEf123'), ['acme-corp', 'acme-corp-abcdef']);
    assert.deepEqual(slugCandidates({ ...base, slug: 'acme' }, 'AbCdEf123'), ['acme']);
  });

  it('takes the fallback when the derived slug is taken, but refuses a taken explicit slug', () => {
    assert.equal(chooseSlug(base, ['acme-corp', 'acme-corp-abcdef'], [true, false]), 'acme-corp-abcdef');
    assert.throws(() => chooseSlug({ ...base, slug: 'acme' }, ['acme'], [true]), (e: DomainError) => e.code === 'already-exists' && /slug: 'acme' is already taken/.test(e.message));
  });
});

describe('provisioning request schema', () => {
  it('accepts a complete self-serve request', () => {
    assert.equal(parseOrThrow(ProvisioningRequestSchema, base).companyName, 'Acme Corp');
  });

  it('names each bad field', () => {
    assert.deepEqual(invalidFields({ ...base, companyName: 'A' }), ['companyName']);
    assert.deepEqual(invalidFields({ ...base, plan: 'gold' }), ['plan']);
    assert.deepEqual(invalidFields({ ...base, idempotencyKey: 'short' }), ['idempotencyKey']);
    assert.deepEqual(invalidFields({ ...base, slug: 'www' }), ['slug']);
    assert.deepEqual(invalidFields({ ...base, owner: { ...base.owner, email: 'nope' } }), ['owner.email']);
    assert.deepEqual(invalidFields({ ...base, extra: 1 }), ['']);
  });

  it('keeps sales-only terms away from self-serve', () => {
    assert.deepEqual(invalidFields({ ...base, plan: 'enterprise' }), ['plan']);
    assert.deepEqual(invalidFields({ ...base, seatCap: 50 }), ['seatCap']);
    assert.deepEqual(invalidFields({ ...base, goLiveAt: now }), ['goLiveAt']);
  });
});

describe('opening terms', () => {
  it('gives self-serve a trial of the plan length and the plan seat cap', () => {
    const terms = openingTerms(base, now);
    assert.equal(terms.status, 'trial');
    assert.equal(terms.seatCap, PLANS.starter.seatCap);
    assert.equal(terms.trialEndsAt?.getTime(), now.getTime() + PLANS.starter.trialDays * 86_400_000);
  });

  it('starts a sales tenant active at go-live, and in a trial ending at go-live before it', () => {
    const sales: ProvisioningRequest = { ...base, source: 'sales', plan: 'enterprise', seatCap: 120 };
    assert.deepEqual(openingTerms(sales, now), { status: 'active', trialEndsAt: null, goLiveAt: now, seatCap: 120 });
    const later = new Date('2027-01-01T00:00:00Z');
    assert.deepEqual(openingTerms({ ...sales, goLiveAt: later }, now), { status: 'trial', trialEndsAt: later, goLiveAt: later, seatCap: 120 });
  });
});

describe('dates Stripe would refuse', () => {
  it('refuses a go-live or trial end more than two years ahead, and accepts one inside', () => {
    const sales: ProvisioningRequest = { ...base, source: 'sales', plan: 'enterprise' };
    const inside = new Date(now.getTime() + 700 * 86_400_000);
    const beyond = new Date(now.getTime() + 731 * 86_400_000);
    assert.doesNotThrow(() => checkDates({ ...sales, goLiveAt: inside }, now));
    assert.throws(() => checkDates({ ...sales, goLiveAt: beyond }, now), (e: DomainError) => e.code === 'invalid-argument' && /goLiveAt: at most 730 days/.test(e.message));
    assert.throws(() => checkDates({ ...base, trialEndsAt: beyond }, now), (e: DomainError) => /trialEndsAt: at most/.test(e.message));
    assert.throws(() => checkDates({ ...base, trialEndsAt: new Date(now.getTime() - 1) }, now), (e: DomainError) => /trialEndsAt: must be in the future/.test(e.message));
  });
});

describe('idempotency', () => {
  it('maps a key to one job id and a request to one fingerprint, whoever asks', () => {
    assert.equal(jobIdFor('k-1234567'), jobIdFor('k-1234567'));
    assert.notEqual(jobIdFor('k-1234567'), jobIdFor('k-1234568'));
    assert.equal(fingerprintOf(base), fingerprintOf({ ...base, requestedBy: 'someone-else' }));
    assert.notEqual(fingerprintOf(base), fingerprintOf({ ...base, plan: 'team' }));
  });

  it('replays the stored result for the same request and refuses a different one', () => {
    const result = { tenantId: 't1', status: 'trial' as const, jobId: 'j1' };
    const job = { fingerprint: fingerprintOf(base), result, status: 'completed' as const, attempt: 1 };
    assert.deepEqual(decideOnExistingJob(job, base), { replay: result });
    assert.deepEqual(decideOnExistingJob({ ...job, status: 'running' }, base), { replay: result });
    assert.throws(
      () => decideOnExistingJob(job, { ...base, companyName: 'Other' }),
      (e: DomainError) => e.code === 'already-exists' && e.details?.field === 'idempotencyKey',
    );
  });

  it('starts a clean new attempt after a rollback, but not over an unfinished undo', () => {
    const result = { tenantId: 't1', status: 'trial' as const, jobId: 'j1' };
    const job = { fingerprint: fingerprintOf(base), result, attempt: 2 };
    assert.deepEqual(decideOnExistingJob({ ...job, status: 'rolled_back' }, base), { retry: 3 });
    assert.deepEqual(decideOnExistingJob({ ...job, status: 'failed', undoErrors: [] }, base), { retry: 3 });
    assert.throws(
      () => decideOnExistingJob({ ...job, status: 'failed', undoErrors: [{ step: 'x' }] }, base),
      (e: DomainError) => e.code === 'failed-precondition',
    );
  });
});
