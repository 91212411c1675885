// `npm run bench`: timings and counts measured in one run on the emulators (machines here are noisy,
// so comparisons are ratios measured side by side). Rewrites docs/benchmarks.md with the results.
import { cpus } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { firebase } from '../functions/src/adapters/firestore';
import { enqueueProvisioning } from '../functions/src/adapters/tasks';
import type { ProvisioningRequest } from '../functions/src/domain/provisioning';
import { provisionTenant, type ProvisioningDeps } from '../functions/src/provisioning/provisionTenant';
import { LostLease, runProvisioningJob, WorkerCrash, type Fault } from '../functions/src/provisioning/saga';
import { PROVISIONING_STEPS } from '../functions/src/provisioning/steps';
import { MAX_RESUMES, sweepStuckProvisioning } from '../functions/src/provisioning/sweep';
import { getFunctions } from 'firebase-admin/functions';
import { startFakeStripe, type FakeStripe } from '../tools/fake-stripe/server';
import { writeBenchSections, type BenchSection } from './bench-report';
import { scanOrphans } from '../tools/orphan-scan';
import { benchBundle, benchTenantsTable } from './bench-console';
import { benchLifecycle } from './bench-lifecycle';
import { benchCheckout } from './bench-checkout';
import { benchTeam } from './bench-team';
import { benchWebhook } from './bench-webhook';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const WARMUP = 20;
const DUPLICATES = 50;
const READY_RUNS = Number(process.env.BENCH_READY_RUNS ?? 40);
const FAULT_RUNS = Number(process.env.BENCH_FAULT_RUNS ?? 200);
const { db, auth } = firebase();
const noSaga: ProvisioningDeps = { db, auth, startSaga: async () => {} };

let keySeq = 0;
const request = (prefix: string): ProvisioningRequest => {
  const key = `${prefix}-${++keySeq}-${Date.now()}`;
  return {
    idempotencyKey: key,
    source: 'self_serve',
    owner: { uid: `owner-${key}`, email: `${keySeq}@bench.test`, displayName: 'Bench Owner' },
    companyName: `Bench ${key}`,
    plan: 'starter',
    requestedBy: `owner-${key}`,
  };
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const ms = (value: number) => value.toFixed(1);

async function clearFirestore() {
  await fetch(`http://${process.env.FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${process.env.GCLOUD_PROJECT}/databases/(default)/documents`, { method: 'DELETE' });
}

/** Issue 2: the provisioning transaction against the cheapest transaction there is. */
async function provisioningTransaction(): Promise<string> {
  const floor: number[] = [];
  const routine: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    // Alternate the two so that machine noise falls on both alike.
    const ref = db.collection('benchFloor').doc(`floor-${i}`);
    const f = await timed(() => db.runTransaction(async (tx) => void (await tx.get(ref), tx.set(ref, { at: new Date() }))));
    const r = await timed(() => provisionTenant(noSaga, request('tx')));
    if (i >= WARMUP) {
      floor.push(f);
      routine.push(r);
    }
  }
  const same = request('duplicate');
  await Promise.all(Array.from({ length: DUPLICATES }, () => provisionTenant(noSaga, same)));
  const routineTenants = (await db.collection('tenants').where('name', '==', same.companyName).count().get()).data().count;

  // What the seeds warn about: check for the job, then create, without a transaction.
  const naive = async (key: string) => {
    const existing = await db.collection('provisioningJobs').where('idempotencyKey', '==', key).get();
    if (!existing.empty) return;
    const tenant = db.collection('tenants').doc();
    await tenant.set({ name: key, naive: true });
    await db.collection('provisioningJobs').add({ idempotencyKey: key, tenantId: tenant.id });
  };
  await Promise.all(Array.from({ length: DUPLICATES }, () => naive('naive-duplicate')));
  const naiveTenants = (await db.collection('tenants').where('name', '==', 'naive-duplicate').count().get()).data().count;

  return [
    `${ROUNDS} rounds after ${WARMUP} warm-up, the two alternating.`,
    '',
    '| operation | p50 ms | p95 ms |',
    '| --- | ---: | ---: |',
    `| bare single-document transaction (floor) | ${ms(percentile(floor, 50))} | ${ms(percentile(floor, 95))} |`,
    `| provisioning routine (one transaction, 5 documents) | ${ms(percentile(routine, 50))} | ${ms(percentile(routine, 95))} |`,
    '',
    '| measure | result | target |',
    '| --- | ---: | ---: |',
    `| routine / floor, p50 | ${(percentile(routine, 50) / percentile(floor, 50)).toFixed(2)} | ≤ 1.5 |`,
    `| routine / floor, p95 | ${(percentile(routine, 95) / percentile(floor, 95)).toFixed(2)} | ≤ 1.5 |`,
    `| tenants from ${DUPLICATES} concurrent duplicates, routine | ${routineTenants} | 1 |`,
    `| tenants from ${DUPLICATES} concurrent duplicates, naive check-then-create | ${naiveTenants} | (contrast) |`,
    '',
    'What bounds it: one batched read (`getAll` of the job and the slug candidates) and one commit of',
    'five creates, the same two round trips as the floor; the rest is the larger commit.',
  ].join('\n');
}

