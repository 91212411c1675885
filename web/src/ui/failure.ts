import { errorMessage } from '../format';

/** A failed call as a form shows it: one message, and the fields the server (or Auth) named, each with its own message. */
export interface Failure {
  message: string;
  code?: string;
  fieldErrors: Record<string, string>;
}

/** Auth refusals that are about one field of the form. */
const AUTH_FIELDS: Record<string, string> = {
  'auth/email-already-in-use': 'email',
  'auth/invalid-email': 'email',
  'auth/weak-password': 'password',
};

/**
 * Callable errors carry `details.fieldErrors` (path → message, from the server's zod validation) or
 * `details.field` with a message "field: what is wrong"; Auth errors name their field by code.
 */
export function failureOf(error: unknown): Failure {
  const message = errorMessage(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const details = typeof error === 'object' && error !== null ? (error as { details?: unknown }).details : undefined;
  const fieldErrors: Record<string, string> = {};
  if (details && typeof details === 'object') {
    const { fieldErrors: named, field } = details as { fieldErrors?: unknown; field?: unknown };
    if (named && typeof named === 'object') {
      for (const [path, text] of Object.entries(named)) if (typeof text === 'string') fieldErrors[path] = text;
    } else if (typeof field === 'string') {
      fieldErrors[field] = message.replace(new RegExp(`^${field}: `), '');
    }
  }
  if (typeof code === 'string' && AUTH_FIELDS[code]) fieldErrors[AUTH_FIELDS[code]] = message;
  const named = Object.keys(fieldErrors).length;
  return {
    code: typeof code === 'string' ? code : undefined,
    // The fields say what is wrong; the summary only points at them.
    message: named && code === 'functions/invalid-argument' ? `Check the ${named === 1 ? 'field' : `${named} fields`} marked below.` : message,
    fieldErrors,
  };
}

/** The words for a refusal by the security rules, which say nothing themselves. */
export function isPermissionDenied(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === 'permission-denied' || code === 'functions/permission-denied';
}
