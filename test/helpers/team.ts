// Team tests: tenants seeded with members (verified accounts that can sign in), the whole database as
// a snapshot (to assert that a refusal wrote nothing), and the invite link out of a queued mail.
import { expect } from 'vitest';
import type { Account } from '../../functions/src/domain/team';
import type { TenantRole, TenantStatus } from '../../functions/src/domain/status';
import type { NewTenant } from '../../functions/src/domain/provisioning';
import { checkSeatLedgers } from '../../tools/seat-ledger';
import { allDocumentPaths, auth, db } from './emulators';
import { tenantFixture } from './rules';

/** The password signedInClient() signs in with; accounts made here use it too. */
export const PASSWORD = 'password-123';
/** The web app's origin in mailed links: the launcher's APP_URL (the e2e tests serve the app there). */
export const APP_URL = process.env.APP_URL ?? 'http://127.0.0.1:5000';

/** A verified Auth account (created once), as the team functions see it. */
export async function account(email: string, options: { verified?: boolean; displayName?: string } = {}): Promise<Account> {
  const verified = options.verified ?? true;
  const displayName = options.displayName ?? email.split('@')[0];
  const user = await auth.getUserByEmail(email).catch(() => auth.createUser({ email, password: PASSWORD, displayName, emailVerified: verified }));
  if (user.emailVerified !== verified) await auth.updateUser(user.uid, { emailVerified: verified });
  return { uid: user.uid, email, emailVerified: verified, displayName };
}

export interface SeededTenant {
  tenantId: string;
  /** role or email → the member's account */
  people: Record<string, Account>;
}

/**
 * A tenant with one member per entry of `members` (email → role), its ledger counting them, written
 * with the Admin SDK as provisioning and the team functions would leave it.
 */
export async function seedTeam(
  tenantId: string,
  members: Record<string, TenantRole>,
  overrides: Partial<NewTenant> & { status?: TenantStatus; failedPaymentRetries?: number } = {},
): Promise<SeededTenant> {
  const people: Record<string, Account> = {};
  for (const [email, role] of Object.entries(members)) {
    const person = await account(email);
    people[email] = person;
    if (!people[role]) people[role] = person;
  }
  const owner = Object.entries(members).find(([, role]) => role === 'owner');
  const batch = db.batch();
  batch.set(db.doc(`tenants/${tenantId}`), {
    ...tenantFixture(tenantId, { plan: 'starter', seatCap: 5, pendingInviteLimit: 10, ...overrides }),
    ownerUid: owner ? people[owner[0]].uid : 'nobody',
    billingEmail: owner?.[0] ?? 'billing@acme.test',
    seats: { members: Object.keys(members).length, pendingInvites: 0 },
  });
  for (const [email, role] of Object.entries(members)) {
    batch.set(db.doc(`tenants/${tenantId}/members/${people[email].uid}`), {
      uid: people[email].uid,
      role,
      email,
      displayName: people[email].displayName,
      joinedAt: new Date(),
    });
  }
  await batch.commit();
  return { tenantId, people };
}

/**
 * Every document, path → data, for asserting that a refused call changed nothing at all. The local mail
 * worker's bookkeeping on mail documents (`delivery`) is left out: it delivers earlier mail meanwhile.
 */
export async function databaseSnapshot(): Promise<Record<string, unknown>> {
  const paths = await allDocumentPaths();
  const docs = paths.length ? await db.getAll(...paths.map((p) => db.doc(p))) : [];
  return Object.fromEntries(
    docs.map((d) => {
      const { delivery: _delivery, ...data } = d.data() ?? {};
      return [d.ref.path, JSON.parse(JSON.stringify(d.ref.parent.id === 'mail' ? data : d.data()))];
    }),
  );
}

/** Runs `refused`, expects it to reject, and expects the database to be exactly as before. */
export async function expectNothingWritten(refused: () => Promise<unknown>): Promise<unknown> {
  const before = await databaseSnapshot();
  const error = await refused().then(
    () => {
      throw new Error('expected the call to be refused, and it succeeded');
    },
    (failure: unknown) => failure,
  );
  expect(await databaseSnapshot()).toEqual(before);
  return error;
}

/** The accept link of the latest mail sent for `inviteId`: { link, token }. */
export async function inviteLinkOf(inviteId: string): Promise<{ link: string; token: string; path: string }> {
  const mails = await db.collection('mail').where('inviteId', '==', inviteId).get();
  const latest = mails.docs.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true })).pop();
  if (!latest) throw new Error(`no mail for invite ${inviteId}`);
  const link = /https?:\/\/\S+/.exec(String(latest.get('message.text')))![0];
  const url = new URL(link);
  return { link, token: url.searchParams.get('token')!, path: `${url.pathname}${url.search}` };
}

/** The seat ledger of the tenant agrees with its documents, and no tenant has more members than seats. */
export async function expectLedgerConsistent(tenantIds: string[]): Promise<void> {
  const report = await checkSeatLedgers(db, tenantIds);
  expect(report.checked).toBe(tenantIds.length);
  expect(report.mismatches).toEqual([]);
  expect(report.overCap).toEqual([]);
}

export async function seatsOf(tenantId: string): Promise<{ members: number; pendingInvites: number }> {
  return (await db.doc(`tenants/${tenantId}`).get()).get('seats');
}
