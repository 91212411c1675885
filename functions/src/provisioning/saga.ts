import { randomUUID } from 'node:crypto';
import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import type Stripe from 'stripe';
import { refs } from '../adapters/firestore';
import type { JobStatus } from '../domain/status';
import { applyTransition, isRefusal } from '../lifecycle/transition';
import { PROVISIONING_STEPS, type ProvisioningStep, type StepContext, type StepOutput } from './steps';

export interface SagaDeps {
  db: Firestore;
  stripe: Stripe;
}

/** Test and bench hook: make a step fail, or its worker die, before or after it does its work. */
export interface Fault {
  step: string;
  /** Around the step's work, or (crash only) at the start of its undo. */
  at: 'before' | 'after' | 'undo';
  kind: 'fail' | 'crash';
  /** How many times it fires; every time when unset. */
  times?: number;
}

/** Thrown by a `crash` fault: the worker stops dead, no compensation runs, the job stays leased. */
export class WorkerCrash extends Error {}
class LostLease extends Error {}

export interface SagaOptions {
  steps?: ProvisioningStep[];
  now?: () => Date;
  workerId?: string;
  /** How long a claimed job is this worker's; a resumed job waits for it to lapse. */
  leaseMs?: number;
  stepAttempts?: number;
  backoffMs?: number;
  faults?: Fault[];
  /** The sweeper's verdict on a stuck job: undo it now, and end `failed` with a retry action. */
  abandonReason?: string;
}

interface CompletedStep {
  name: string;
  output: StepOutput;
  startedAt: Timestamp;
  ms: number;
}

interface JobDoc {
  status: JobStatus;
  attempt: number;
  idempotencyKey: string;
  tenantId: string;
  completedSteps: CompletedStep[];
  undoneSteps: string[];
  inFlightStep: string | null;
  error: { step: string; message: string } | null;
  leaseOwner: string | null;
  leaseUntil: Timestamp | null;
}

export type RunOutcome = JobStatus | 'leased' | 'missing';
const FINISHED: readonly JobStatus[] = ['completed', 'rolled_back', 'failed'];
const RELEASE_TENANT = 'releaseTenant';

/**
 * Runs a provisioning job's external steps in order, checkpointing each on the job document.
 * A step that still fails after its retries is compensated: every step done (and the one that
 * failed) is undone newest first, then the tenant is released. Resumable at any point: a new
 * worker skips recorded steps and re-runs the one in flight, whose `run` is idempotent.
 */
export async function runProvisioningJob(deps: SagaDeps, jobId: string, options: SagaOptions = {}): Promise<RunOutcome> {
  const opts = {
    steps: PROVISIONING_STEPS,
    now: () => new Date(),
    workerId: `worker-${randomUUID()}`,
    leaseMs: 60_000,
    stepAttempts: 3,
    backoffMs: 200,
    faults: [],
    ...options,
  };
  const claim = await claimJob(deps.db, jobId, opts);
  if (typeof claim === 'string') return claim;
  const job = claim;
  const ctx = await contextFor(deps, jobId, job, opts.now());
  const checkpoint = (fields: Record<string, unknown>) => recordOnJob(deps.db, jobId, opts, fields);

  if (opts.abandonReason) return compensate(ctx, job, opts, checkpoint, { step: job.inFlightStep ?? 'sweep', message: opts.abandonReason });
  if (job.status === 'compensating') return compensate(ctx, job, opts, checkpoint, job.error!);

  for (const step of opts.steps) {
    if (step.name in ctx.outputs) continue;
    const startedAt = opts.now();
    await checkpoint({ inFlightStep: step.name });
    try {
      const output = await runWithRetries(step, ctx, opts);
      ctx.outputs[step.name] = output;
      const entry: CompletedStep = { name: step.name, output, startedAt: Timestamp.fromDate(startedAt), ms: Date.now() - startedAt.getTime() };
      await checkpoint({ completedSteps: FieldValue.arrayUnion(entry), inFlightStep: null });
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease) throw error;
      const failure = { step: step.name, message: messageOf(error) };
      const pastNoReturn = step.irreversible || opts.steps.some((s) => s.irreversible && s.name in ctx.outputs);
      if (pastNoReturn) {
        // A mail may have gone out: undoing the tenant now would strand it. Roll forward: the queue retries.
        await checkpoint({ error: failure });
        throw error;
      }
      logger.warn('provisioning step failed; compensating', { jobId, step: failure.step, reason: failure.message });
      return compensate(ctx, { ...job, inFlightStep: step.name }, opts, checkpoint, failure);
    }
  }
  await checkpoint({ status: 'completed', error: null, inFlightStep: null, leaseOwner: null, leaseUntil: null, completedAt: opts.now() });
  return 'completed';
}

