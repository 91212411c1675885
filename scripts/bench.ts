// `npm run bench`: timings and counts measured in one run on the emulators (machines here are noisy,
// so comparisons are ratios measured side by side). Rewrites docs/benchmarks.md with the results.
import { cpus } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { firebase } from '../functions/src/adapters/firestore';
import { enqueueProvisioning } from '../functions/src/adapters/tasks';
import type { ProvisioningRequest } from '../functions/src/domain/provisioning';
import { provisionTenant, type ProvisioningDeps } from '../functions/src/provisioning/provisionTenant';
import { runProvisioningJob, WorkerCrash, type Fault } from '../functions/src/provisioning/saga';
import { PROVISIONING_STEPS } from '../functions/src/provisioning/steps';
import { startFakeStripe, type FakeStripe } from '../tools/fake-stripe/server';
import { writeBenchSections, type BenchSection } from './bench-report';
import { scanOrphans } from '../tools/orphan-scan';
import { benchLifecycle } from './bench-lifecycle';
import { benchTeam } from './bench-team';

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

/** Issue 3: request to ready tenant, in-process and through the real task queue. */
async function requestToReady(stripe: Stripe): Promise<string> {
  const inline: ProvisioningDeps = { db, auth, startSaga: (jobId) => runProvisioningJob({ db, stripe }, jobId).then(() => {}) };
  const inProcess: number[] = [];
  for (let i = 0; i < READY_RUNS; i++) inProcess.push(await timed(() => provisionTenant(inline, request('ready'))));

  // The production path: the callable's routine enqueues, the Functions emulator's worker runs the saga.
  const queued: ProvisioningDeps = { db, auth, startSaga: enqueueProvisioning };
  const viaQueue: number[] = [];
  for (let i = 0; i < Math.min(READY_RUNS, 20); i++) {
    viaQueue.push(
      await timed(async () => {
        const { jobId } = await provisionTenant(queued, request('queued'));
        await new Promise<void>((resolve, reject) => {
          const stop = db.doc(`provisioningJobs/${jobId}`).onSnapshot((snap) => {
            const status = snap.get('status');
            if (status === 'completed') (stop(), resolve());
            else if (status === 'rolled_back' || status === 'failed') (stop(), reject(new Error(`job ${jobId} ${status}`)));
          }, reject);
        });
      }),
    );
  }
  const row = (name: string, samples: number[]) => `| ${name} | ${samples.length} | ${ms(percentile(samples, 50))} | ${ms(percentile(samples, 95))} |`;
  return [
    '| path | runs | p50 ms | p95 ms |',
    '| --- | ---: | ---: | ---: |',
    row('request → ready, saga in-process (transaction + 6 steps, fake Stripe)', inProcess),
    row('request → ready through the task queue (Functions emulator worker)', viaQueue),
    '',
    `Target: p95 under 2000 ms on the local emulators (the seed's ceiling for self-serve is 10 s).`,
    'The queued path includes the task queue emulator dispatching to a worker; the first, cold run',
    'is in the sample.',
  ].join('\n');
}

