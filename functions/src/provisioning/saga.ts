import { randomUUID } from 'node:crypto';
import type { Auth } from 'firebase-admin/auth';
import { FieldValue, Timestamp, type Firestore } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import type Stripe from 'stripe';
import { refs } from '../adapters/firestore';
import { DomainError } from '../domain/errors';
import type { StepInputs } from '../domain/provisioning';
import type { JobStatus } from '../domain/status';
import { DEFAULT_DAYS_UNTIL_DUE, PLANS } from '../domain/plans';
import { applyTransition, isRefusal } from '../lifecycle/transition';
import { Lease, LostLease } from './lease';
import { PROVISIONING_STEPS, type ProvisioningStep, type StepContext, type StepOutput } from './steps';

export { LostLease } from './lease';

export interface SagaDeps {
  db: Firestore;
  stripe: Stripe;
  auth: Auth;
}

/** Test and bench hook: make a step fail, its worker die, or its step or worker take longer than the lease. */
export interface Fault {
  step: string;
  /** Around the step's work, or at the start of its undo. */
  at: 'before' | 'after' | 'undo';
  /**
   * `fail`: the attempt throws. `crash`: the worker stops dead (no compensation, the job stays leased).
   * `slow`: the step takes `ms` longer while its worker lives (the heartbeat keeps the lease).
   * `stall`: the whole worker freezes for `ms`, heartbeat included, as in a long pause of its process.
   */
  kind: 'fail' | 'crash' | 'slow' | 'stall';
  ms?: number;
  /** How many times it fires; every time when unset. */
  times?: number;
}

/** Thrown by a `crash` fault: the worker stops dead, no compensation runs, the job stays leased. */
export class WorkerCrash extends Error {}

export interface SagaOptions {
  steps?: ProvisioningStep[];
  /** The clock the job's and the tenant's timestamps are written with; leases always use the real clock. */
  now?: () => Date;
  workerId?: string;
  /** How long a claimed job is this worker's without a renewal; renewed at checkpoints and by a heartbeat. */
  leaseMs?: number;
  /**
   * The longest one attempt of a step may take: an attempt starts only with this much lease left, so a
   * Stripe call is never still running when another worker may take over (Stripe client: 20 s timeout, 2 tries).
   */
  attemptBudgetMs?: number;
  stepAttempts?: number;
  backoffMs?: number;
  faults?: Fault[];
  /** The sweeper's verdict on a stuck job: undo it now and end `failed`, unless it is past the point of no return. */
  abandonReason?: string;
  /** Platform staff: run the compensation of a job whose undo failed again, to `rolled_back` once clean. */
  finishRollback?: boolean;
}

interface CompletedStep {
  name: string;
  output: StepOutput;
  startedAt: Timestamp;
  ms: number;
}

interface Failure {
  step: string;
  message: string;
}

/**
 * One try of a step or of an undo, appended to the job's `timeline` as it ends (kept across attempts),
 * so the admin console can draw every try, failure and undo of every attempt from the job alone.
 */
export interface TimelineEntry {
  attempt: number;
  /** The attempt's tenant: a clean attempt after a rollback provisions a new one. */
  tenantId: string;
  kind: 'step' | 'undo';
  step: string;
  /** 1 for the first try of this step by this worker, 2 for its first retry, ... */
  try: number;
  startedAt: Timestamp;
  ms: number;
  ok: boolean;
  error?: string;
}

interface JobDoc {
  status: JobStatus;
  attempt: number;
  idempotencyKey: string;
  tenantId: string;
  source?: 'self_serve' | 'sales';
  requestedBy?: string;
  inputs: Omit<StepInputs, 'trialEndsAt' | 'seatCap' | 'daysUntilDue' | 'salesRepUid'> & {
    trialEndsAt: Timestamp | null;
    seatCap?: number;
    daysUntilDue?: number | null;
    salesRepUid?: string | null;
  };
  completedSteps: CompletedStep[];
  undoneSteps: string[];
  undoErrors?: Failure[];
  inFlightStep: string | null;
  error: Failure | null;
  leaseOwner: string | null;
  leaseUntil: Timestamp | null;
}

