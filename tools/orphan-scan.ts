// Compares Firestore with the fake Stripe after provisioning runs: every resource either belongs to
// a live, fully provisioned tenant, or nothing of it is left; and no tenant that ever opened was undone.
// Used by the saga tests and the bench.
import type { Firestore } from 'firebase-admin/firestore';
import type { FakeStripeState } from './fake-stripe/server';

export async function scanOrphans(db: Firestore, stripe: FakeStripeState): Promise<string[]> {
  const problems: string[] = [];
  const tenants = new Map((await db.collection('tenants').get()).docs.map((d) => [d.id, d.data()]));
  const live = (id: unknown) => {
    const tenant = tenants.get(String(id));
    return tenant && tenant.status !== 'failed' ? tenant : undefined;
  };

  for (const customer of stripe.customers.filter((c) => !c.deleted)) {
    const tenant = live(customer.metadata?.tenantId);
    if (tenant?.stripeCustomerId !== customer.id) problems.push(`stripe customer ${customer.id} has no live tenant`);
  }
  for (const subscription of stripe.subscriptions.filter((s) => s.status !== 'canceled')) {
    const tenant = live(subscription.metadata?.tenantId);
    if (tenant?.stripeSubscriptionId !== subscription.id) problems.push(`stripe subscription ${subscription.id} has no live tenant`);
  }
  const liveCustomers = new Set(stripe.customers.filter((c) => !c.deleted).map((c) => c.id));
  for (const [id, tenant] of tenants) {
    if (tenant.status === 'failed') continue;
    if (tenant.status === 'provisioning') problems.push(`tenant ${id} is half-born (still provisioning)`);
    else if (!liveCustomers.has(tenant.stripeCustomerId)) problems.push(`tenant ${id} has no live Stripe customer`);
  }
  for (const group of ['members', 'records']) {
    for (const doc of (await db.collectionGroup(group).get()).docs) {
      if (!live(doc.ref.parent.parent?.id)) problems.push(`${group} document ${doc.ref.path} has no live tenant`);
    }
  }
  for (const slug of (await db.collection('slugs').get()).docs) {
    if (!live(slug.get('tenantId'))) problems.push(`slug ${slug.id} is held by no live tenant`);
  }
  for (const mail of (await db.collection('mail').get()).docs) {
    if (mail.get('tenantId') && !live(mail.get('tenantId'))) problems.push(`mail ${mail.id} was sent for a rolled-back tenant`);
  }
  problems.push(...(await scanUndoneLiveTenants(db, [...tenants].filter(([, t]) => t.status === 'failed').map(([id]) => id))));
  return problems;
}

/** A failed tenant whose history shows it open (trial, active, ...) was undone after its members could use it. */
export async function scanUndoneLiveTenants(db: Firestore, failedTenantIds: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const id of failedTenantIds) {
    const history = await db.collection(`tenants/${id}/history`).get();
    const opened = history.docs.map((entry) => entry.get('to')).filter((to) => to !== 'provisioning' && to !== 'failed');
    if (opened.length) problems.push(`tenant ${id} was open (${opened.join(', ')}) and then undone`);
  }
  return problems;
}
