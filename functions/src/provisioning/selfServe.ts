import type { DocumentReference, DocumentSnapshot, Timestamp } from 'firebase-admin/firestore';
import { loadAccount } from '../adapters/auth';
import { refs } from '../adapters/firestore';
import { ownerActionLink } from '../adapters/links';
import { DomainError } from '../domain/errors';
import { chooseSlug, type ProvisioningResult } from '../domain/provisioning';
import {
  confirmationMailDue,
  selfServeRequest,
  signupConfirmationMail,
  signupConfirmationMailId,
  SignupFormSchema,
  unconfirmedSignup,
  type ConfirmationMailsSent,
  type StoredSignup,
} from '../domain/signup';
import { parseOrThrow } from '../domain/validation';
import { refuseCapturedDomain } from '../team/domainJoin';
import { provisionTenant, type ProvisioningDeps } from './provisionTenant';

type Deps = ProvisioningDeps;

/**
 * Provisions the self-serve tenant of `uid` once its signup form is stored AND its address is
 * confirmed; otherwise (no form: an account made by sales, by a script, or a trigger that ran first;
 * an unconfirmed address) it does nothing yet. The Auth trigger, the signup callable and
 * `syncEmailVerified` all call this, in any order, any number of times.
 */
export async function provisionSelfServe(deps: Deps, uid: string, now = new Date()): Promise<ProvisioningResult | null> {
  const signup = await refs(deps.db).signup(uid).get();
  if (!signup.exists) return null;
  const stored = signup.data() as StoredSignup;
  if (!(await addressConfirmed(deps, uid, stored.email))) return null;
  return provisionTenant(deps, selfServeRequest(stored), now);
}

/**
 * Auth's word now, not the ID token's (whose `email_verified` lags the confirmation): the account
 * still exists, its address is the one the form was sent with, and that address is verified.
 */
async function addressConfirmed(deps: Deps, uid: string, email: string): Promise<boolean> {
  const account = await loadAccount(deps.auth, uid).catch(() => null);
  return Boolean(account?.emailVerified && account.email?.toLowerCase() === email);
}

/**
 * The signup form arrives: store it, then provision. A refused provisioning leaves no form behind.
 * An unconfirmed address is refused with `failed-precondition`: the form is kept and the address is
 * mailed a confirmation link (at most every minute, five times in all); the next call after the
 * confirmation, or `syncEmailVerified`, provisions.
 */
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
  if (!(await addressConfirmed(deps, account.uid, stored.email))) {
    // A subdomain someone holds is said now, not only after the person confirmed their address.
    if (stored.slug) chooseSlug(selfServeRequest(stored), [stored.slug], [(await refs(deps.db).slug(stored.slug).get()).exists]);
    const mailSent = await holdUntilConfirmed(deps, signupRef, stored, now);
    throw unconfirmedSignup(stored.email, mailSent);
  }
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

/** Stores the form of an unconfirmed address and, when one is due, its confirmation mail, in one transaction. Returns whether a mail went out. */
async function holdUntilConfirmed(deps: Deps, signupRef: DocumentReference, stored: StoredSignup, now: Date): Promise<boolean> {
  const sentSoFar = (snapshot: DocumentSnapshot): ConfirmationMailsSent | undefined => {
    const sent = snapshot.get('confirmationMails') as { count: number; lastAt: Timestamp } | undefined;
    return sent ? { count: sent.count, lastAt: sent.lastAt.toDate() } : undefined;
  };
  // The link is an Auth call: minted only when a mail looks due, outside the transaction.
  const link = confirmationMailDue(sentSoFar(await signupRef.get()), now) ? await ownerActionLink(deps.auth, 'verifyEmail', stored.email) : null;
  return deps.db.runTransaction(async (tx) => {
    const sent = sentSoFar(await tx.get(signupRef));
    const due = Boolean(link) && confirmationMailDue(sent, now);
    const count = (sent?.count ?? 0) + (due ? 1 : 0);
    tx.set(signupRef, { ...stored, submittedAt: now, ...(count ? { confirmationMails: { count, lastAt: due ? now : sent!.lastAt } } : {}) });
    if (due) tx.set(refs(deps.db).mail(signupConfirmationMailId(stored.uid, count)), { ...signupConfirmationMail(stored.email, link!), createdAt: now });
    return due;
  });
}

async function restore(ref: DocumentReference, previous: DocumentSnapshot) {
  if (previous.exists) await ref.set(previous.data()!);
  else await ref.delete();
}