/** `past_no_return`: the sweeper asked to abandon a job that may already have opened its tenant or mailed its owner. */
export type RunOutcome = JobStatus | 'leased' | 'missing' | 'past_no_return';
const FINISHED: readonly JobStatus[] = ['completed', 'rolled_back', 'failed'];
/** The undo of the provisioning transaction, recorded in `undoneSteps` like a step's. */
export const CLOSE_TENANT = 'releaseTenant';

type Options = Required<Omit<SagaOptions, 'abandonReason' | 'finishRollback'>> & Pick<SagaOptions, 'abandonReason' | 'finishRollback'>;

/** A compensation found the tenant open: it is never undone, the saga rolls forward instead. */
class TenantIsOpen extends Error {}

/**
 * Runs a provisioning job's external steps in order, checkpointing each on the job document.
 * A step that still fails after its retries, before the point of no return, is compensated: the
 * tenant is closed (`failed`) first, then every step done (and the one that failed) is undone newest
 * first. From the step that opens the tenant on, failures roll forward (the queue retries).
 * Resumable at any point: a new worker skips recorded steps and re-runs the one in flight.
 */
export async function runProvisioningJob(deps: SagaDeps, jobId: string, options: SagaOptions = {}): Promise<RunOutcome> {
  const opts: Options = {
    steps: PROVISIONING_STEPS,
    now: () => new Date(),
    workerId: `worker-${randomUUID()}`,
    leaseMs: 60_000,
    attemptBudgetMs: 45_000,
    stepAttempts: 3,
    backoffMs: 200,
    faults: [],
    ...options,
  };
  const lease = new Lease(deps.db, jobId, opts.workerId, opts.leaseMs);
  const claim = await claimJob(deps.db, jobId, opts, lease);
  if (typeof claim === 'string') return claim;
  const { job, failure } = claim;
  const ctx = contextFor(deps, jobId, job, opts.now(), lease);
  try {
    if (failure) return await compensate(ctx, job, opts, lease, failure);
    return await runSteps(ctx, job, opts, lease);
  } finally {
    lease.stopHeartbeat();
  }
}

async function runSteps(ctx: StepContext, job: JobDoc, opts: Options, lease: Lease): Promise<RunOutcome> {
  const pending = opts.steps.filter((step) => !(step.name in ctx.outputs));
  // The checkpoint that records a step also names the next one in flight: one write per step.
  let announced: string | null = null;
  for (const [i, step] of pending.entries()) {
    const startedAt = opts.now();
    if (announced !== step.name) await lease.renew({ inFlightStep: step.name, inFlightSince: startedAt }, opts.now());
    try {
      const { result: output, ended } = await runWithRetries(step, ctx, opts, lease);
      ctx.outputs[step.name] = output;
      const entry: CompletedStep = { name: step.name, output, startedAt: Timestamp.fromDate(startedAt), ms: Date.now() - startedAt.getTime() };
      announced = pending[i + 1]?.name ?? null;
      await lease.renew(
        {
          completedSteps: FieldValue.arrayUnion(entry),
          timeline: FieldValue.arrayUnion(timelineEntry(ctx, 'step', step.name, ended)),
          inFlightStep: announced,
          inFlightSince: announced ? opts.now() : null,
        },
        opts.now(),
      );
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease) throw error;
      const failure = { step: step.name, message: messageOf(error) };
      if (pastNoReturn(opts.steps, ctx.outputs, step.name)) {
        // The tenant may be open and its owner mailed: never undo it. Roll forward: the queue's retry
        // claims the job at once, since this worker lets go of it.
        await lease.release({ error: failure }, opts.now());
        throw error;
      }
      logger.warn('provisioning step failed; compensating', { jobId: ctx.jobId, step: failure.step, reason: failure.message });
      return compensate(ctx, { ...job, inFlightStep: step.name }, opts, lease, failure);
    }
  }
  await lease.release({ status: 'completed', error: null, inFlightStep: null, inFlightSince: null, completedAt: opts.now() }, opts.now());
  return 'completed';
}

