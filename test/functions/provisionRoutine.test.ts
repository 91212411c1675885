// The provisioning routine against the real Firestore and Auth emulators.
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { jobIdFor, type ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { DomainError } from '../../functions/src/domain/errors';
import { provisionTenant } from '../../functions/src/provisioning/provisionTenant';
import { allDocumentPaths, authUserEmails, clearEmulators, countDocs, countGroup, db, deps } from '../helpers/emulators';

const selfServe = (key: string, overrides: Partial<ProvisioningRequest> = {}): ProvisioningRequest => ({
  idempotencyKey: key,
  source: 'self_serve',
  owner: { uid: 'owner-1', email: 'ada@acme.test', displayName: 'Ada Lovelace' },
  companyName: 'Acme Corp',
  plan: 'starter',
  requestedBy: 'owner-1',
  ...overrides,
});

async function assertRefused(promise: Promise<unknown>, code: string, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DomainError, `expected a DomainError, got ${error}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('provisioning routine', () => {
  beforeEach(clearEmulators);

  it('writes the tenant, slug, owner membership, history entry and job in one go', async () => {
    const result = await provisionTenant(deps, selfServe('signup-0001'));
    assert.equal(result.status, 'trial');
    assert.equal(result.jobId, jobIdFor('signup-0001'));
    assert.deepEqual(
      (await allDocumentPaths()).map((p) => p.replace(/history\/\w+$/, 'history/*')),
      [
        `provisioningJobs/${result.jobId}`,
        'slugs/acme-corp',
        `tenants/${result.tenantId}`,
        `tenants/${result.tenantId}/history/*`,
        `tenants/${result.tenantId}/members/owner-1`,
      ].sort(),
    );
    const tenant = (await db.doc(`tenants/${result.tenantId}`).get()).data()!;
    assert.equal(tenant.name, 'Acme Corp');
    assert.equal(tenant.slug, 'acme-corp');
    assert.equal(tenant.ownerUid, 'owner-1');
    assert.equal(tenant.source, 'self_serve');
    assert.equal(tenant.seatCap, 5);
    assert.equal(tenant.status, 'trial');
    assert.ok(tenant.trialEndsAt.toDate() > new Date());
    const member = (await db.doc(`tenants/${result.tenantId}/members/owner-1`).get()).data()!;
    assert.deepEqual([member.role, member.email, member.uid], ['owner', 'ada@acme.test', 'owner-1']);
    const job = (await db.doc(`provisioningJobs/${result.jobId}`).get()).data()!;
    assert.deepEqual([job.idempotencyKey, job.tenantId, job.status, job.attempt], ['signup-0001', result.tenantId, 'pending', 1]);
  });

  it('replays the first result for the same key, one call after another', async () => {
    const first = await provisionTenant(deps, selfServe('signup-0002'));
    for (let i = 0; i < 3; i++) assert.deepEqual(await provisionTenant(deps, selfServe('signup-0002')), first);
    assert.equal(await countDocs('tenants'), 1);
    assert.equal(await countGroup('members'), 1);
    assert.equal(await countDocs('provisioningJobs'), 1);
  });

  it('makes exactly one tenant from 20 concurrent duplicates', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, selfServe('signup-0003'))));
    assert.equal(new Set(results.map((r) => r.tenantId)).size, 1);
    assert.equal(await countDocs('tenants'), 1);
    assert.equal(await countGroup('members'), 1);
    assert.equal(await countDocs('provisioningJobs'), 1);
    assert.equal(await countDocs('slugs'), 1);
  });

  it('refuses the same key with different input and writes nothing', async () => {
    await provisionTenant(deps, selfServe('signup-0004'));
    const before = await allDocumentPaths();
    await assertRefused(provisionTenant(deps, selfServe('signup-0004', { plan: 'team' })), 'already-exists', /idempotencyKey: .* different provisioning request/);
    assert.deepEqual(await allDocumentPaths(), before);
  });

  it('gives a derived slug a suffix when another tenant holds it', async () => {
    const first = await provisionTenant(deps, selfServe('signup-0005'));
    const second = await provisionTenant(deps, selfServe('signup-0006', { owner: { uid: 'owner-2', email: 'bob@other.test', displayName: 'Bob' } }));
    const slugs = await Promise.all([first, second].map(async (r) => (await db.doc(`tenants/${r.tenantId}`).get()).get('slug')));
    assert.equal(slugs[0], 'acme-corp');
    assert.match(slugs[1], /^acme-corp-[a-z0-9]{6}$/);
    assert.equal((await db.doc(`slugs/${slugs[1]}`).get()).get('tenantId'), second.tenantId);
  });

  it('refuses an explicit slug held by another tenant and writes nothing', async () => {
    await provisionTenant(deps, selfServe('signup-0007', { slug: 'acme' }));
    const before = await allDocumentPaths();
    const other = selfServe('signup-0008', { slug: 'acme', owner: { uid: 'owner-2', email: 'bob@other.test', displayName: 'Bob' } });
    await assertRefused(provisionTenant(deps, other), 'already-exists', /slug: 'acme' is already taken/);
    assert.deepEqual(await allDocumentPaths(), before);
  });

  it('refuses invalid input naming the field, and writes nothing', async () => {
    await assertRefused(provisionTenant(deps, selfServe('signup-0009', { seatCap: 0 })), 'invalid-argument', /seatCap/);
    await assertRefused(provisionTenant(deps, { ...selfServe('signup-0010'), companyName: '' }), 'invalid-argument', /companyName/);
    assert.deepEqual(await allDocumentPaths(), []);
  });

  it('creates an Auth user for an owner named by email only, once, under concurrency', async () => {
    const sales = (key: string): ProvisioningRequest => ({
      idempotencyKey: key,
      source: 'sales',
      owner: { email: 'cto@bigco.test', displayName: 'Grace Hopper' },
      companyName: 'BigCo',
      plan: 'enterprise',
      seatCap: 300,
      requestedBy: 'staff-1',
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => provisionTenant(deps, sales('deal-0001'))));
    assert.equal(new Set(results.map((r) => r.tenantId)).size, 1);
    assert.deepEqual(await authUserEmails(), ['cto@bigco.test']);
    const tenant = (await db.doc(`tenants/${results[0].tenantId}`).get()).data()!;
    const owner = (await db.doc(`tenants/${results[0].tenantId}/members/${tenant.ownerUid}`).get()).data()!;
    assert.deepEqual([owner.role, owner.email], ['owner', 'cto@bigco.test']);
  });

  it('creates no Auth user for a named owner when the request is refused', async () => {
    await provisionTenant(deps, selfServe('signup-0011', { slug: 'taken' }));
    const refused: ProvisioningRequest = {
      idempotencyKey: 'deal-0002',
      source: 'sales',
      owner: { email: 'new@bigco.test', displayName: 'New Person' },
      companyName: 'BigCo',
      slug: 'taken',
      plan: 'enterprise',
      requestedBy: 'staff-1',
    };
    await assertRefused(provisionTenant(deps, refused), 'already-exists', /slug: 'taken'/);
    assert.deepEqual(await authUserEmails(), []);
  });
});

describe('a naive check-then-create, for contrast', () => {
  beforeEach(clearEmulators);

  /** What the seeds warn about: look for the job, and create the tenant if none, without a transaction. */
  async function naiveProvision(key: string) {
    const existing = await db.collection('provisioningJobs').where('idempotencyKey', '==', key).get();
    if (!existing.empty) return existing.docs[0].get('tenantId') as string;
    const tenant = db.collection('tenants').doc();
    await tenant.set({ name: 'Acme Corp' });
    await db.collection('provisioningJobs').add({ idempotencyKey: key, tenantId: tenant.id });
    return tenant.id;
  }

  it('makes duplicate tenants under 20 concurrent requests, where the routine makes one', async () => {
    await Promise.all(Array.from({ length: 20 }, () => naiveProvision('naive-0001')));
    const naiveTenants = await countDocs('tenants');
    assert.ok(naiveTenants > 1, `the naive path made ${naiveTenants} tenant(s)`);

    await clearEmulators();
    await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, selfServe('naive-0001'))));
    assert.equal(await countDocs('tenants'), 1);
  });
});
