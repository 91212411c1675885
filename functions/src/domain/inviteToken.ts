/** Invite link secrets: the link carries the token, the invite document only its hash. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh link secret and the hash stored in its place: whoever reads the invite document cannot accept by it. */
export function newInviteToken(): { token: string; tokenHash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenHash: inviteTokenHash(token) };
}

export function inviteTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenMatches(token: string, tokenHash: string): boolean {
  const given = Buffer.from(inviteTokenHash(token), 'hex');
  const stored = Buffer.from(tokenHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
