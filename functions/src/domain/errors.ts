/** The one error type the domain throws; triggers map `code` to an HttpsError of the same name. */
export type DomainErrorCode =
  | 'invalid-argument'
  | 'already-exists'
  | 'failed-precondition'
  | 'not-found'
  | 'permission-denied'
  | 'resource-exhausted'
  | 'unauthenticated'
  | 'aborted';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
