import { describe, expect, it } from 'vitest';
import { customerFailureWording } from '../../functions/src/domain/jobFailure';

describe('customer wording of a failed provisioning (L6)', () => {
  it('L6: names the cause in customer words and never passes on the operator text or the raw error', () => {
    const job = {
      status: 'failed',
      error: { step: 'createStripeSubscription', message: 'Stripe is unavailable' },
      undoErrors: [{ step: 'createStripeCustomer', message: 'No such customer: cus_123' }],
      retryAction: 'platform staff re-run the undo with finishProvisioningRollback (see undoErrors); then resubmit with the same idempotency key',
    };
    const wording = customerFailureWording(job);
    expect(wording).toEqual({
      cause: 'We could not reach our payment provider to set up your billing.',
      next: 'Our team has been told and is cleaning up; you can try again once they have. You will not be charged for this attempt.',
      canRetry: false,
    });
    expect(JSON.stringify(wording)).not.toMatch(/Stripe|idempotency|finishProvisioningRollback|cus_/);
  });

  it('L6: a clean rollback may be tried again at once; other steps and an abandoned job have their own cause', () => {
    expect(customerFailureWording({ status: 'rolled_back', error: { step: 'seedSampleData' } })).toEqual({
      cause: 'Something went wrong on our side while preparing your organisation.',
      next: 'Everything was undone and nothing was charged. You can try again now.',
      canRetry: true,
    });
    expect(customerFailureWording({ status: 'failed', error: { step: 'sweep' } }).cause).toMatch(/took far longer/);
  });
});
