import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { ensureUser } from '../adapters/auth';
import { refs } from '../adapters/firestore';
import {
  chooseSlug,
  jobIdFor,
  planTenant,
  ProvisioningRequestSchema,
  replayOrRefuse,
  slugCandidates,
  type OwnerIdentity,
  type ProvisioningRequest,
  type ProvisioningResult,
} from '../domain/provisioning';
import { parseOrThrow } from '../domain/validation';

/** Enough for 50 concurrent duplicates of one key: the losers retry once the winner commits. */
const MAX_TRANSACTION_ATTEMPTS = 25;

/**
 * The provisioning routine both entry points call. One transaction creates the tenant, its slug
 * reservation, the owner's membership, the first history entry and the job keyed by the
 * idempotency key; the same key replays the first result, a reused key with other input is refused.
 */
export async function provisionTenant(
  deps: { db: Firestore; auth: Auth },
  input: unknown,
  now: Date = new Date(),
): Promise<ProvisioningResult> {
  const request = parseOrThrow(ProvisioningRequestSchema, input);
  const owner = request.owner.uid
    ? { uid: request.owner.uid, email: request.owner.email, displayName: request.owner.displayName }
    : await findOrCreateOwner(deps, request);
  return runProvisioningTransaction(deps.db, request, owner, now);
}

async function runProvisioningTransaction(
  db: Firestore,
  request: ProvisioningRequest,
  owner: OwnerIdentity,
  now: Date,
): Promise<ProvisioningResult> {
  const ref = refs(db);
  const jobId = jobIdFor(request.idempotencyKey);
  const tenantId = ref.newTenantId();
  const candidates = slugCandidates(request, tenantId);
  return db.runTransaction(
    async (tx) => {
      // One round trip for every read the decision needs.
      const [job, ...slugs] = await tx.getAll(ref.job(jobId), ...candidates.map(ref.slug));
      if (job.exists) return replayOrRefuse(job.data() as Parameters<typeof replayOrRefuse>[0], request);
      const slug = chooseSlug(request, candidates, slugs.map((s) => s.exists));
      const docs = planTenant(request, { tenantId, jobId, slug }, owner, now);
      tx.create(ref.tenant(tenantId), docs.tenant);
      tx.create(ref.slug(slug), docs.slug);
      tx.create(ref.member(tenantId, owner.uid), docs.owner);
      tx.create(ref.newHistoryEntry(tenantId), docs.history);
      tx.create(ref.job(jobId), docs.job);
      return docs.result;
    },
    { maxAttempts: MAX_TRANSACTION_ATTEMPTS },
  );
}

/**
 * A named owner without an Auth account gets one. Before creating it, the key and slug are
 * checked so that a request the transaction would refuse creates no account.
 */
async function findOrCreateOwner(deps: { db: Firestore; auth: Auth }, request: ProvisioningRequest) {
  const ref = refs(deps.db);
  const [job, ...slugs] = await deps.db.getAll(
    ref.job(jobIdFor(request.idempotencyKey)),
    ...(request.slug ? [ref.slug(request.slug)] : []),
  );
  if (job.exists) replayOrRefuse(job.data() as Parameters<typeof replayOrRefuse>[0], request);
  else if (request.slug) chooseSlug(request, [request.slug], slugs.map((s) => s.exists));
  return ensureUser(deps.auth, request.owner.email, request.owner.displayName);
}
