import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { bindOwner } from '../adapters/auth';
import { DomainError } from '../domain/errors';
import { refs } from '../adapters/firestore';
import {
  checkDates,
  chooseSlug,
  decideOnExistingJob,
  freshAttempt,
  jobIdFor,
  planTenant,
  ProvisioningRequestSchema,
  slugCandidates,
  type BoundOwner,
  type ExistingJob,
  type ProvisioningRequest,
  type ProvisioningResult,
} from '../domain/provisioning';
import { parseOrThrow } from '../domain/validation';

export interface ProvisioningDeps {
  db: Firestore;
  auth: Auth;
  /** Hands a committed job to the saga worker (a task queue in production). */
  startSaga: (jobId: string) => Promise<void>;
}

/** Enough for 50 concurrent duplicates of one key: the losers retry once the winner commits. */
const MAX_TRANSACTION_ATTEMPTS = 25;

/**
 * The provisioning routine both entry points call. One transaction creates the tenant, its slug
 * reservation, the owner's membership, the first history entry and the job keyed by the
 * idempotency key; the same key replays the first result, a reused key with other input is refused.
 * The external steps then run as a saga on the job, off the caller's request.
 */
export async function provisionTenant(deps: ProvisioningDeps, input: unknown, now: Date = new Date()): Promise<ProvisioningResult> {
  const request = parseOrThrow(ProvisioningRequestSchema, input);
  checkDates(request, now);
  const owner = request.owner.uid ? knownOwner(request) : await findOrCreateOwner(deps, request);
  const { result, started } = await runProvisioningTransaction(deps.db, request, owner, now);
  if (started) {
    // If this hand-off is lost, sweepStuckProvisioning finds the pending job and starts it.
    await deps.startSaga(result.jobId).catch((error) => logger.error('could not start the provisioning saga', { jobId: result.jobId, error: String(error) }));
  }
  return result;
}

/**
 * An owner whose account the caller names (a self-serve signup, the demo seed) chose their own
 * password; whether their email is verified is read from Auth when the tenant opens.
 */
function knownOwner(request: ProvisioningRequest): BoundOwner {
  return { uid: request.owner.uid!, email: request.owner.email, displayName: request.owner.displayName, emailVerified: false, setsPassword: false };
}

/** `owner` is null only for a request that was a replay when checked: the transaction must find it one still. */
async function runProvisioningTransaction(db: Firestore, request: ProvisioningRequest, owner: BoundOwner | null, now: Date) {
  const ref = refs(db);
  const jobId = jobIdFor(request.idempotencyKey);
  const tenantId = ref.newTenantId();
  const candidates = slugCandidates(request, tenantId);
  return db.runTransaction(
    async (tx) => {
      // One round trip for every read the decision needs.
      const [job, ...slugs] = await tx.getAll(ref.job(jobId), ...candidates.map(ref.slug));
      let attempt = 1;
      if (job.exists) {
        const decision = decideOnExistingJob(job.data() as ExistingJob, request);
        if ('replay' in decision) return { result: decision.replay, started: false };
        attempt = decision.retry;
      }
      // Jobs are never deleted, so a replay seen before the transaction is one inside it.
      if (!owner) throw new DomainError('aborted', 'The provisioning job changed while it was read; please retry');
      const slug = chooseSlug(request, candidates, slugs.map((s) => s.exists));
      const docs = planTenant(request, { tenantId, jobId, slug, attempt }, owner, now);
      tx.create(ref.tenant(tenantId), docs.tenant);
      tx.create(ref.slug(slug), docs.slug);
      tx.create(ref.member(tenantId, owner.uid), docs.owner);
      tx.create(ref.newHistoryEntry(tenantId), docs.history);
      if (job.exists) tx.update(ref.job(jobId), freshAttempt(attempt, docs.result, docs.job.inputs, now));
      else tx.create(ref.job(jobId), docs.job);
      return { result: docs.result, started: true };
    },
    { maxAttempts: MAX_TRANSACTION_ATTEMPTS },
  );
}

/**
 * The named owner of a sales tenant, bound (found, reclaimed or created) only for a request that
 * will provision: the key and slug are checked first, so a refused request or a replay touches no account.
 */
async function findOrCreateOwner(deps: Pick<ProvisioningDeps, 'db' | 'auth'>, request: ProvisioningRequest): Promise<BoundOwner | null> {
  const ref = refs(deps.db);
  const [job, ...slugs] = await deps.db.getAll(ref.job(jobIdFor(request.idempotencyKey)), ...(request.slug ? [ref.slug(request.slug)] : []));
  const replaying = job.exists && 'replay' in decideOnExistingJob(job.data() as ExistingJob, request);
  if (replaying) return null;
  if (request.slug) chooseSlug(request, [request.slug], slugs.map((s) => s.exists));
  return bindOwner(deps.auth, request.owner.email, request.owner.displayName);
}
