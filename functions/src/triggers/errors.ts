import { logger } from 'firebase-functions';
import { HttpsError } from 'firebase-functions/v2/https';
import { DomainError } from '../domain/errors';

export interface ErrorContext {
  /** The callable takes an idempotency key (provisionTenant): only then may the answer tell the caller to retry with it. */
  idempotencyKey?: boolean;
}

/** gRPC status codes of Firestore errors that mean contention or a passing outage, not a defect. */
const GRPC_ABORTED = 10;
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Domain refusals keep their code and message. Contention that outlived the transaction's retries is
 * `aborted` and an outage `unavailable`: codes a client acts on by trying again. Anything else is
 * logged and answered as `internal`.
 */
export function toHttpsError(error: unknown, context: string, options: ErrorContext = {}): HttpsError {
  if (error instanceof DomainError) return new HttpsError(error.code, error.message, error.details);
  if (error instanceof HttpsError) return error;
  const retry = options.idempotencyKey ? 'try again with the same idempotency key' : 'try again';
  const code = grpcCode(error);
  // "Transaction is invalid or closed": a read of a transaction that contention had already aborted.
  if (code === GRPC_ABORTED || /transaction is invalid or closed/i.test(String((error as Error)?.message ?? ''))) {
    logger.warn(`${context} aborted by contention`, { error: String(error) });
    return new HttpsError('aborted', `${context} met too many changes made at the same moment and did nothing; ${retry}.`, { reason: 'contention' });
  }
  if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) {
    logger.warn(`${context} unavailable`, { error: String(error) });
    return new HttpsError('unavailable', `${context} could not reach the database just now; ${retry} in a moment.`, { reason: 'unavailable' });
  }
  logger.error(`${context} failed`, { error: error instanceof Error ? error.stack : String(error) });
  return new HttpsError(
    'internal',
    options.idempotencyKey ? `${context} failed; it is safe to retry with the same idempotency key` : `${context} failed on our side (it has been logged); try again, and contact support if it keeps failing`,
  );
}
