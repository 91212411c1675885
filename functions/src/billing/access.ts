import type { Auth } from 'firebase-admin/auth';
import type { DocumentSnapshot, Firestore, Transaction } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';
import type { BillingTenant, SeatsInUse } from '../domain/checkout';
import { DomainError } from '../domain/errors';
import type { PlanId } from '../domain/plans';
import type { TenantRole, TenantStatus } from '../domain/status';

/** What the billing callables need; `stripe` is built per call, so a missing key is that call's error only. */
export interface BillingCallableDeps {
  db: Firestore;
  auth: Auth;
  stripe: () => Stripe;
  /** Where the web app is served: Checkout and the portal send the person back there. */
  appUrl: string;
}

export function billingTenantOf(tenant: DocumentSnapshot): BillingTenant {
  return {
    name: String(tenant.get('name')),
    status: tenant.get('status') as TenantStatus,
    plan: tenant.get('plan') as PlanId,
    seatCap: Number(tenant.get('seatCap')),
    invoiceBilled: tenant.get('source') === 'sales' || typeof tenant.get('daysUntilDue') === 'number',
    staffHold: tenant.get('staffHold') === true,
    stripeCustomerId: (tenant.get('stripeCustomerId') as string | null | undefined) ?? null,
    stripeSubscriptionId: (tenant.get('stripeSubscriptionId') as string | null | undefined) ?? null,
  };
}

/** The tenant and the caller's role in it, read in `tx`. A tenant that does not exist is not-found. */
export async function readTenantAndRole(tx: Transaction, db: Firestore, tenantId: string, uid: string): Promise<{ tenant: DocumentSnapshot; role: TenantRole | null }> {
  const [tenant, member] = await tx.getAll(refs(db).tenant(tenantId), refs(db).member(tenantId, uid));
  if (!tenant.exists) throw new DomainError('not-found', `There is no organisation ${tenantId}.`, { field: 'tenantId' });
  return { tenant, role: member.exists ? ((member.get('role') as TenantRole | undefined) ?? null) : null };
}

/**
 * The seats the tenant holds: the seat ledger's counts (`seats`, kept by the team functions) when the
 * tenant has one, else members and pending invites counted in this transaction.
 */
export async function seatsInUse(tx: Transaction, tenant: DocumentSnapshot): Promise<SeatsInUse> {
  const ledger = tenant.get('seats') as Partial<SeatsInUse> | undefined;
  if (ledger && typeof ledger.members === 'number' && typeof ledger.pendingInvites === 'number') {
    return { members: ledger.members, pendingInvites: ledger.pendingInvites };
  }
  const [members, invites] = await Promise.all([
    tx.get(tenant.ref.collection(COLLECTIONS.members).count()),
    tx.get(tenant.ref.collection('invites').where('status', '==', 'pending').count()),
  ]);
  return { members: members.data().count, pendingInvites: invites.data().count };
}

/** Read from Auth, not the ID token: its `email_verified` lags up to an hour behind a verification. */
export async function emailVerified(auth: Auth, uid: string): Promise<boolean> {
  try {
    return (await auth.getUser(uid)).emailVerified;
  } catch {
    return false;
  }
}

/** The tenant's billing page in the web app: where Checkout and the portal send the person back. */
export function billingPageUrl(appUrl: string, tenant: DocumentSnapshot, query = ''): string {
  const key = (tenant.get('slug') as string | undefined) ?? tenant.id;
  return `${appUrl}/app/${encodeURIComponent(key)}/billing${query}`;
}
