// Stripe-shaped API errors, and whether Stripe would save them for an idempotency key.

export interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
  decline_code?: string;
  doc_url?: string;
  /** The PaymentIntent of a failed invoice payment, as Stripe attaches it to a card_error. */
  payment_intent?: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    /**
     * Stripe saves a result for an idempotency key only once the endpoint has started executing:
     * a request refused while its parameters are validated is not saved and may be retried as is.
     */
    readonly executed: boolean,
  ) {
    super(body.message);
  }
}

function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
}

/** A parameter refused during validation: nothing ran, nothing is saved for the idempotency key. */
export function invalidParam(param: string, message: string, code = 'parameter_invalid_string'): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', code, param, message, doc_url: docUrl(code) }, false);
}

export function missingParam(param: string): ApiError {
  const code = 'parameter_missing';
  return new ApiError(
    400,
    { type: 'invalid_request_error', code, param, message: `Missing required param: ${param}.`, doc_url: docUrl(code) },
    false,
  );
}

export function unknownParam(param: string): ApiError {
  const code = 'parameter_unknown';
  return new ApiError(
    400,
    {
      type: 'invalid_request_error',
      code,
      param,
      message: `Received unknown parameter: ${param} (fake-stripe implements only part of the Stripe API; see docs/fake-stripe.md)`,
      doc_url: docUrl(code),
    },
    false,
  );
}

/** No such object. `param` is 'id' when the id came from the URL, else the parameter that named it. */
export function noSuch(kind: string, id: string, param = 'id', status = 404): ApiError {
  const code = 'resource_missing';
  return new ApiError(
    status,
    { type: 'invalid_request_error', code, param, message: `No such ${kind}: '${id}'`, doc_url: docUrl(code) },
    true,
  );
}

/** A request that ran and was refused by the object's state (for example, updating a canceled subscription). */
export function stateError(message: string, param?: string, code?: string): ApiError {
  return new ApiError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code, doc_url: docUrl(code) } : {}) }, true);
}

/** A declined payment: HTTP 402, `card_error`, as the SDK's StripeCardError. Stripe saves it for the idempotency key. */
export function cardError(message: string, code: string, declineCode?: string, param?: string): ApiError {
  return new ApiError(
    402,
    { type: 'card_error', code, message, doc_url: docUrl(code), ...(declineCode ? { decline_code: declineCode } : {}), ...(param ? { param } : {}) },
    true,
  );
}