/** The Auth account a self-serve request names: the saga reads it when the tenant opens and mails it a link. */
async function withOwner(req: ProvisioningRequest): Promise<ProvisioningRequest> {
  await auth.createUser({ uid: req.owner.uid, email: req.owner.email, displayName: req.owner.displayName });
  return req;
}

/** Resolves with the ms from `start` at which `ref` first satisfies `done`; rejects on `failed`. */
function whenDoc(ref: FirebaseFirestore.DocumentReference, start: bigint, done: (snap: FirebaseFirestore.DocumentSnapshot) => boolean, failed = (_: FirebaseFirestore.DocumentSnapshot) => false): Promise<number> {
  return new Promise((resolve, reject) => {
    const stop = ref.onSnapshot((snap) => {
      if (done(snap)) (stop(), resolve(Number(process.hrtime.bigint() - start) / 1e6));
      else if (failed(snap)) (stop(), reject(new Error(`${ref.path} failed: ${JSON.stringify(snap.get('error'))}`)));
    }, reject);
  });
}

/** Issue 3/9: request to usable tenant, in-process and through the real task queue, beside the queue's own floor. */
async function requestToReady(stripe: Stripe): Promise<string> {
  const inline: ProvisioningDeps = { db, auth, startSaga: (jobId) => runProvisioningJob({ db, auth, stripe }, jobId).then(() => {}) };
  const inProcess: number[] = [];
  for (let i = 0; i < READY_RUNS; i++) {
    const req = await withOwner(request('ready'));
    inProcess.push(await timed(() => provisionTenant(inline, req)));
  }

  // The production path: the callable's routine enqueues, the Functions emulator's worker runs the saga.
  // Alternated with a no-op task (probeTaskQueue), whose enqueue → handler time is the floor under it.
  const queued: ProvisioningDeps = { db, auth, startSaga: enqueueProvisioning };
  const usable: number[] = [];
  const completed: number[] = [];
  const floor: number[] = [];
  const runs = Math.min(READY_RUNS, 30);
  for (let i = 0; i < runs + 2; i++) {
    const probeId = `probe-${i}-${Date.now()}`;
    const probeStart = process.hrtime.bigint();
    const probeSeen = whenDoc(db.collection('taskQueueProbes').doc(probeId), probeStart, (snap) => snap.exists);
    await getFunctions().taskQueue('probeTaskQueue').enqueue({ probeId });
    const probeMs = await probeSeen;

    const req = await withOwner(request('queued'));
    const start = process.hrtime.bigint();
    const { jobId, tenantId } = await provisionTenant(queued, req);
    const failed = (snap: FirebaseFirestore.DocumentSnapshot) => ['rolled_back', 'failed'].includes(snap.get('status'));
    const [open, done] = await Promise.all([
      whenDoc(db.doc(`tenants/${tenantId}`), start, (snap) => !['provisioning', undefined].includes(snap.get('status'))),
      whenDoc(db.doc(`provisioningJobs/${jobId}`), start, (snap) => snap.get('status') === 'completed', failed),
    ]);
    // The first two of each are warm-up: the emulator starts a worker per function on first use.
    if (i >= 2) {
      floor.push(probeMs);
      usable.push(open);
      completed.push(done);
    }
  }
  const row = (name: string, samples: number[]) => `| ${name} | ${samples.length} | ${ms(percentile(samples, 50))} | ${ms(percentile(samples, 95))} |`;
  const ratio = (p: number) => (percentile(usable, p) / percentile(floor, p)).toFixed(2);
  return [
    '| path | runs | p50 ms | p95 ms |',
    '| --- | ---: | ---: | ---: |',
    row('request → job completed, saga in-process (transaction + 6 steps, fake Stripe)', inProcess),
    row('floor: a no-op task, enqueue → handler ran (probeTaskQueue, Functions emulator)', floor),
    row('request → usable tenant (status leaves provisioning) through the task queue', usable),
    row('request → job completed (welcome mail and audit too) through the task queue', completed),
    '',
    '| measure | result | target |',
    '| --- | ---: | ---: |',
    `| request → usable tenant through the queue, p95 | ${ms(percentile(usable, 95))} ms | < 2000 ms |`,
    `| usable tenant / no-op task floor, p50 | ${ratio(50)} | (what the saga adds to the queue's own cost) |`,
    `| usable tenant / no-op task floor, p95 | ${ratio(95)} | |`,
    '',
    'The floor and the saga run alternate on the same emulators after two warm-up runs of each, so the',
    "ratio shows what the saga itself costs apart from the task queue emulator's dispatch (which polls).",
  ].join('\n');
}