/** Has a step that cannot be undone (opening the tenant, mail) run, or may it have (in flight)? */
function pastNoReturn(steps: ProvisioningStep[], outputs: Record<string, StepOutput>, inFlight: string | null): boolean {
  return steps.some((s) => s.irreversible && (s.name in outputs || s.name === inFlight));
}

async function compensate(ctx: StepContext, job: JobDoc, opts: Options, lease: Lease, failure: Failure): Promise<RunOutcome> {
  await lease.renew({ status: 'compensating', error: failure, inFlightStep: job.inFlightStep, retryAction: null }, opts.now());
  const undone = new Set(job.undoneSteps ?? []);
  const undoErrors: Failure[] = [];
  const undoOne = async (name: string, undo: () => Promise<void>) => {
    if (undone.has(name)) return;
    try {
      const { ended } = await withRetries(
        opts,
        lease,
        async () => {
          await injectFault(opts.faults, name, 'undo', lease);
          return undo();
        },
        recordFailedTries(lease, opts, ctx, 'undo', name),
      );
      await lease.renew({ undoneSteps: FieldValue.arrayUnion(name), timeline: FieldValue.arrayUnion(timelineEntry(ctx, 'undo', name, ended)) }, opts.now());
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease) throw error;
      if (error instanceof TenantIsOpen) throw error;
      const undoError = { step: name, message: messageOf(error) };
      undoErrors.push(undoError);
      logger.error('provisioning undo failed; an operator must finish it', { jobId: ctx.jobId, step: undoError.step, reason: undoError.message });
    }
  };

  try {
    // The tenant is closed first, in a transaction that refuses an open tenant: nothing can open it
    // afterwards, and nothing is undone under a tenant that did open.
    await undoOne(CLOSE_TENANT, () => closeTenant(ctx, failure.message));
  } catch (error) {
    if (!(error instanceof TenantIsOpen)) throw error;
    const alert = { reason: `compensation refused: ${error.message}; rolling forward`, raisedAt: opts.now() };
    logger.error('provisioning: the tenant is open, so it is never undone; rolling forward', { jobId: ctx.jobId, reason: alert.reason });
    await lease.release({ status: 'running', alert }, opts.now());
    throw error;
  }
  if (undoErrors.length === 0) {
    // What may have made something: completed steps, the one in flight, and (staff re-run) those whose undo failed.
    const started = opts.steps.filter((s) => s.name in ctx.outputs || s.name === job.inFlightStep || job.undoErrors?.some((e) => e.step === s.name));
    for (const step of [...started].reverse()) {
      if (step.undo) await undoOne(step.name, () => step.undo!(ctx, ctx.outputs[step.name]));
    }
  }
  const status: JobStatus = undoErrors.length || opts.abandonReason ? 'failed' : 'rolled_back';
  await lease.release(
    {
      status,
      undoErrors,
      inFlightStep: null,
      inFlightSince: null,
      completedAt: opts.now(),
      // What an operator (or the client) does next.
      retryAction: undoErrors.length
        ? 'platform staff re-run the undo with finishProvisioningRollback (see undoErrors); then resubmit with the same idempotency key'
        : status === 'failed'
          ? 'resubmit with the same idempotency key to start a clean attempt'
          : null,
    },
    opts.now(),
  );
  return status;
}

/**
 * The undo of the provisioning transaction: `provisioning → failed` through the lifecycle's one
 * transition (which refuses an open tenant), with the slug released and the owner's membership
 * removed in the same transaction, under this worker's lease.
 */
