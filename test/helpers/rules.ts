// Security-rules tests: a test environment on the emulator that `npm test` started, and seed data.
import { readFileSync } from 'node:fs';
import { initializeTestEnvironment, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { doc, setLogLevel, writeBatch, type Firestore } from 'firebase/firestore';
import { tenantSearchFields } from '../../functions/src/domain/console';
import type { NewTenant } from '../../functions/src/domain/provisioning';
import type { TenantRole, TenantStatus } from '../../functions/src/domain/status';

/**
 * A rules test environment on the emulator that `npm test` started: on the run's own project (the
 * data the functions write) unless `projectId` names another. The Firestore emulator keeps data and
 * rules per project id, so files on projects of their own run side by side (see rulesOnlyProject).
 */
export async function rulesTestEnvironment(projectId = process.env.GCLOUD_PROJECT): Promise<RulesTestEnvironment> {
  const hostPort = process.env.FIRESTORE_EMULATOR_HOST;
  if (!hostPort || !projectId) throw new Error('FIRESTORE_EMULATOR_HOST and GCLOUD_PROJECT are not set: run the tests with `npm test`');
  // Denied writes are what these tests expect; the SDK would log each one as a stream error.
  setLogLevel('silent');
  const at = hostPort.lastIndexOf(':');
  return initializeTestEnvironment({
    projectId,
    firestore: { host: hostPort.slice(0, at), port: Number(hostPort.slice(at + 1)), rules: readFileSync('firestore.rules', 'utf8') },
  });
}

/**
 * A project id of this vitest worker's own, for the rules files: they never need the functions, so
 * each worker's files get data and rules no other file running at the same time can touch.
 */
export function rulesOnlyProject(): string {
  return `${process.env.GCLOUD_PROJECT}-rules-${process.env.VITEST_POOL_ID ?? 0}`;
}

const day = 86_400_000;
const epoch = new Date('2026-01-01T00:00:00Z');

/** A tenant document as provisioning writes it (typed against NewTenant, so a new field shows up here). */
export function tenantFixture(tenantId: string, overrides: Partial<NewTenant> = {}): NewTenant {
  const name = overrides.name ?? `Tenant ${tenantId}`;
  const slug = overrides.slug ?? tenantId.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return {
    name,
    slug,
    plan: 'team',
    status: 'active',
    seatCap: 25,
    pendingInviteLimit: 50,
    seats: { members: 1, pendingInvites: 0 },
    trialEndsAt: new Date(epoch.getTime() + 14 * day),
    goLiveAt: null,
    daysUntilDue: null,
    ownerUid: 'u-owner',
    source: 'self_serve',
    stripeCustomerId: null,
    stripeSubscriptionId: null,
    billingEmail: 'billing@acme.test',
    failedPaymentRetries: 0,
    provisioningJobId: `job-${tenantId}`,
    ownerEmailVerified: true,
    ...tenantSearchFields(name, slug),
    createdAt: epoch,
    updatedAt: epoch,
    ...overrides,
  };
}

export function membership(uid: string, role: TenantRole) {
  return { uid, role, email: `${uid}@acme.test`, displayName: uid, joinedAt: epoch };
}

export function record(createdBy: string, title = 'A record') {
  return { title, body: 'Some text', createdBy, createdAt: epoch, updatedAt: epoch };
}

export function invite(email = 'new@acme.test', role: TenantRole = 'member') {
  return { email, role, status: 'pending', expiresAt: new Date(epoch.getTime() + 7 * day) };
}

export interface SeedTenant {
  tenantId: string;
  status: TenantStatus;
  failedPaymentRetries?: number;
  ownerUid?: string;
  /** uid -> role */
  members: Record<string, TenantRole>;
  /** Further documents under the tenant, path relative to it -> data. */
  docs?: Record<string, Record<string, unknown>>;
}

/** Writes tenants with their memberships and documents, bypassing the rules, in batches of at most 400 writes. */
export async function seed(env: RulesTestEnvironment, tenants: SeedTenant[], topLevel: Record<string, Record<string, unknown>> = {}) {
  await env.withSecurityRulesDisabled(async (context) => {
    const db = context.firestore() as unknown as Firestore;
    const writes: Array<[string, Record<string, unknown>]> = [];
    for (const t of tenants) {
      const base = `tenants/${t.tenantId}`;
      writes.push([base, { ...tenantFixture(t.tenantId, { status: t.status, failedPaymentRetries: t.failedPaymentRetries ?? 0, ownerUid: t.ownerUid ?? 'u-owner' }) }]);
      for (const [uid, role] of Object.entries(t.members)) writes.push([`${base}/members/${uid}`, membership(uid, role)]);
      for (const [path, data] of Object.entries(t.docs ?? {})) writes.push([`${base}/${path}`, data]);
    }
    writes.push(...Object.entries(topLevel));
    for (let i = 0; i < writes.length; i += 400) {
      const batch = writeBatch(db);
      for (const [path, data] of writes.slice(i, i + 400)) batch.set(doc(db, path), data);
      await batch.commit();
    }
  });
}
