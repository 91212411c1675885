import { logger } from 'firebase-functions';
import { HttpsError, onCall } from 'firebase-functions/v2/https';
import { onSchedule } from 'firebase-functions/v2/scheduler';
import { firebase } from '../adapters/firestore';
import { stripeClient } from '../adapters/stripe';
import { PLATFORM_ROLES, type PlatformRole } from '../domain/status';
import { changeTenantStatus as changeStatus } from '../lifecycle/staffActions';
import { expireTrials as expire, remindEndingTrials as remind, suspendPastDue as suspend, type SweepReport } from '../lifecycle/sweeps';
import { appClock } from './deps';
import { toHttpsError } from './errors';
import { WITH_STRIPE } from './options';

/** Platform staff change a tenant's status, in Stripe first: { tenantId, action, trialEndsAt?, when?, reason } → { tenantId, from, to, historyId?, cancelAt?, stripe }. */
export const changeTenantStatus = onCall(WITH_STRIPE, async (request) => {
  const uid = request.auth?.uid;
  if (!uid) throw new HttpsError('unauthenticated', 'Sign in first');
  const platformRole = request.auth?.token.platform as PlatformRole | undefined;
  if (!platformRole || !PLATFORM_ROLES.includes(platformRole)) {
    throw new HttpsError('permission-denied', 'Only platform staff (super_admin or sales) can change a tenant status');
  }
  try {
    return await changeStatus({ db: firebase().db, stripe: () => stripeClient() }, { uid, platformRole }, request.data, await appClock()());
  } catch (error) {
    throw toHttpsError(error, 'changeTenantStatus');
  }
});

/** A sweep's errors make the run fail, so the scheduler's log shows it; the next run retries them. */
function finish(report: SweepReport) {
  if (report.errors.length) throw new Error(`${report.sweep}: ${report.errors.length} tenants failed (see the log)`);
  logger.info(`${report.sweep} done`, { changed: report.changed.length, skipped: report.skipped.length, reads: report.reads });
}

/** Trials past their end become trial_expired, with the conversion mail. */
export const expireTrials = onSchedule('every 15 minutes', async () => finish(await expire(firebase().db, await appClock()())));

/** The reminder mail three days before a trial ends, once per trial end. */
export const remindEndingTrials = onSchedule('every 1 hours', async () => finish(await remind(firebase().db, await appClock()())));

/** past_due tenants beyond their grace window become suspended. */
export const suspendPastDue = onSchedule('every 1 hours', async () => finish(await suspend(firebase().db, await appClock()())));