async function closeTenant(ctx: StepContext, reason: string): Promise<void> {
  const ref = refs(ctx.db);
  try {
    await applyTransition(ctx.db, ctx.tenantId, 'provisioning_rolled_back', {
      actor: `provisioning:${ctx.jobId}`,
      now: ctx.now,
      reason,
      // The owner's membership goes in this transaction: the ledger counts nobody.
      tenantFields: { 'seats.members': 0 },
      alsoInTransaction: async (tx, tenant) => {
        await ctx.holdsLease(tx);
        const slugRef = ref.slug(String(tenant.get('slug')));
        const slug = await tx.get(slugRef);
        if (slug.exists && slug.get('tenantId') === ctx.tenantId) tx.delete(slugRef);
        tx.delete(ref.member(ctx.tenantId, ctx.inputs.ownerUid));
      },
    });
  } catch (error) {
    if (!isRefusal(error)) throw error;
    // Closed by an earlier run of this undo, or gone: nothing left to close. Open: never undone.
    const status = error.details?.status;
    if (error.code === 'not-found' || status === 'failed') return;
    throw new TenantIsOpen(`tenant ${ctx.tenantId} is '${String(status)}'`);
  }
}

/** A try that just ended: its number, when it started, and how. */
interface EndedTry {
  try: number;
  startedAt: Date;
  ok: boolean;
  error?: string;
}

function timelineEntry(ctx: StepContext, kind: TimelineEntry['kind'], step: string, ended: EndedTry): TimelineEntry {
  return {
    attempt: ctx.attempt,
    tenantId: ctx.tenantId,
    kind,
    step,
    try: ended.try,
    startedAt: Timestamp.fromDate(ended.startedAt),
    ms: Date.now() - ended.startedAt.getTime(),
    ok: ended.ok,
    ...(ended.error ? { error: ended.error } : {}),
  };
}

/**
 * Failed tries are appended to the timeline at once (the worker may die before the next checkpoint);
 * the successful one rides on the checkpoint that records the step, costing no write.
 */
function recordFailedTries(lease: Lease, opts: Options, ctx: StepContext, kind: TimelineEntry['kind'], step: string) {
  return (ended: EndedTry) => lease.renew({ timeline: FieldValue.arrayUnion(timelineEntry(ctx, kind, step, ended)) }, opts.now());
}

/**
 * Transient failures (a Stripe 5xx, a contended write) get a few tries with backoff, undos as much as steps.
 * Returns the result and the try that made it (a crash or a lost lease ends no try: the worker is gone).
 */
async function withRetries<T>(opts: Options, lease: Lease, work: () => Promise<T>, recordFailure?: (ended: EndedTry) => Promise<void>): Promise<{ result: T; ended: EndedTry }> {
  for (let attempt = 1; ; attempt++) {
    const startedAt = new Date();
    try {
      await lease.ensure(opts.attemptBudgetMs);
      lease.startHeartbeat();
      const result = await work();
      // The heartbeat found another worker on the job: what this attempt did is not ours to record.
      if (lease.lost) throw new LostLease(`lost the lease on the job during ${attempt > 1 ? 'a retried' : 'an'} attempt`);
      return { result, ended: { try: attempt, startedAt, ok: true } };
    } catch (error) {
      if (error instanceof WorkerCrash || error instanceof LostLease || error instanceof TenantIsOpen) throw error;
      lease.stopHeartbeat();
      await recordFailure?.({ try: attempt, startedAt, ok: false, error: messageOf(error) });
      if (attempt >= opts.stepAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, opts.backoffMs * 2 ** (attempt - 1)));
    } finally {
      lease.stopHeartbeat();
    }
  }
}

function runWithRetries(step: ProvisioningStep, ctx: StepContext, opts: Options, lease: Lease) {
  return withRetries(
    opts,
    lease,
    async () => {
      await injectFault(opts.faults, step.name, 'before', lease);
      const output = await step.run(ctx);
      await injectFault(opts.faults, step.name, 'after', lease);
      return output;
    },
    recordFailedTries(lease, opts, ctx, 'step', step.name),
  );
}

async function injectFault(faults: Fault[], step: string, at: Fault['at'], lease: Lease) {
  const fault = faults.find((f) => f.step === step && f.at === at && (f.times === undefined || f.times > 0));
  if (!fault) return;
  if (fault.times !== undefined) fault.times--;
  if (fault.kind === 'slow') return void (await new Promise((resolve) => setTimeout(resolve, fault.ms ?? 0)));
  if (fault.kind === 'stall') return lease.stall(fault.ms ?? 0);
  if (fault.kind === 'crash') throw new WorkerCrash(`injected crash ${at} ${step}`);
  throw new Error(`injected failure ${at} ${step}`);
}

