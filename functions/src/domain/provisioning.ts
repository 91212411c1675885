import { createHash } from 'node:crypto';
import { z } from 'zod';
import { StaffReasonSchema, tenantSearchFields } from './console';
import { DomainError } from './errors';
import { DEFAULT_DAYS_UNTIL_DUE, MAX_SEAT_CAP, MAX_TRIAL_AHEAD_DAYS, PLANS, PLAN_IDS, type PlanId } from './plans';
import type { JobStatus, TenantSource, TenantStatus } from './status';

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$/;
const SLUG_MAX = 40;
export { MAX_TRIAL_AHEAD_DAYS } from './plans';
/** Subdomains the product itself needs; a tenant can never hold them. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'admin', 'api', 'app', 'auth', 'billing', 'docs', 'help', 'login', 'mail', 'signup', 'status', 'support', 'www',
]);

export const SlugSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(SLUG_PATTERN, '3 to 40 characters: lowercase letters, digits and inner hyphens')
  .refine((slug) => !RESERVED_SLUGS.has(slug), 'is reserved by the product; choose another');

export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{8,255}$/, '8 to 255 printable characters without spaces (a UUID per submission works)');

export const CompanyNameSchema = z.string().trim().min(2, 'at least 2 characters').max(100, 'at most 100 characters');
export const PersonNameSchema = z.string().trim().min(1, 'is required').max(100, 'at most 100 characters');
export const PlanIdSchema = z.enum(PLAN_IDS, { message: `one of ${PLAN_IDS.join(', ')}` });
/** Payment terms of a sales contract: Stripe's days_until_due on every invoice it sends. */
export const DaysUntilDueSchema = z
  .number({ message: 'a whole number of days' })
  .int('a whole number of days')
  .min(1, 'at least 1 day')
  .max(365, 'at most 365 days');

export const SeatCapSchema = z
  .number({ message: 'a whole number' })
  .int('a whole number')
  .min(1, 'at least 1')
  .max(MAX_SEAT_CAP, `at most ${MAX_SEAT_CAP}`);

/** The one input of the provisioning routine; both callers build it. */
export const ProvisioningRequestSchema = z
  .object({
    idempotencyKey: IdempotencyKeySchema,
    source: z.enum(['self_serve', 'sales']),
    owner: z
      .object({
        /** Set by callers that already know the Auth user; otherwise it is found or created by email. */
        uid: z.string().min(1).max(128).optional(),
        email: z.email('a valid email address').toLowerCase(),
        displayName: PersonNameSchema,
      })
      .strict(),
    companyName: CompanyNameSchema,
    slug: SlugSchema.optional(),
    plan: PlanIdSchema,
    seatCap: SeatCapSchema.optional(),
    trialEndsAt: z.date().optional(),
    goLiveAt: z.date().optional(),
    daysUntilDue: DaysUntilDueSchema.optional(),
    requestedBy: z.string().min(1).max(128),
    /** Why this attempt was started, when staff retry a failed provisioning: lands in the tenant's history. */
    reason: z.string().trim().min(3).max(500).optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    if (request.source === 'self_serve') {
      if (!PLANS[request.plan].selfServe)
        ctx.addIssue({ code: 'custom', path: ['plan'], message: `'${request.plan}' is sold through sales, not self-serve` });
      if (request.seatCap !== undefined)
        ctx.addIssue({ code: 'custom', path: ['seatCap'], message: 'is set by the plan for self-serve signups' });
      if (request.goLiveAt !== undefined)
        ctx.addIssue({ code: 'custom', path: ['goLiveAt'], message: 'is only for sales-assisted tenants' });
      if (request.daysUntilDue !== undefined)
        ctx.addIssue({ code: 'custom', path: ['daysUntilDue'], message: 'is only for sales-assisted tenants (billed by invoice)' });
    } else if (request.trialEndsAt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['trialEndsAt'], message: 'sales tenants use goLiveAt' });
    }
  });
export type ProvisioningRequest = z.output<typeof ProvisioningRequestSchema>;

