// The provisioning routine against the real Firestore and Auth emulators.
import { beforeEach, describe, expect, it } from 'vitest';
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
  await expect(promise).rejects.toBeInstanceOf(DomainError);
  await expect(promise).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
}

describe('provisioning routine', () => {
  beforeEach(clearEmulators);

  it('writes the tenant, slug, owner membership, history entry and job in one go', async () => {
    const result = await provisionTenant(deps, selfServe('signup-0001'));
    expect(result.status).toBe('provisioning');
    expect(result.jobId).toBe(jobIdFor('signup-0001'));
    expect((await allDocumentPaths()).map((p) => p.replace(/history\/\w+$/, 'history/*'))).toEqual([
        `provisioningJobs/${result.jobId}`,
        'slugs/acme-corp',
        `tenants/${result.tenantId}`,
        `tenants/${result.tenantId}/history/*`,
        `tenants/${result.tenantId}/members/owner-1`,
      ].sort());
    const tenant = (await db.doc(`tenants/${result.tenantId}`).get()).data()!;
    expect(tenant.name).toBe('Acme Corp');
    expect(tenant.slug).toBe('acme-corp');
    expect(tenant.ownerUid).toBe('owner-1');
    expect(tenant.source).toBe('self_serve');
    expect(tenant.seatCap).toBe(5);
    expect(tenant.status, 'opened by the saga, not here').toBe('provisioning');
    expect(tenant.trialEndsAt.toDate() > new Date()).toBeTruthy();
    const member = (await db.doc(`tenants/${result.tenantId}/members/owner-1`).get()).data()!;
    expect([member.role, member.email, member.uid]).toEqual(['owner', 'ada@acme.test', 'owner-1']);
    const job = (await db.doc(`provisioningJobs/${result.jobId}`).get()).data()!;
    expect([job.idempotencyKey, job.tenantId, job.status, job.attempt]).toEqual(['signup-0001', result.tenantId, 'pending', 1]);
  });

  it('replays the first result for the same key, one call after another', async () => {
    const first = await provisionTenant(deps, selfServe('signup-0002'));
    for (let i = 0; i < 3; i++) expect(await provisionTenant(deps, selfServe('signup-0002'))).toEqual(first);
    expect(await countDocs('tenants')).toBe(1);
    expect(await countGroup('members')).toBe(1);
    expect(await countDocs('provisioningJobs')).toBe(1);
  });

  it('makes exactly one tenant from 20 concurrent duplicates', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, selfServe('signup-0003'))));
    expect(new Set(results.map((r) => r.tenantId)).size).toBe(1);
    expect(await countDocs('tenants')).toBe(1);
    expect(await countGroup('members')).toBe(1);
    expect(await countDocs('provisioningJobs')).toBe(1);
    expect(await countDocs('slugs')).toBe(1);
  });

  it('refuses the same key with different input and writes nothing', async () => {
    await provisionTenant(deps, selfServe('signup-0004'));
    const before = await allDocumentPaths();
    await assertRefused(provisionTenant(deps, selfServe('signup-0004', { plan: 'team' })), 'already-exists', /idempotencyKey: .* different provisioning request/);
    expect(await allDocumentPaths()).toEqual(before);
  });

  it('gives a derived slug a suffix when another tenant holds it', async () => {
    const first = await provisionTenant(deps, selfServe('signup-0005'));
    const second = await provisionTenant(deps, selfServe('signup-0006', { owner: { uid: 'owner-2', email: 'bob@other.test', displayName: 'Bob' } }));
    const slugs = await Promise.all([first, second].map(async (r) => (await db.doc(`tenants/${r.tenantId}`).get()).get('slug')));
    expect(slugs[0]).toBe('acme-corp');
    expect(slugs[1]).toMatch(/^acme-corp-[a-z0-9]{6}$/);
    expect((await db.doc(`slugs/${slugs[1]}`).get()).get('tenantId')).toBe(second.tenantId);
  });

  it('refuses an explicit slug held by another tenant and writes nothing', async () => {
    await provisionTenant(deps, selfServe('signup-0007', { slug: 'acme' }));
    const before = await allDocumentPaths();
    const other = selfServe('signup-0008', { slug: 'acme', owner: { uid: 'owner-2', email: 'bob@other.test', displayName: 'Bob' } });
    await assertRefused(provisionTenant(deps, other), 'already-exists', /slug: 'acme' is already taken/);
    expect(await allDocumentPaths()).toEqual(before);
  });

  it('refuses invalid input naming the field, and writes nothing', async () => {
    await assertRefused(provisionTenant(deps, selfServe('signup-0009', { seatCap: 0 })), 'invalid-argument', /seatCap/);
    await assertRefused(provisionTenant(deps, { ...selfServe('signup-0010'), companyName: '' }), 'invalid-argument', /companyName/);
    expect(await allDocumentPaths()).toEqual([]);
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
    expect(new Set(results.map((r) => r.tenantId)).size).toBe(1);
    expect(await authUserEmails()).toEqual(['cto@bigco.test']);
    const tenant = (await db.doc(`tenants/${results[0].tenantId}`).get()).data()!;
    const owner = (await db.doc(`tenants/${results[0].tenantId}/members/${tenant.ownerUid}`).get()).data()!;
    expect([owner.role, owner.email]).toEqual(['owner', 'cto@bigco.test']);
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
    expect(await authUserEmails()).toEqual([]);
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
    expect(naiveTenants > 1, `the naive path made ${naiveTenants} tenant(s)`).toBeTruthy();

    await clearEmulators();
    await Promise.all(Array.from({ length: 20 }, () => provisionTenant(deps, selfServe('naive-0001'))));
    expect(await countDocs('tenants')).toBe(1);
  });
});
