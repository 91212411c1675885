import { logger } from 'firebase-functions';
import { onDocumentUpdated } from 'firebase-functions/v2/firestore';
import { HttpsError, onCall, type CallableRequest } from 'firebase-functions/v2/https';
import { firebase } from '../adapters/firestore';
import { listTenantHistory as listHistory } from '../console/history';
import { searchFieldsUpdate } from '../console/searchIndex';
import { advanceLocalClock as advanceClock, readLocalClock as readClock } from '../lifecycle/localClock';
import { retryProvisioning as retry } from '../provisioning/retry';
import { appClock, localClockDeps, onEmulators, provisioningDeps } from './deps';
import { toHttpsError } from './errors';
import { WITH_STRIPE } from './options';

/** The caller's uid and platform claim; which roles may do what is the domain's decision (domain/console.ts). */
function caller(request: CallableRequest) {
  const uid = request.auth?.uid;
  if (!uid) throw new HttpsError('unauthenticated', 'Sign in first');
  return { uid, platformRole: request.auth?.token.platform };
}

/** Staff: a tenant's lifecycle history, newest first: { tenantId, limit? } → { entries }. */
export const listTenantHistory = onCall(async (request) => {
  const staff = caller(request);
  try {
    return await listHistory(firebase().db, staff, request.data);
  } catch (error) {
    throw toHttpsError(error, 'listTenantHistory');
  }
});

/** Staff: a clean attempt of a rolled-back provisioning: { jobId, reason } → { tenantId, status, jobId }. */
export const retryProvisioning = onCall(async (request) => {
  const staff = caller(request);
  try {
    return await retry(provisioningDeps(), staff, request.data, await appClock()());
  } catch (error) {
    throw toHttpsError(error, 'retryProvisioning');
  }
});

/** Keeps the tenants table's search fields in step with a rename (clients may write `name` only). */
export const indexTenantName = onDocumentUpdated('tenants/{tenantId}', async (event) => {
  const after = event.data?.after;
  if (!after?.exists) return;
  const update = searchFieldsUpdate(after);
  if (!update) return;
  await after.ref.update(update);
  logger.info('tenant search fields updated', { tenantId: after.id });
});

/** Local emulators only: the time the lifecycle has been moved to. */
export const readLocalClock = onCall(async (request) => {
  caller(request);
  try {
    return await readClock(localClockDeps(), onEmulators());
  } catch (error) {
    throw toHttpsError(error, 'readLocalClock');
  }
});

/** Local emulators only (super_admin): { to } → every lifecycle sweep run as of `to`. */
export const advanceLocalClock = onCall(WITH_STRIPE, async (request) => {
  const staff = caller(request);
  try {
    return await advanceClock(localClockDeps(), staff, request.data, onEmulators());
  } catch (error) {
    throw toHttpsError(error, 'advanceLocalClock');
  }
});
