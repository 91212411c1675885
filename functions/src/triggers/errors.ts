import { logger } from 'firebase-functions';
import { HttpsError } from 'firebase-functions/v2/https';
import { DomainError } from '../domain/errors';

/** Domain refusals keep their code and message; anything else is logged and answered as internal. */
export function toHttpsError(error: unknown, context: string): HttpsError {
  if (error instanceof DomainError) return new HttpsError(error.code, error.message, error.details);
  if (error instanceof HttpsError) return error;
  logger.error(`${context} failed`, { error: error instanceof Error ? error.stack : String(error) });
  return new HttpsError('internal', `${context} failed; it is safe to retry with the same idempotency key`);
}