/** Platform staff finish the undo of a job whose compensation failed (`finishProvisioningRollback`). */
export const FinishRollbackSchema = z
  .object({
    jobId: z.string().regex(/^job_[0-9a-f]{40}$/, "a provisioning job id ('job_' and 40 hex digits, as on the job document)"),
    /** Why staff finish it: kept on the job with the action (the admin console always sends one). */
    reason: StaffReasonSchema.optional(),
  })
  .strict();

/** What a caller gets back, the first time and on every replay of the same key. */
export interface ProvisioningResult {
  tenantId: string;
  status: TenantStatus;
  jobId: string;
}

/** Job ids are a hash of the key, so one key maps to exactly one job document. */
export function jobIdFor(idempotencyKey: string): string {
  return `job_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/** A stable hash of what was asked for (not who asked), to tell a replay from a reused key. */
export function fingerprintOf(request: ProvisioningRequest): string {
  const asked = {
    source: request.source,
    owner: { email: request.owner.email, displayName: request.owner.displayName, uid: request.owner.uid ?? null },
    companyName: request.companyName,
    slug: request.slug ?? null,
    plan: request.plan,
    seatCap: request.seatCap ?? null,
    trialEndsAt: request.trialEndsAt?.toISOString() ?? null,
    goLiveAt: request.goLiveAt?.toISOString() ?? null,
    // Only when given, so the fingerprints of jobs stored before it existed still match their replays.
    ...(request.daysUntilDue !== undefined ? { daysUntilDue: request.daysUntilDue } : {}),
  };
  return createHash('sha256').update(JSON.stringify(asked)).digest('hex');
}

export function deriveSlug(companyName: string): string {
  const base = companyName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, SLUG_MAX)
    .replace(/-+$/g, '');
  const padded = base.length >= 3 ? base : `${base || 'org'}-team`.replace(/^-/, '');
  return RESERVED_SLUGS.has(padded) ? `${padded}-team` : padded;
}

/**
 * The slugs to read in the provisioning transaction. An explicit slug is the only candidate;
 * a derived one gets a fallback suffixed with the new tenant id, so a clash costs no extra round trip.
 */
export function slugCandidates(request: ProvisioningRequest, tenantId: string): string[] {
  if (request.slug) return [request.slug];
  const base = deriveSlug(request.companyName);
  const suffix = tenantId.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 6);
  return [base, `${base.slice(0, SLUG_MAX - suffix.length - 1).replace(/-+$/g, '')}-${suffix}`];
}

/** Picks the first free candidate; an explicit slug that is taken is refused, never renamed. */
export function chooseSlug(request: ProvisioningRequest, candidates: string[], taken: boolean[]): string {
  const free = candidates.find((_, i) => !taken[i]);
  if (free) return free;
  if (request.slug) {
    throw new DomainError('already-exists', `slug: '${request.slug}' is already taken by another tenant; choose another`, {
      field: 'slug',
    });
  }
  // Both the name and its tenant-id suffix are taken: a retry draws a new tenant id.
  throw new DomainError('aborted', 'Could not reserve a unique slug for this company name; please retry');
}

export interface NewTenant {
  name: string;
  slug: string;
  plan: PlanId;
  /** Always `provisioning`: the saga's ready step opens it (trial or active), a rollback fails it. */
  status: TenantStatus;
  seatCap: number;
  pendingInviteLimit: number;
  /** The seat ledger (functions/src/team/): memberships and pending invites, kept in step by every team change. */
  seats: { members: number; pendingInvites: number };
  trialEndsAt: Date | null;
  goLiveAt: Date | null;
  /** Sales tenants are billed by invoice (Stripe send_invoice) due this many days after it is sent; null for card billing. */
  daysUntilDue: number | null;
  ownerUid: string;
  /** A copy of the owner's Auth `emailVerified`, refreshed when the tenant opens and by `syncEmailVerified`. */
  ownerEmailVerified: boolean;
  source: TenantSource;
  stripeCustomerId: null;
  stripeSubscriptionId: null;
  billingEmail: string;
  failedPaymentRetries: number;
  provisioningJobId: string;
  /** For the admin console's tenants table (domain/console.ts); kept in step with `name` by indexTenantName. */
  searchKeys: string[];
  nameSort: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The checks that depend on the clock, made before anything is written (an owner account included). */
export function checkDates(request: ProvisioningRequest, now: Date): void {
  const latest = now.getTime() + MAX_TRIAL_AHEAD_DAYS * 86_400_000;
  for (const field of ['goLiveAt', 'trialEndsAt'] as const) {
    if ((request[field]?.getTime() ?? 0) > latest) {
      throw new DomainError('invalid-argument', `${field}: at most ${MAX_TRIAL_AHEAD_DAYS} days ahead (Stripe's limit for a trial end)`, { field });
    }
  }
  if (request.trialEndsAt && request.trialEndsAt.getTime() <= now.getTime()) {
    throw new DomainError('invalid-argument', 'trialEndsAt: must be in the future', { field: 'trialEndsAt' });
  }
}

