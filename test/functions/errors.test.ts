// What a callable answers for an error that is not a domain refusal: contention and outages as codes a
// client retries on, a defect as internal; only callables that take an idempotency key mention one.
import { HttpsError } from 'firebase-functions/v2/https';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../functions/src/domain/errors';
import { toHttpsError } from '../../functions/src/triggers/errors';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });
const answer = (error: HttpsError) => ({ code: error.code, message: error.message });

describe('toHttpsError', () => {
  it('issue 24: contention is aborted and an outage unavailable, never internal; no idempotency key is promised to callables without one', () => {
    expect(answer(toHttpsError(grpcError(10, '10 ABORTED: Transaction lock timeout'), 'inviteMember'))).toEqual({
      code: 'aborted',
      message: 'inviteMember met too many changes made at the same moment and did nothing; try again.',
    });
    expect(toHttpsError(grpcError(3, '3 INVALID_ARGUMENT: Transaction is invalid or closed'), 'inviteMember').code).toBe('aborted');
    expect(toHttpsError(grpcError(14, '14 UNAVAILABLE: No connection established'), 'acceptInvite').code).toBe('unavailable');
    expect(toHttpsError(grpcError(4, '4 DEADLINE_EXCEEDED'), 'acceptInvite').code).toBe('unavailable');
    for (const error of [new Error('boom'), grpcError(10, 'ABORTED'), grpcError(14, 'UNAVAILABLE')]) {
      expect(toHttpsError(error, 'inviteMember').message).not.toMatch(/idempotency/);
    }
    expect(answer(toHttpsError(new Error('boom'), 'inviteMember'))).toEqual({
      code: 'internal',
      message: 'inviteMember failed on our side (it has been logged); try again, and contact support if it keeps failing',
    });
    expect(toHttpsError(new Error('boom'), 'provisionTenant', { idempotencyKey: true }).message).toBe('provisionTenant failed; it is safe to retry with the same idempotency key');
    expect(toHttpsError(grpcError(10, 'ABORTED'), 'provisionTenant', { idempotencyKey: true }).message).toMatch(/try again with the same idempotency key\.$/);
  });

  it('domain refusals keep their code, message and details', () => {
    const error = toHttpsError(new DomainError('resource-exhausted', 'No seat left', { reason: 'seat-cap' }), 'inviteMember');
    expect({ ...answer(error), details: error.details }).toEqual({ code: 'resource-exhausted', message: 'No seat left', details: { reason: 'seat-cap' } });
  });
});