async function compensate(
  ctx: StepContext,
  job: JobDoc,
  opts: Required<Pick<SagaOptions, 'steps' | 'now'>> & SagaOptions,
  checkpoint: (fields: Record<string, unknown>) => Promise<void>,
  failure: { step: string; message: string },
): Promise<RunOutcome> {
  await checkpoint({ status: 'compensating', error: failure, inFlightStep: job.inFlightStep });
  const undone = new Set(job.undoneSteps ?? []);
  const started = opts.steps.filter((s) => s.name in ctx.outputs || s.name === job.inFlightStep);
  const undoErrors: { step: string; message: string }[] = [];
  const undoOne = async (name: string, undo: () => Promise<void>) => {
    if (undone.has(name)) return;
    try {
      await withRetries(opts, () => {
        injectFault(opts.faults, name, 'undo');
        return undo();
      });
      await checkpoint({ undoneSteps: FieldValue.arrayUnion(name) });
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease) throw error;
      const undoError = { step: name, message: messageOf(error) };
      undoErrors.push(undoError);
      logger.error('provisioning undo failed; an operator must finish it', { jobId: ctx.jobId, step: undoError.step, reason: undoError.message });
    }
  };
  for (const step of [...started].reverse()) {
    if (step.undo) await undoOne(step.name, () => step.undo!(ctx, ctx.outputs[step.name]));
  }
  await undoOne(RELEASE_TENANT, () => releaseTenant(ctx, failure.message));
  const status: JobStatus = undoErrors.length || opts.abandonReason ? 'failed' : 'rolled_back';
  await checkpoint({
    status,
    undoErrors,
    inFlightStep: null,
    leaseOwner: null,
    leaseUntil: null,
    completedAt: opts.now(),
    // What an operator (or the client) does next.
    retryAction: undoErrors.length
      ? 'finish the failed undo steps by hand (see undoErrors), then resubmit with the same idempotency key'
      : status === 'failed'
        ? 'resubmit with the same idempotency key to start a clean attempt'
        : null,
  });
  return status;
}

/**
 * The undo of the provisioning transaction: tenant `failed` through the lifecycle's one transition,
 * with the slug released and the owner's membership removed in the same transaction.
 */
async function releaseTenant(ctx: StepContext, reason: string) {
  const ref = refs(ctx.db);
  try {
    await applyTransition(ctx.db, ctx.tenantId, 'provisioning_rolled_back', {
      actor: `provisioning:${ctx.jobId}`,
      now: ctx.now,
      reason,
      // The owner's membership goes in this transaction: the ledger counts nobody.
      tenantFields: { 'seats.members': 0 },
      alsoInTransaction: async (tx, tenant) => {
        const slugRef = ref.slug(String(tenant.get('slug')));
        const slug = await tx.get(slugRef);
        if (slug.exists && slug.get('tenantId') === ctx.tenantId) tx.delete(slugRef);
        tx.delete(ref.member(ctx.tenantId, ctx.tenant.ownerUid));
      },
    });
  } catch (error) {
    // Already `failed` (released by an earlier run of this undo) or gone: nothing is left to release.
    if (!isRefusal(error)) throw error;
  }
}

