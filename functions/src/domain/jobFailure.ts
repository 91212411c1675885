/**
 * What a customer is told about a provisioning that did not finish (L6). The job's `error.message`
 * (Stripe's or Firestore's words) and `retryAction` (instructions for platform staff) stay in the
 * admin console; this is the one place that turns a failed job into words for the person who signed up.
 */
export interface FailedJobView {
  status: string;
  error?: { step?: string } | null;
  undoErrors?: readonly unknown[] | null;
}

export interface CustomerFailureWording {
  /** What went wrong, without internals. */
  cause: string;
  /** What it means for them and what to do next. */
  next: string;
  /** Whether "Try again" can start a clean attempt now (not while staff still clean up). */
  canRetry: boolean;
}

const PAYMENT_STEPS = new Set(['createStripeCustomer', 'createStripeSubscription']);

export function customerFailureWording(job: FailedJobView): CustomerFailureWording {
  const step = job.error?.step ?? '';
  const cause = PAYMENT_STEPS.has(step)
    ? 'We could not reach our payment provider to set up your billing.'
    : step === 'sweep' || !step
      ? 'Setting up your organisation took far longer than it should, so we stopped it.'
      : 'Something went wrong on our side while preparing your organisation.';
  if (job.undoErrors?.length) {
    return { cause, next: 'Our team has been told and is cleaning up; you can try again once they have. You will not be charged for this attempt.', canRetry: false };
  }
  return { cause, next: 'Everything was undone and nothing was charged. You can try again now.', canRetry: true };
}
