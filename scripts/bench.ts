// `npm run bench`: provisioning latency against its floor, measured side by side in one run on the
// Firestore emulator, and duplicates under concurrency. Writes the results to docs/benchmarks.md.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { firebase } from '../functions/src/adapters/firestore';
import type { ProvisioningRequest } from '../functions/src/domain/provisioning';
import { provisionTenant } from '../functions/src/provisioning/provisionTenant';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const WARMUP = 20;
const DUPLICATES = 50;
// The transaction alone: the saga's steps are measured separately.
const deps = { ...firebase(), startSaga: async () => {} };
const { db } = deps;

const request = (key: string): ProvisioningRequest => ({
  idempotencyKey: key,
  source: 'self_serve',
  owner: { uid: `owner-${key}`, email: `${key}@bench.test`, displayName: 'Bench Owner' },
  companyName: `Bench ${key}`,
  plan: 'starter',
  requestedBy: `owner-${key}`,
});

/** The floor: the cheapest transaction there is, one read and one write of one document. */
async function bareTransaction(id: string) {
  const ref = db.collection('benchFloor').doc(id);
  await db.runTransaction(async (tx) => {
    await tx.get(ref);
    tx.set(ref, { at: new Date() });
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** What the seeds warn about: check for the job, then create, without a transaction. */
async function naiveProvision(key: string) {
  const existing = await db.collection('provisioningJobs').where('idempotencyKey', '==', key).get();
  if (!existing.empty) return;
  const tenant = db.collection('tenants').doc();
  await tenant.set({ name: key, naive: true });
  await db.collection('provisioningJobs').add({ idempotencyKey: key, tenantId: tenant.id });
}

async function main() {
  const floor: number[] = [];
  const routine: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    // Alternate the two so that machine noise falls on both alike.
    const f = await timed(() => bareTransaction(`floor-${i}`));
    const r = await timed(() => provisionTenant(deps, request(`bench-key-${i}`)));
    if (i >= WARMUP) {
      floor.push(f);
      routine.push(r);
    }
  }
  const countTenants = async (field: string, value: unknown) => (await db.collection('tenants').where(field, '==', value).count().get()).data().count;

  await Promise.all(Array.from({ length: DUPLICATES }, () => provisionTenant(deps, request('duplicate-50'))));
  const routineDuplicates = await countTenants('name', 'Bench duplicate-50');
  await Promise.all(Array.from({ length: DUPLICATES }, () => naiveProvision('naive-duplicate-50')));
  const naiveDuplicates = await countTenants('name', 'naive-duplicate-50');

  const row = (name: string, samples: number[]) => `| ${name} | ${percentile(samples, 50).toFixed(1)} | ${percentile(samples, 95).toFixed(1)} |`;
  const ratio50 = percentile(routine, 50) / percentile(floor, 50);
  const ratio95 = percentile(routine, 95) / percentile(floor, 95);
  const results = [
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}, Firestore emulator; ${ROUNDS} rounds after ${WARMUP} warm-up, the two alternating.`,
    '',
    '| operation | p50 ms | p95 ms |',
    '| --- | ---: | ---: |',
    row('bare single-document transaction (floor)', floor),
    row('provisioning routine (one transaction, 5 documents)', routine),
    '',
    '| measure | result | target |',
    '| --- | ---: | ---: |',
    `| routine / floor, p50 | ${ratio50.toFixed(2)} | ≤ 1.5 |`,
    `| routine / floor, p95 | ${ratio95.toFixed(2)} | ≤ 1.5 |`,
    `| tenants from ${DUPLICATES} concurrent duplicates, routine | ${routineDuplicates} | 1 |`,
    `| tenants from ${DUPLICATES} concurrent duplicates, naive check-then-create | ${naiveDuplicates} | (contrast) |`,
  ].join('\n');
  console.log(`\n${results}\n`);

  const doc = join(__dirname, '..', 'docs', 'benchmarks.md');
  writeFileSync(doc, `# Benchmarks\n\nRun \`npm run bench\` (it starts its own emulators and rewrites the results below). Ratios are\nmeasured side by side in one run because the machines are shared and noisy; absolute milliseconds\nare for orientation only. Set \`BENCH_ROUNDS\` to change the sample size.\n\n## Provisioning transaction\n\n${results}\n\nWhat bounds it: a provisioning is one transaction with one batched read (\`getAll\` of the job and\nthe slug candidates) and one commit of five creates, the same two round trips as the floor; the\nremainder is the larger commit and the client-side work of building the documents.\n`);
  process.exit(routineDuplicates === 1 ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