/**
 * The tenant's opening terms. Self-serve gets a trial of the plan's length. A sales tenant whose
 * go-live has come gets no trial (it opens `active`); before go-live, a trial that ends at go-live.
 */
export function openingTerms(request: ProvisioningRequest, now: Date): Pick<NewTenant, 'trialEndsAt' | 'goLiveAt' | 'seatCap'> {
  const plan = PLANS[request.plan];
  const seatCap = request.seatCap ?? plan.seatCap;
  if (request.source === 'sales') {
    const goLiveAt = request.goLiveAt ?? now;
    const live = goLiveAt.getTime() <= now.getTime();
    return { trialEndsAt: live ? null : goLiveAt, goLiveAt, seatCap };
  }
  const trialEndsAt = request.trialEndsAt ?? new Date(now.getTime() + plan.trialDays * 86_400_000);
  return { trialEndsAt, goLiveAt: null, seatCap };
}

export interface OwnerIdentity {
  uid: string;
  email: string;
  displayName: string;
}

/** The owner as provisioning bound them: what the welcome mail and the tenant need to know. */
export interface BoundOwner extends OwnerIdentity {
  emailVerified: boolean;
  /** The account has no password its owner knows (created, or reclaimed, for them): the welcome mail sets one. */
  setsPassword: boolean;
}

/**
 * What the saga's steps work from, snapshotted on the job when an attempt starts: a resumed step
 * sends Stripe the same parameters under its idempotency key, whatever happened to the tenant since.
 */
export interface StepInputs {
  companyName: string;
  plan: PlanId;
  billingEmail: string;
  ownerUid: string;
  ownerName: string;
  trialEndsAt: Date | null;
  ownerSetsPassword: boolean;
  /** The subscription's quantity: per-seat prices (the plan's default seats, or the contract's). */
  seatCap: number;
  /** Sales tenants are billed by invoice, due this many days after it is sent; null: a card (self-serve). */
  daysUntilDue: number | null;
  /** The sales rep who provisioned a sales tenant (told when it is ready); null for self-serve. */
  salesRepUid: string | null;
}

