// Web-SDK callers for callable tests: signed-in or anonymous clients, closed after the file, and
// the assertion that a call was refused with a given code.
import { afterAll, expect } from 'vitest';
import { anonymousClient, signedInClient, type Caller } from './emulators';

const open: Caller[] = [];
afterAll(async () => Promise.all(open.map((c) => c.close())));

/** A client signed in as `email` (created with `claims` if new), or an anonymous one for ''. */
export async function client(email: string, claims: Record<string, unknown> = {}, options: { emailVerified?: boolean } = {}): Promise<Caller> {
  const caller = email ? await signedInClient(email, claims, options) : await anonymousClient();
  open.push(caller);
  return caller;
}

export async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code: `functions/${code}`, ...(message ? { message: expect.stringMatching(message) } : {}) });
}
