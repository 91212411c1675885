// Tenants in a chosen state for the browser tests, written straight into the emulators with the Admin
// SDK (as provisioning and the lifecycle would leave them), with accounts that can sign in.
import type { TenantRole, TenantStatus } from '../../functions/src/domain/status';
import { auth, db } from '../helpers/emulators';
import { tenantFixture } from '../helpers/rules';
import { PASSWORD } from './harness';

const DAY = 86_400_000;

/** An account that signs in with PASSWORD (created once per email). */
export async function account(email: string, claims?: Record<string, string>): Promise<string> {
  const user = await auth.getUserByEmail(email).catch(() => auth.createUser({ email, password: PASSWORD, displayName: email.split('@')[0] }));
  if (claims) await auth.setCustomUserClaims(user.uid, claims);
  return user.uid;
}

export interface SeededTenant {
  tenantId: string;
  uids: Record<string, string>;
}

/**
 * A tenant with one member per `members` entry (the first is the owner), in `status`, with `records`
 * authored by the owner unless said otherwise.
 */
export async function seedTenant(options: {
  tenantId: string;
  name: string;
  slug?: string;
  status: TenantStatus;
  members: Array<{ email: string; role: TenantRole }>;
  plan?: 'starter' | 'team' | 'enterprise';
  source?: 'self_serve' | 'sales';
  trialEndsInDays?: number | null;
  failedPaymentRetries?: number;
  records?: Array<{ title: string; body?: string; by?: string }>;
  createdDaysAgo?: number;
}): Promise<SeededTenant> {
  const uids: Record<string, string> = {};
  for (const member of options.members) uids[member.email] = await account(member.email);
  const owner = options.members[0];
  const now = Date.now();
  const created = new Date(now - (options.createdDaysAgo ?? 1) * DAY);
  const tenant = db.doc(`tenants/${options.tenantId}`);
  const batch = db.batch();
  batch.set(tenant, {
    ...tenantFixture(options.tenantId, {
      name: options.name,
      slug: options.slug ?? options.tenantId,
      status: options.status,
      plan: options.plan ?? 'team',
      source: options.source ?? 'self_serve',
      ownerUid: uids[owner.email],
      billingEmail: owner.email,
      trialEndsAt: options.trialEndsInDays === null ? null : new Date(now + (options.trialEndsInDays ?? 10) * DAY),
      failedPaymentRetries: options.failedPaymentRetries ?? 0,
      createdAt: created,
      updatedAt: created,
    }),
    stripeCustomerId: `cus_${options.tenantId}`,
    stripeSubscriptionId: `sub_${options.tenantId}`,
    // The seat ledger counts the members written beside it, as provisioning and the team functions keep it.
    seats: { members: options.members.length, pendingInvites: 0 },
  });
  for (const member of options.members) {
    const uid = uids[member.email];
    batch.set(tenant.collection('members').doc(uid), { uid, role: member.role, email: member.email, displayName: member.email.split('@')[0], joinedAt: created });
  }
  for (const [i, record] of (options.records ?? []).entries()) {
    const at = new Date(created.getTime() + i * 60_000);
    batch.set(tenant.collection('records').doc(`r${i + 1}`), {
      title: record.title,
      body: record.body ?? '',
      createdBy: uids[record.by ?? owner.email],
      createdAt: at,
      updatedAt: at,
    });
  }
  batch.set(tenant.collection('history').doc(), { from: null, to: options.status, cause: 'provisioned', actor: 'seed', at: created });
  await batch.commit();
  return { tenantId: options.tenantId, uids };
}