/** Every document the provisioning transaction creates, computed without I/O. */
export function planTenant(
  request: ProvisioningRequest,
  ids: { tenantId: string; jobId: string; slug: string; attempt: number },
  owner: BoundOwner,
  now: Date,
) {
  const terms = openingTerms(request, now);
  const tenant: NewTenant = {
    name: request.companyName,
    slug: ids.slug,
    plan: request.plan,
    status: 'provisioning',
    ...terms,
    pendingInviteLimit: PLANS[request.plan].pendingInviteLimit,
    // The owner's membership, created in the same transaction, is the first seat.
    seats: { members: 1, pendingInvites: 0 },
    daysUntilDue: request.source === 'sales' ? request.daysUntilDue ?? DEFAULT_DAYS_UNTIL_DUE : null,
    ownerUid: owner.uid,
    ownerEmailVerified: owner.emailVerified,
    source: request.source,
    stripeCustomerId: null,
    stripeSubscriptionId: null,
    billingEmail: owner.email,
    failedPaymentRetries: 0,
    provisioningJobId: ids.jobId,
    ...tenantSearchFields(request.companyName, ids.slug),
    createdAt: now,
    updatedAt: now,
  };
  const inputs: StepInputs = {
    companyName: request.companyName,
    plan: request.plan,
    billingEmail: owner.email,
    ownerUid: owner.uid,
    ownerName: owner.displayName,
    trialEndsAt: terms.trialEndsAt,
    ownerSetsPassword: owner.setsPassword,
    seatCap: terms.seatCap,
    daysUntilDue: tenant.daysUntilDue,
    salesRepUid: request.source === 'sales' ? request.requestedBy : null,
  };
  const result: ProvisioningResult = { tenantId: ids.tenantId, status: tenant.status, jobId: ids.jobId };
  return {
    tenant,
    slug: { tenantId: ids.tenantId, createdAt: now },
    // The job id lets the owner follow the setup: the tenant itself is unreadable until it opens.
    owner: { uid: owner.uid, role: 'owner' as const, email: owner.email, displayName: owner.displayName, joinedAt: now, provisioningJobId: ids.jobId },
    history: { from: null, to: tenant.status, cause: 'provisioned', actor: request.requestedBy, at: now, ...(request.reason ? { reason: request.reason } : {}) },
    job: {
      idempotencyKey: request.idempotencyKey,
      fingerprint: fingerprintOf(request),
      // What was asked for, so staff can start a clean attempt of it later (retryProvisioning).
      request: storedRequest(request),
      source: request.source,
      requestedBy: request.requestedBy,
      createdAt: now,
      ...freshAttempt(ids.attempt, result, inputs, now),
    },
    result,
  };
}

/** The request as the job keeps it: without the per-attempt reason or unset fields (Firestore refuses undefined). */
export function storedRequest(request: ProvisioningRequest): Record<string, unknown> {
  const { reason: _perAttempt, owner, ...asked } = request;
  const defined = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return { ...defined(asked), owner: defined(owner) };
}

/** The job fields that start an attempt of the saga (the first, or a clean one after a rollback). */
export function freshAttempt(attempt: number, result: ProvisioningResult, inputs: StepInputs, now: Date) {
  return {
    attempt,
    tenantId: result.tenantId,
    result,
    inputs,
    status: 'pending' as const,
    completedSteps: [],
    undoneSteps: [],
    undoErrors: [],
    inFlightStep: null,
    error: null,
    retryAction: null,
    alert: null,
    resumes: 0,
    leaseOwner: null,
    leaseUntil: null,
    updatedAt: now,
  };
}

export interface ExistingJob {
  fingerprint: string;
  result: ProvisioningResult;
  status: JobStatus;
  attempt: number;
  undoErrors?: unknown[];
}

/**
 * A job found under the key. The same request replays its result, or, when the earlier attempt
 * was rolled back cleanly, starts a new attempt; a different request under the key is refused.
 */
export function decideOnExistingJob(job: ExistingJob, request: ProvisioningRequest): { replay: ProvisioningResult } | { retry: number } {
  if (job.fingerprint !== fingerprintOf(request)) {
    throw new DomainError(
      'already-exists',
      `idempotencyKey: '${request.idempotencyKey}' was already used for a different provisioning request; send a new key for a new request`,
      { field: 'idempotencyKey' },
    );
  }
  const rolledBack = job.status === 'rolled_back' || (job.status === 'failed' && !job.undoErrors?.length);
  if (rolledBack) return { retry: job.attempt + 1 };
  if (job.status === 'failed') {
    throw new DomainError('failed-precondition', 'The last attempt of this provisioning could not be fully undone; platform staff must finish it (finishProvisioningRollback) before a retry');
  }
  return { replay: job.result };
}
