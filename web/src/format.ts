import type { Timestamp } from 'firebase/firestore';

/** Firestore stores dates as Timestamps; missing fields show as an em dash. */
type DateLike = Timestamp | null | undefined;

/** Calendar dates (trial end, go-live) are entered and stored as UTC midnight: show them in UTC. */
export function formatDate(value: DateLike): string {
  if (!value) return '—';
  return value.toDate().toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

export function formatDateTime(value: DateLike): string {
  if (!value) return '—';
  return value.toDate().toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export function formatStatus(status: string | undefined): string {
  return status ? status.replace(/_/g, ' ') : '—';
}

const AUTH_MESSAGES: Record<string, string> = {
  'auth/email-already-in-use': 'An account with this email already exists: sign in to reach your organisation, or sign up with another email.',
  'auth/invalid-email': 'That email address is not valid.',
  'auth/weak-password': 'Choose a password of at least 6 characters.',
  'auth/invalid-credential': 'Wrong email or password.',
  'auth/wrong-password': 'Wrong email or password.',
  'auth/user-not-found': 'Wrong email or password.',
  'auth/too-many-requests': 'Too many attempts; wait a minute and try again.',
  'auth/network-request-failed': 'Cannot reach the sign-in service; check your connection and try again.',
};

/** The message to show for a failed call: callable errors carry a message that names the field. */
export function errorMessage(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && AUTH_MESSAGES[code]) return AUTH_MESSAGES[code];
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong; please try again.';
}

export function formatSource(source: string | undefined): string {
  return source === 'self_serve' ? 'self-serve' : source === 'sales' ? 'sales' : (source ?? '—');
}
