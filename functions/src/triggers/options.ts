import type { CallableOptions } from 'firebase-functions/v2/https';
import { STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET } from '../config';

/** The Functions emulator cannot verify App Check tokens (no App Check emulator), so it does not demand them. */
const onFunctionsEmulator = process.env.FUNCTIONS_EMULATOR === 'true';

/**
 * A callable the product's own pages call for anyone (signup, team, billing, invites): App Check
 * enforced in production, so only the web app (reCAPTCHA Enterprise attestation) reaches it.
 */
export const BROWSER_CALLABLE: CallableOptions = { enforceAppCheck: !onFunctionsEmulator };

/** The same, for one that calls Stripe: the Stripe key is bound to it, and to no function that does not. */
export const BROWSER_CALLABLE_WITH_STRIPE: CallableOptions = { ...BROWSER_CALLABLE, secrets: [STRIPE_SECRET_KEY] };

/** Staff-only and server-only functions that call Stripe: the key, no App Check change (staff are authenticated by claim). */
export const WITH_STRIPE = { secrets: [STRIPE_SECRET_KEY] };

/** The webhook: the key to re-read Stripe's objects, and the signing secret to verify what Stripe sends. */
export const WITH_STRIPE_WEBHOOK = { secrets: [STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET] };

/** Which callables are the browser's (App Check enforced in production): deploy:check and the tests read it. */
export const BROWSER_CALLABLES = [
  'submitSignup',
  'syncEmailVerified',
  'inviteMember',
  'resendInvite',
  'revokeInvite',
  'acceptInvite',
  'removeMember',
  'changeMemberRole',
  'leaveTenant',
  'transferOwnership',
  'claimDomain',
  'verifyDomain',
  'unclaimDomain',
  'setDomainJoinPolicy',
  'lookupDomainJoin',
  'joinByDomain',
  'describeInvite',
  'startCheckout',
  'openBillingPortal',
] as const;