/** Transient failures (a Stripe 5xx, a contended write) get a few tries with backoff, undos as much as steps. */
async function withRetries<T>(opts: SagaOptions, work: () => Promise<T>): Promise<T> {
  const attempts = opts.stepAttempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, (opts.backoffMs ?? 200) * 2 ** (attempt - 1)));
    }
  }
}

function runWithRetries(step: ProvisioningStep, ctx: StepContext, opts: SagaOptions) {
  return withRetries(opts, async () => {
    injectFault(opts.faults, step.name, 'before');
    const output = await step.run(ctx);
    injectFault(opts.faults, step.name, 'after');
    return output;
  });
}

function injectFault(faults: Fault[] | undefined, step: string, at: Fault['at']) {
  const fault = faults?.find((f) => f.step === step && f.at === at && (f.times === undefined || f.times > 0));
  if (!fault) return;
  if (fault.times !== undefined) fault.times--;
  if (fault.kind === 'crash') throw new WorkerCrash(`injected crash ${at} ${step}`);
  throw new Error(`injected failure ${at} ${step}`);
}

/** Takes the job for this worker unless it is finished or another live worker holds it. */
async function claimJob(
  db: Firestore,
  jobId: string,
  opts: { steps: ProvisioningStep[]; workerId: string; leaseMs: number; now: () => Date; abandonReason?: string },
): Promise<JobDoc | RunOutcome> {
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(refs(db).job(jobId));
    if (!snap.exists) return 'missing' as const;
    const job = snap.data() as JobDoc;
    if (FINISHED.includes(job.status)) return job.status;
    const now = opts.now();
    const leased = job.leaseOwner && job.leaseOwner !== opts.workerId && job.leaseUntil && job.leaseUntil.toMillis() > now.getTime();
    if (leased && !opts.abandonReason) return 'leased' as const;
    tx.update(snap.ref, {
      status: job.status === 'pending' ? 'running' : job.status,
      // What the saga will do, so a client can draw the whole checklist from the job alone.
      plannedSteps: opts.steps.map((s) => s.name),
      leaseOwner: opts.workerId,
      leaseUntil: Timestamp.fromMillis(now.getTime() + opts.leaseMs),
      updatedAt: now,
    });
    return job;
  });
}

/** Every checkpoint renews the lease, and stops a worker whose lease another worker has taken. */
async function recordOnJob(db: Firestore, jobId: string, opts: { workerId: string; leaseMs: number; now: () => Date }, fields: Record<string, unknown>) {
  await db.runTransaction(async (tx) => {
    const snap = await tx.get(refs(db).job(jobId));
    if (snap.get('leaseOwner') !== opts.workerId) throw new LostLease(`job ${jobId} is now run by another worker`);
    const now = opts.now();
    tx.update(snap.ref, { leaseUntil: Timestamp.fromMillis(now.getTime() + opts.leaseMs), updatedAt: now, ...fields });
  });
}

async function contextFor(deps: SagaDeps, jobId: string, job: JobDoc, now: Date): Promise<StepContext> {
  const tenant = await refs(deps.db).tenant(job.tenantId).get();
  const data = tenant.data();
  if (!data) throw new Error(`job ${jobId} names tenant ${job.tenantId}, which does not exist`);
  return {
    db: deps.db,
    stripe: deps.stripe,
    jobId,
    attempt: job.attempt,
    tenantId: job.tenantId,
    tenant: {
      name: data.name,
      plan: data.plan,
      billingEmail: data.billingEmail,
      ownerUid: data.ownerUid,
      trialEndsAt: data.trialEndsAt ? (data.trialEndsAt as Timestamp).toDate() : null,
    },
    outputs: Object.fromEntries((job.completedSteps ?? []).map((s) => [s.name, s.output])),
    now,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