/** Issue 3: randomized faults at every step boundary, then an orphan scan of Firestore against Stripe. */
async function faultInjection(stripe: Stripe, fake: Awaited<ReturnType<typeof startFakeStripe>>): Promise<string> {
  await clearFirestore();
  fake.reset();
  const deps: ProvisioningDeps = { db, auth, startSaga: async () => {} };
  const outcomes: Record<string, number> = {};
  // mulberry32: a small seeded generator, so every run of the bench draws the same faults.
  let seed = 20261122;
  const next = (n: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
  for (let i = 0; i < FAULT_RUNS; i++) {
    const step = PROVISIONING_STEPS[next(PROVISIONING_STEPS.length)].name;
    const at = next(2) ? 'after' : 'before';
    const kind = ['fail-always', 'fail-once', 'crash', 'stripe-5xx'][next(4)];
    const faults: Fault[] =
      kind === 'fail-always' ? [{ step, at, kind: 'fail' }] : kind === 'fail-once' ? [{ step, at, kind: 'fail', times: 1 }] : kind === 'crash' ? [{ step, at, kind: 'crash' }] : [];
    if (kind === 'stripe-5xx') fake.failNext({ path: next(2) ? '/v1/customers' : '/v1/subscriptions', status: 500, times: 1 + next(3), when: next(2) ? 'after' : 'before' });
    const { jobId } = await provisionTenant(deps, request('fault'));
    const options = { stepAttempts: 3, backoffMs: 1, leaseMs: 0, faults };
    let outcome: string = await runProvisioningJob({ db, stripe }, jobId, options).catch((error) => (error instanceof WorkerCrash ? 'worker died' : 'step failed past no return'));
    // A crashed worker, or a rolled-forward irreversible step: the queue's retry resumes it.
    if (outcome !== 'completed' && outcome !== 'rolled_back') outcome = `${outcome} → ${await runProvisioningJob({ db, stripe }, jobId, { backoffMs: 1 })}`;
    await fetch(`${fake.url}/_fake/failures`, { method: 'DELETE' }); // each run's Stripe faults end with it
    const label = `${kind} ${at} ${PROVISIONING_STEPS.find((s) => s.name === step)?.irreversible ? 'irreversible' : 'reversible'} step: ${outcome}`;
    outcomes[kind === 'stripe-5xx' ? `stripe-5xx: ${outcome}` : label] = (outcomes[kind === 'stripe-5xx' ? `stripe-5xx: ${outcome}` : label] ?? 0) + 1;
  }
  const orphans = await scanOrphans(db, fake.state());
  return [
    `${FAULT_RUNS} runs, each with one random fault: a step failing always or once, before or after its work,`,
    'the worker dying (then resumed by a new worker), or Stripe answering 5xx (before executing, or after',
    'executing with the answer lost); seeded pseudo-random, so every run of the bench draws the same faults.',
    '',
    '| outcome | runs |',
    '| --- | ---: |',
    ...Object.entries(outcomes).sort().map(([outcome, count]) => `| ${outcome} | ${count} |`),
    '',
    `| orphan scan (Stripe customers/subscriptions without a live tenant, half-born tenants, members/records/slugs/mail of rolled-back tenants) | **${orphans.length}** (target 0) |`,
    '| --- | ---: |',
    ...orphans.slice(0, 10).map((o) => `| ${o} | |`),
  ].join('\n');
}

/** Every section of the bench, by the id of its block in docs/benchmarks.md. */
const SECTIONS: Array<{ id: string; title: string; run: (ctx: { stripe: Stripe; fake: FakeStripe }) => Promise<string> }> = [
  { id: 'provisioning-transaction', title: 'Provisioning transaction (issue 2)', run: () => provisioningTransaction() },
  { id: 'request-to-ready', title: 'Request to ready tenant (issue 3)', run: ({ stripe }) => requestToReady(stripe) },
  { id: 'fault-injection', title: 'Fault injection (issue 3)', run: ({ stripe, fake }) => faultInjection(stripe, fake) },
  { id: 'lifecycle-sweep', title: 'Lifecycle sweep (issue 4)', run: async () => (await benchLifecycle(db)).replace(/^## .*\n\n/, '') },
  { id: 'team', title: 'Team: invite latency and the seat ledger under concurrency (issue 13)', run: () => benchTeam(db, auth) },
];

async function main() {
  // `npm run bench -- fault-injection lifecycle-sweep` runs only those; the others keep their last figures.
  const only = process.argv.slice(2);
  const unknown = only.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.id).join(', ')}`);
  const fake = await startFakeStripe({ port: 0 });
  const stripe = new Stripe('sk_test_bench', { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
  const results: BenchSection[] = [];
  for (const section of SECTIONS.filter((s) => only.length === 0 || only.includes(s.id))) {
    const body = await section.run({ stripe, fake });
    console.log(`\n## ${section.title}\n\n${body}\n`);
    results.push({ id: section.id, title: section.title, body });
  }
  await fake.close();

  const measured = `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, Firestore emulator (sections: ${results.map((r) => r.id).join(', ')}).`;
  console.log(measured);
  writeBenchSections(join(__dirname, '..', 'docs', 'benchmarks.md'), [{ id: 'measured', title: 'Last run', body: measured }, ...results]);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
