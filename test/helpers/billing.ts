// The billing tests' people and pages: an owner (a real Auth account, signed in through the web SDK)
// for a tenant of stripeWorld, the hosted Checkout and portal pages submitted as a browser submits
// their forms, and the one-live-subscription invariant checked against the simulator.
import { FieldValue } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { afterEach, expect } from 'vitest';
import type { TenantRole } from '../../functions/src/domain/status';
import { openTenant, step, stripe, type BilledTenant, type Delivery } from '../lifecycle/stripeWorld';
import { client } from './callables';
import { auth, db, type Caller } from './emulators';

/** A signed-in member of the tenant with `role` (a verified email unless told otherwise). */
export async function memberOf(tenantId: string, role: TenantRole, options: { verified?: boolean; email?: string } = {}): Promise<Caller> {
  const email = options.email ?? `${role}-${tenantId}@example.test`.toLowerCase();
  const caller = await client(email);
  await auth.updateUser(caller.uid, { emailVerified: options.verified ?? true });
  // A membership and the seat ledger's count of it in one commit, as the team functions write them.
  const batch = db.batch();
  batch.set(db.doc(`tenants/${tenantId}/members/${caller.uid}`), { uid: caller.uid, role, email, displayName: role, joinedAt: new Date() });
  batch.update(db.doc(`tenants/${tenantId}`), { 'seats.members': FieldValue.increment(1), ...(role === 'owner' ? { ownerUid: caller.uid } : {}) });
  await batch.commit();
  return caller;
}

/** Members and pending invites, and the seat ledger counting them, as the team functions write them. */
export async function addPeople(tenantId: string, people: { members: number; pendingInvites: number }): Promise<void> {
  const batch = db.batch();
  for (let i = 0; i < people.members; i += 1) {
    batch.set(db.doc(`tenants/${tenantId}/members/m-${i}`), { uid: `m-${i}`, role: 'member', email: `m-${i}@example.test`, joinedAt: new Date() });
  }
  for (let i = 0; i < people.pendingInvites; i += 1) {
    batch.set(db.doc(`tenants/${tenantId}/invites/i-${i}`), { email: `i-${i}@example.test`, role: 'member', status: 'pending', expiresAt: new Date(Date.now() + 7 * 86_400_000) });
  }
  // One revoked invite, which holds no seat.
  batch.set(db.doc(`tenants/${tenantId}/invites/revoked`), { email: 'gone@example.test', role: 'member', status: 'revoked', expiresAt: new Date() });
  batch.update(db.doc(`tenants/${tenantId}`), {
    'seats.members': FieldValue.increment(people.members),
    'seats.pendingInvites': FieldValue.increment(people.pendingInvites),
  });
  await batch.commit();
}

export interface PageAnswer {
  status: number;
  location: string | null;
  html: string;
}

/** Submits a form of a Stripe-hosted page (Checkout, portal) as a browser does, without following the redirect. */
export async function submitForm(url: string, form: Record<string, string>): Promise<PageAnswer> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual' });
  return { status: response.status, location: response.headers.get('location'), html: await response.text() };
}

export async function pageText(url: string): Promise<string> {
  return (await fetch(url)).text();
}

/** The person types a card on the hosted Checkout page; the events it causes reach the webhook before this returns. */
export function payOnCheckout(t: BilledTenant, url: string, cardNumber: string): Promise<PageAnswer> {
  return step(t.delivery, () => submitForm(url, { card_number: cardNumber, expiry: '12 / 34', cvc: '123' }));
}

/** An action on the hosted portal page, its events delivered before this returns. */
export function inPortal(t: BilledTenant, url: string, form: Record<string, string>): Promise<PageAnswer> {
  return step(t.delivery, () => submitForm(url, form));
}

const ENDED: readonly string[] = ['canceled', 'incomplete_expired'];

/**
 * The invariant: a tenant has exactly one live subscription in Stripe, and it is the one the tenant
 * names; none once the tenant is cancelled (or its provisioning failed). Read from the simulator,
 * every subscription its customer ever had.
 */
export async function expectOneLiveSubscription(tenantId: string): Promise<void> {
  const tenant = (await db.doc(`tenants/${tenantId}`).get()).data()!;
  const customer = tenant.stripeCustomerId as string;
  const all: Stripe.Subscription[] = [];
  for await (const subscription of stripe.subscriptions.list({ customer, status: 'all', limit: 100 })) all.push(subscription);
  const live = all.filter((s) => !ENDED.includes(s.status)).map((s) => s.id);
  const expected = tenant.status === 'cancelled' || tenant.status === 'failed' ? [] : [tenant.stripeSubscriptionId];
  expect({ tenant: tenantId, status: tenant.status, live }, `subscriptions of ${customer}: ${all.map((s) => `${s.id} ${s.status}`).join(', ')}`).toEqual({
    tenant: tenantId,
    status: tenant.status,
    live: expected,
  });
}

/**
 * `openTenant`, with the one-live-subscription invariant checked after each test for every tenant it
 * opened (call it at a file's top level, where it registers the check).
 */
export function openTenantsCheckedAfterEach(): (delivery: Delivery, options?: Parameters<typeof openTenant>[1]) => Promise<BilledTenant> {
  let opened: BilledTenant[] = [];
  afterEach(async () => {
    const checked = opened;
    opened = [];
    for (const t of checked) await expectOneLiveSubscription(t.tenantId);
  });
  return async (delivery, options = {}) => {
    const t = await openTenant(delivery, options);
    opened.push(t);
    return t;
  };
}