/** Issue 3/9: randomized faults at every step boundary and around leases, then an orphan scan of Firestore against Stripe. */
async function faultInjection(stripe: Stripe, fake: Awaited<ReturnType<typeof startFakeStripe>>): Promise<string> {
  await clearFirestore();
  fake.reset();
  const deps: ProvisioningDeps = { db, auth, startSaga: async () => {} };
  const saga = { db, auth, stripe };
  const outcomes: Record<string, number> = {};
  const count = (label: string) => (outcomes[label] = (outcomes[label] ?? 0) + 1);
  // mulberry32: a small seeded generator, so every run of the bench draws the same faults.
  let seed = 20261122;
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  const LEASE_MS = 300;
  /** Once the first worker is in `step`: long enough for its lease to lapse if it stopped renewing it. */
  const whenLapsedIn = async (jobId: string, stepName: string, leaseMs: number) => {
    for (let i = 0; i < 400 && (await db.doc(`provisioningJobs/${jobId}`).get()).get('inFlightStep') !== stepName; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, leaseMs + 100));
  };
  const resume = (jobId: string) => runProvisioningJob(saga, jobId, { backoffMs: 1 });
  const KINDS = ['fail-always', 'fail-once', 'crash', 'stripe-5xx', 'slow-step', 'stall', 'rename', 'sweep-after-mail'] as const;
  for (let i = 0; i < FAULT_RUNS; i++) {
    const step = PROVISIONING_STEPS[next(PROVISIONING_STEPS.length)];
    const at = next(2) ? 'after' : 'before';
    const kind = KINDS[next(KINDS.length)];
    const { jobId, tenantId } = await provisionTenant(deps, await withOwner(request('fault')));
    const options = { stepAttempts: 3, backoffMs: 1, leaseMs: 0, attemptBudgetMs: 0 };
    const side = step.irreversible ? 'irreversible' : 'reversible';
    if (kind === 'slow-step') {
      // The step outlasts the lease twice over while its worker lives; a second worker arrives meanwhile.
      const first = runProvisioningJob(saga, jobId, { ...options, leaseMs: LEASE_MS, faults: [{ step: step.name, at, kind: 'slow', ms: 2 * LEASE_MS }] });
      await whenLapsedIn(jobId, step.name, LEASE_MS);
      const second = await runProvisioningJob(saga, jobId, { ...options, leaseMs: LEASE_MS });
      count(`slow-step (2 × lease) ${side}, second worker meanwhile: ${second}; first: ${await first}`);
    } else if (kind === 'stall') {
      // The whole worker freezes past its lease; a second worker takes over and finishes; the first wakes.
      const first = runProvisioningJob(saga, jobId, { ...options, leaseMs: LEASE_MS, faults: [{ step: step.name, at, kind: 'stall', ms: 2 * LEASE_MS }] })
        .catch((error) => (error instanceof LostLease ? 'lost its lease, wrote nothing' : `threw ${error}`));
      await whenLapsedIn(jobId, step.name, LEASE_MS);
      const second = await runProvisioningJob(saga, jobId, { ...options, leaseMs: LEASE_MS }).catch((error) => `threw ${error.constructor.name}`);
      let outcome = `${second}`;
      if (second !== 'completed' && second !== 'rolled_back') outcome = `${second} → ${await resume(jobId)}`;
      count(`stall (worker frozen 2 × lease) ${side}: taken over → ${outcome}; frozen worker: ${await first}`);
    } else if (kind === 'rename') {
      // The worker dies after a Stripe step made something; the tenant is renamed before the next worker resumes.
      const stripeStep = next(2) ? 'createStripeCustomer' : 'createStripeSubscription';
      await runProvisioningJob(saga, jobId, { ...options, faults: [{ step: stripeStep, at: 'after', kind: 'crash' }] }).catch(() => undefined);
      await db.doc(`tenants/${tenantId}`).update({ name: `Renamed ${tenantId}` });
      count(`rename mid-saga (worker died after ${stripeStep}): ${await resume(jobId)}`);
    } else if (kind === 'sweep-after-mail') {
      // Stuck after the welcome mail, resumed twice already: the sweeper must not undo it.
      await runProvisioningJob(saga, jobId, { ...options, faults: [{ step: 'sendWelcomeMail', at: 'after', kind: 'crash' }] }).catch(() => undefined);
      await db.doc(`provisioningJobs/${jobId}`).update({ resumes: MAX_RESUMES });
      const swept = await sweepStuckProvisioning({ ...saga, startSaga: async () => {} }, new Date(Date.now() + 10 * 60_000));
      const verdict = swept.abandoned.includes(jobId) ? 'ABANDONED' : swept.alerted.includes(jobId) ? 'alerted, handed back' : 'left alone';
      count(`sweeper on a job stuck after the mail: ${verdict} → ${await resume(jobId)}`);
    } else {
      const faults: Fault[] =
        kind === 'fail-always' ? [{ step: step.name, at, kind: 'fail' }] : kind === 'fail-once' ? [{ step: step.name, at, kind: 'fail', times: 1 }] : kind === 'crash' ? [{ step: step.name, at, kind: 'crash' }] : [];
      if (kind === 'stripe-5xx') fake.failNext({ path: next(2) ? '/v1/customers' : '/v1/subscriptions', status: 500, times: 1 + next(3), when: next(2) ? 'after' : 'before' });
      let outcome: string = await runProvisioningJob(saga, jobId, { ...options, faults }).catch((error) => (error instanceof WorkerCrash ? 'worker died' : 'step failed past no return'));
      // A crashed worker, or a rolled-forward irreversible step: the queue's retry resumes it.
      if (outcome !== 'completed' && outcome !== 'rolled_back') outcome = `${outcome} → ${await resume(jobId)}`;
      await fetch(`${fake.url}/_fake/failures`, { method: 'DELETE' }); // each run's Stripe faults end with it
      count(kind === 'stripe-5xx' ? `stripe-5xx: ${outcome}` : `${kind} ${at} ${side} step: ${outcome}`);
    }
  }
  const orphans = await scanOrphans(db, fake.state());
  const undoneLive = orphans.filter((o) => o.includes('and then undone')).length;
  return [
    `${FAULT_RUNS} runs, each with one random fault: a step failing always or once, before or after its work;`,
    'the worker dying (then resumed by a new worker); Stripe answering 5xx (before executing, or after',
    'executing with the answer lost); a step slower than the lease (2 × 300 ms) with a second worker arriving',
    'meanwhile; the whole worker frozen past its lease while a second one takes over; the tenant renamed',
    'between a crash after a Stripe create and the resume; the sweeper finding a job stuck after its welcome',
    'mail. Seeded pseudo-random, so every run of the bench draws the same faults.',
    '',
    '| outcome | runs |',
    '| --- | ---: |',
    ...Object.entries(outcomes).sort().map(([outcome, n]) => `| ${outcome} | ${n} |`),
    '',
    '| scan | problems | target |',
    '| --- | ---: | ---: |',
    `| orphans (Stripe customers/subscriptions without a live tenant, half-born tenants, members/records/slugs/mail of rolled-back tenants) | **${orphans.length - undoneLive}** | 0 |`,
    `| live tenants undone (a failed tenant whose history shows it open) | **${undoneLive}** | 0 |`,
    ...orphans.slice(0, 10).map((o) => `| ${o} | | |`),
  ].join('\n');
}

