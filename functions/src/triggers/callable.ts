import { HttpsError, onCall, type CallableRequest } from 'firebase-functions/v2/https';
import { z } from 'zod';
import { appClock, provisioningDeps, sagaDeps } from './deps';
import { PROVISIONING_ACTION_ROLES, requirePlatformRole } from '../domain/console';
import { PLATFORM_ROLES, type PlatformRole } from '../domain/status';
import { salesRequest, SalesProvisioningSchema } from '../domain/signup';
import { parseOrThrow } from '../domain/validation';
import { provisionTenant as provision } from '../provisioning/provisionTenant';
import { finishProvisioningRollback as finishRollback, syncEmailVerified as syncVerified } from '../provisioning/operator';
import { submitSignup as storeSignupAndProvision } from '../provisioning/selfServe';
import { toHttpsError } from './errors';
import { BROWSER_CALLABLE, WITH_STRIPE } from './options';

/** A malformed token can reach the handler with `auth` set and no uid: check the uid. */
export function requireUid(request: CallableRequest): string {
  const uid = request.auth?.uid;
  if (!uid) throw new HttpsError('unauthenticated', 'Sign in first');
  return uid;
}

function requirePlatformStaff(request: CallableRequest): string {
  const uid = requireUid(request);
  const role = request.auth?.token.platform as PlatformRole | undefined;
  if (!role || !PLATFORM_ROLES.includes(role)) {
    throw new HttpsError('permission-denied', 'Only platform staff (super_admin or sales) can provision tenants');
  }
  return uid;
}

/** Sales-assisted entry point: contract values from the admin page. Returns { tenantId, status, jobId }. */
export const provisionTenant = onCall(async (request) => {
  const staffUid = requirePlatformStaff(request);
  try {
    const input = parseOrThrow(SalesProvisioningSchema, request.data);
    return await provision(provisioningDeps(), salesRequest(input, staffUid), await appClock()());
  } catch (error) {
    throw toHttpsError(error, 'provisionTenant', { idempotencyKey: true });
  }
});

/** The self-serve signup form, sent by the signed-in person right after creating the account. */
export const submitSignup = onCall(BROWSER_CALLABLE, async (request) => {
  const uid = requireUid(request);
  try {
    return await storeSignupAndProvision(provisioningDeps(), { uid, email: request.auth?.token.email }, request.data, await appClock()());
  } catch (error) {
    throw toHttpsError(error, 'submitSignup');
  }
});

/** Platform super_admin: { jobId } of a job whose undo failed → runs the undo again; { jobId, status, undoErrors }. */
export const finishProvisioningRollback = onCall(WITH_STRIPE, async (request) => {
  const uid = requireUid(request);
  try {
    requirePlatformRole(request.auth?.token.platform, PROVISIONING_ACTION_ROLES.finishRollback, 'finish a provisioning rollback');
    return await finishRollback(sagaDeps(), uid, request.data);
  } catch (error) {
    throw toHttpsError(error, 'finishProvisioningRollback');
  }
});

/** The signed-in person confirmed their email: tenants they own record it. No input; { emailVerified, tenantIds }. */
export const syncEmailVerified = onCall(BROWSER_CALLABLE, async (request) => {
  const uid = requireUid(request);
  try {
    parseOrThrow(z.union([z.null(), z.undefined(), z.object({}).strict()]), request.data);
    return await syncVerified(provisioningDeps(), uid);
  } catch (error) {
    throw toHttpsError(error, 'syncEmailVerified');
  }
});
