import type { Auth } from 'firebase-admin/auth';
import type { OwnerIdentity } from '../domain/provisioning';
import type { Account } from '../domain/team';

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === code;
}

export async function findUserByEmail(auth: Auth, email: string): Promise<OwnerIdentity | null> {
  try {
    const user = await auth.getUserByEmail(email);
    return { uid: user.uid, email, displayName: user.displayName ?? '' };
  } catch (error) {
    if (hasCode(error, 'auth/user-not-found')) return null;
    throw error;
  }
}

/** Finds the Auth user for `email` or creates it; safe when duplicates race to create the same one. */
export async function ensureUser(auth: Auth, email: string, displayName: string): Promise<OwnerIdentity> {
  const existing = await findUserByEmail(auth, email);
  if (existing) return { ...existing, displayName: existing.displayName || displayName };
  try {
    const created = await auth.createUser({ email, displayName });
    return { uid: created.uid, email, displayName };
  } catch (error) {
    if (!hasCode(error, 'auth/email-already-exists')) throw error;
    const winner = await findUserByEmail(auth, email);
    if (!winner) throw error;
    return { ...winner, displayName: winner.displayName || displayName };
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
