// What a handler gets for one API request, and how it finds the time on an object's clock.
import type { FormObject } from './form';
import type { Account, Ctx } from './state';

export interface Call {
  account: Account;
  params: FormObject;
  requestId: string;
  idempotencyKey: string | null;
}

/** Answers one request with the JSON body Stripe would send (an object or a list). */
export type Handler = (call: Call, id: string, subId: string) => object;

/** The change context of a request acting on objects of `clockId` (null: real time). */
export function ctxOf(call: Call, clockId: string | null): Ctx {
  return { account: call.account, now: call.account.clockTime(clockId), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } };
}
