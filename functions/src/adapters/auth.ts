import { randomBytes } from 'node:crypto';
import type { Auth, UserRecord } from 'firebase-admin/auth';
import type { BoundOwner } from '../domain/provisioning';
import type { Account } from '../domain/team';

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === code;
}

async function findUserByEmail(auth: Auth, email: string): Promise<UserRecord | null> {
  try {
    return await auth.getUserByEmail(email);
  } catch (error) {
    if (hasCode(error, 'auth/user-not-found')) return null;
    throw error;
  }
}

/**
 * The account a sales-provisioned tenant is given to. An account whose email is verified is its
 * mailbox's owner and is bound as it is. An unverified one may belong to anyone who typed that
 * address, so it is reclaimed first (password replaced by one nobody knows, sessions revoked); the
 * mailbox's owner then sets a password from the welcome mail. No account: one is created without a password.
 * Safe when duplicates race to create the same account.
 */
export async function bindOwner(auth: Auth, email: string, displayName: string): Promise<BoundOwner> {
  const existing = await findUserByEmail(auth, email);
  if (existing?.emailVerified) return ownerOf(existing, email, displayName, false);
  if (existing) {
    if (hasWayIn(existing)) await reclaim(auth, existing.uid);
    return ownerOf(existing, email, displayName, true);
  }
  try {
    const created = await auth.createUser({ email, displayName });
    return ownerOf(created, email, displayName, true);
  } catch (error) {
    if (!hasCode(error, 'auth/email-already-exists')) throw error;
    const winner = await findUserByEmail(auth, email);
    if (!winner) throw error;
    if (!winner.emailVerified && hasWayIn(winner)) await reclaim(auth, winner.uid);
    return ownerOf(winner, email, displayName, !winner.emailVerified);
  }
}

/** A password or a sign-in provider: someone may be able to sign in to it. An account sales created has neither. */
function hasWayIn(user: UserRecord): boolean {
  return Boolean(user.passwordHash) || user.providerData.length > 0;
}

/** Whoever knew the password of an unverified account loses it: a random one replaces it, every session ends. */
async function reclaim(auth: Auth, uid: string): Promise<void> {
  await auth.updateUser(uid, { password: randomBytes(32).toString('base64url') });
  await auth.revokeRefreshTokens(uid);
}

function ownerOf(user: UserRecord, email: string, displayName: string, setsPassword: boolean): BoundOwner {
  return { uid: user.uid, email, displayName: user.displayName || displayName, emailVerified: user.emailVerified, setsPassword };
}

/** The owner's Auth `emailVerified`; an account that no longer exists counts as unverified. */
export async function emailVerifiedOf(auth: Auth, uid: string): Promise<boolean> {
  try {
    return (await auth.getUser(uid)).emailVerified;
  } catch (error) {
    if (hasCode(error, 'auth/user-not-found')) return false;
    throw error;
  }
}

/**
 * The caller as Auth knows them now. Team actions read this rather than the ID token, whose
 * `email_verified` stays false for up to an hour after the person verified.
 */
export async function loadAccount(auth: Auth, uid: string): Promise<Account> {
  const user = await auth.getUser(uid);
  return { uid, email: user.email ?? null, emailVerified: user.emailVerified, displayName: user.displayName ?? '' };
}