/** Every section of the bench, by the id of its block in docs/benchmarks.md. */
const SECTIONS: Array<{ id: string; title: string; run: (ctx: { stripe: Stripe; fake: FakeStripe }) => Promise<string> }> = [
  { id: 'provisioning-transaction', title: 'Provisioning transaction (issue 2)', run: () => provisioningTransaction() },
  { id: 'request-to-ready', title: 'Request to usable tenant (issues 3, 9)', run: ({ stripe }) => requestToReady(stripe) },
  { id: 'fault-injection', title: 'Fault injection (issues 3, 9)', run: ({ stripe, fake }) => faultInjection(stripe, fake) },
  { id: 'lifecycle-sweep', title: 'Lifecycle sweep (issue 4)', run: () => withoutBackgroundTriggers(async () => (await benchLifecycle(db)).replace(/^## .*\n\n/, '')) },
  { id: 'web-bundle', title: 'Web app JavaScript per route (issue 11)', run: () => benchBundle() },
  { id: 'console-tenants-table', title: 'Admin console: reads per page view of the tenants table (issue 11)', run: () => withoutBackgroundTriggers(() => benchTenantsTable(db, auth, clearFirestore)) },
  { id: 'team', title: 'Team: invite latency and the seat ledger under concurrency (issue 13)', run: () => benchTeam(db, auth) },
  { id: 'stripe-webhook', title: 'Stripe webhook: events derived from Stripe (issue 10)', run: ({ stripe, fake }) => benchWebhook(db, stripe, fake) },
  { id: 'checkout-to-active', title: 'Checkout completed → tenant active (issue 12)', run: () => benchCheckout(db, auth) },
];

/**
 * Firestore and Auth triggers (indexTenantName on every tenant update) would run in the same two cores as
 * the code measured while thousands of tenants are written; in production they run elsewhere. Sections that
 * write tenants in bulk run with the emulator's background triggers off, and nothing they measure needs one.
 */
async function withoutBackgroundTriggers<T>(work: () => Promise<T>): Promise<T> {
  const hub = process.env.FIREBASE_EMULATOR_HUB;
  const toggle = (on: boolean) => (hub ? fetch(`http://${hub}/functions/${on ? 'enable' : 'disable'}BackgroundTriggers`, { method: 'PUT' }) : Promise.resolve());
  await toggle(false);
  try {
    return await work();
  } finally {
    await toggle(true);
  }
}

async function main() {
  // `npm run bench -- fault-injection lifecycle-sweep` runs only those; the others keep their last figures.
  const only = process.argv.slice(2);
  const unknown = only.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
  const fake = await startFakeStripe({ port: 0 });
  const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, Firestore emulator`;
  const results: BenchSection[] = [];
  for (const section of SECTIONS.filter((s) => only.length === 0 || only.includes(s.id))) {
    const body = await section.run({ stripe, fake });
    console.log(`\n## ${section.title}\n\n${body}\n`);
    // Each section says when it was measured: a run of some sections leaves the others' figures and dates.
    results.push({ id: section.id, title: section.title, body: `${body}\n\n_Measured ${new Date().toISOString()} on ${machine}._` });
  }
  await fake.close();

  const measured = `Last run ${new Date().toISOString()} on ${machine} (sections: ${results.map((r) => r.id).join(', ')}). Each section ends with when it was measured.`;
  console.log(measured);
  writeBenchSections(join(__dirname, '..', 'docs', 'benchmarks.md'), [{ id: 'measured', title: 'Last run', body: measured }, ...results]);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
