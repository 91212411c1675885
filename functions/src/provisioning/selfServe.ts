import type { DocumentReference, DocumentSnapshot } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import type { ProvisioningResult } from '../domain/provisioning';
import { selfServeRequest, SignupFormSchema, type StoredSignup } from '../domain/signup';
import { parseOrThrow } from '../domain/validation';
import { refuseCapturedDomain } from '../team/domainJoin';
import { provisionTenant, type ProvisioningDeps } from './provisionTenant';

type Deps = ProvisioningDeps;

/**
 * Provisions the self-serve tenant of `uid` once its signup form is stored; without a form (an
 * account made by sales, by a script, or a trigger that ran first) it does nothing yet.
 * The Auth trigger and the signup callable both call this, in either order, any number of times.
 */
export async function provisionSelfServe(deps: Deps, uid: string, now = new Date()): Promise<ProvisioningResult | null> {
  const signup = await refs(deps.db).signup(uid).get();
  if (!signup.exists) return null;
  return provisionTenant(deps, selfServeRequest(signup.data() as StoredSignup), now);
}

/** The signup form arrives: store it, then provision. A refused provisioning leaves no form behind. */
export async function submitSignup(
  deps: Deps,
  account: { uid: string; email: string | undefined },
  input: unknown,
  now = new Date(),
): Promise<ProvisioningResult> {
  const form = parseOrThrow(SignupFormSchema, input);
  if (!account.email) throw new DomainError('failed-precondition', 'Your account has no email address; sign up with email and password');
  // People at a domain an organisation captured (join: auto) join it; they never get a tenant of their own.
  await refuseCapturedDomain(deps.db, account.email);
  const signupRef = refs(deps.db).signup(account.uid);
  const stored: StoredSignup = { ...form, uid: account.uid, email: account.email.toLowerCase() };
  const previous = await signupRef.get();
  await signupRef.set({ ...stored, submittedAt: now });
  try {
    const result = await provisionSelfServe(deps, account.uid, now);
    if (!result) throw new Error(`signup form of ${account.uid} vanished before provisioning`);
    return result;
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    await restore(signupRef, previous);
    if (error.details?.field === 'idempotencyKey') {
      throw new DomainError('already-exists', 'This account has already signed up a company with other details; sign in to reach it');
    }
    throw error;
  }
}

async function restore(ref: DocumentReference, previous: DocumentSnapshot) {
  if (previous.exists) await ref.set(previous.data()!);
  else await ref.delete();
}