/**
 * Takes the job for this worker unless it is finished or another live worker holds it. Returns the
 * job and, when this run compensates (resumed compensation, a sweeper's abandon, staff finishing a
 * failed undo), the failure it compensates for.
 */
async function claimJob(db: Firestore, jobId: string, opts: Options, lease: Lease): Promise<{ job: JobDoc; failure: Failure | null } | RunOutcome> {
  const started = Date.now();
  const claim = await db.runTransaction(async (tx) => {
    const snap = await tx.get(refs(db).job(jobId));
    if (!snap.exists) return 'missing' as const;
    const job = snap.data() as JobDoc;
    if (opts.finishRollback) {
      if (job.status !== 'failed' || !job.undoErrors?.length) {
        throw new DomainError('failed-precondition', `Job ${jobId} is '${job.status}'${job.status === 'failed' ? ' with nothing left to undo' : ''}: only a failed job whose undo failed can be rolled back again`, {
          status: job.status,
        });
      }
    } else if (FINISHED.includes(job.status)) {
      return job.status;
    }
    const leased = job.leaseOwner && job.leaseOwner !== opts.workerId && job.leaseUntil && job.leaseUntil.toMillis() > started;
    if (leased) return 'leased' as const;
    const outputs = Object.fromEntries((job.completedSteps ?? []).map((s) => [s.name, s.output]));
    if (opts.abandonReason && job.status !== 'compensating' && pastNoReturn(opts.steps, outputs, job.inFlightStep)) return 'past_no_return' as const;

    const failure: Failure | null = opts.finishRollback || job.status === 'compensating'
      ? job.error ?? { step: job.inFlightStep ?? 'unknown', message: 'compensation resumed' }
      : opts.abandonReason
        ? { step: job.inFlightStep ?? 'sweep', message: opts.abandonReason }
        : null;
    tx.update(snap.ref, {
      status: job.status === 'pending' ? 'running' : job.status,
      // What the saga will do, so a client can draw the whole checklist from the job alone.
      plannedSteps: opts.steps.map((s) => s.name),
      leaseOwner: opts.workerId,
      leaseUntil: Timestamp.fromMillis(started + opts.leaseMs),
      updatedAt: opts.now(),
      ...(opts.finishRollback ? { status: 'compensating', undoErrors: [], retryAction: null } : {}),
    });
    return { job, failure };
  });
  if (typeof claim !== 'string') lease.claimed(started);
  return claim;
}

function contextFor(deps: SagaDeps, jobId: string, job: JobDoc, now: Date, lease: Lease): StepContext {
  if (!job.inputs) throw new Error(`job ${jobId} has no step inputs (it was created before they were snapshotted)`);
  return {
    db: deps.db,
    stripe: deps.stripe,
    auth: deps.auth,
    jobId,
    attempt: job.attempt,
    tenantId: job.tenantId,
    // Jobs snapshotted before billing terms were part of the inputs: the plan's seats, and a sales tenant's default terms.
    inputs: {
      ...job.inputs,
      trialEndsAt: job.inputs.trialEndsAt ? job.inputs.trialEndsAt.toDate() : null,
      seatCap: job.inputs.seatCap ?? PLANS[job.inputs.plan].seatCap,
      daysUntilDue: job.inputs.daysUntilDue !== undefined ? job.inputs.daysUntilDue : job.source === 'sales' ? DEFAULT_DAYS_UNTIL_DUE : null,
      salesRepUid: job.inputs.salesRepUid !== undefined ? job.inputs.salesRepUid : job.source === 'sales' ? job.requestedBy ?? null : null,
    },
    outputs: Object.fromEntries((job.completedSteps ?? []).map((s) => [s.name, s.output])),
    now,
    holdsLease: (tx) => lease.check(tx),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
