// The admin console's two figures: the web app's JavaScript per route (gzipped, from a production
// build), and the documents one page view of the tenants table reads at 1,000 and 50,000 tenants.
// Called from scripts/bench.ts; each returns a markdown section for docs/benchmarks.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteApp, initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, signInWithEmailAndPassword } from 'firebase/auth';
import { connectFirestoreEmulator, getDocs, getFirestore, collection, type Firestore as ClientFirestore, type QueryDocumentSnapshot } from 'firebase/firestore';
import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { tenantSearchFields } from '../functions/src/domain/console';
import { PLAN_IDS } from '../functions/src/domain/plans';
import { TENANT_SOURCES } from '../functions/src/domain/status';
import { DEFAULT_PAGE_SIZE, tenantsPageQuery, type TenantFilters } from '../web/src/admin/tenantsQuery';
import { buildWeb, kB, measureBundle, SIGNUP_BUDGET_GZIP_BYTES } from './bundle-size';

/** The web app's JS per route, from a production build made for the purpose (web/dist is left alone). */
export async function benchBundle(): Promise<string> {
  const dist = mkdtempSync(join(tmpdir(), 'tenancy-web-'));
  try {
    buildWeb(dist, 'production');
    const report = measureBundle(dist);
    const local = mkdtempSync(join(tmpdir(), 'tenancy-web-local-'));
    buildWeb(local, 'emulators');
    const localReport = measureBundle(local);
    rmSync(local, { recursive: true, force: true });
    const row = (route: string, bytes: number, chunks: number) => `| ${route} | ${kB(bytes)} | ${chunks} |`;
    return [
      'Production build (`vite build`, terser), gzip at zlib\'s default level as Vite reports it; kB = 1000 bytes. A route counts',
      'the entry chunk, its route modules (parents included) and their static imports: what the browser loads to show and',
      'use the page. The signup form loads without Firebase: the app and Auth are a chunk of their own, downloaded at',
      'startup beside it ("with Firebase Auth" adds it: what the browser loads at startup). What the signup page loads only',
      'once the form is sent (the Functions SDK, then the job progress with the Firestore SDK) is counted apart.',
      '',
      '| route | JS gzipped, kB | chunks |',
      '| --- | ---: | ---: |',
      row('/ (signup form)', report.signup.gzipBytes, report.signup.files.length),
      row('/ (signup), with Firebase Auth', report.signupWithAuth.gzipBytes, report.signupWithAuth.files.length),
      row('/ (signup), after the form is sent', report.signupAfterSubmit.gzipBytes, report.signupAfterSubmit.files.length),
      ...report.routes.filter((r) => r.route !== '/').map((r) => row(r.route, r.gzipBytes, r.files.length)),
      row('whole app (every chunk)', report.wholeApp.gzipBytes, report.wholeApp.files.length),
      '',
      '| measure | result | target |',
      '| --- | ---: | ---: |',
      `| signup form, gzipped | ${kB(report.signup.gzipBytes)} kB | ≤ ${kB(SIGNUP_BUDGET_GZIP_BYTES)} kB |`,
      `| Firebase Auth chunks among the signup form's | ${report.authSdkFiles.filter((file) => report.signup.files.includes(file)).length} | 0 |`,
      `| admin console modules in the signup route | ${report.adminInSignup.length} | 0 |`,
      `| clock control in the production build | ${report.clockInBuild ? 'present' : 'absent'} | absent |`,
      `| clock control in the \`--mode emulators\` build (npm start, npm test) | ${localReport.clockInBuild ? 'present' : 'absent'} | present |`,
    ].join('\n');
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}

const SIZES = (process.env.BENCH_CONSOLE_SIZES ?? '1000,50000').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_CONSOLE_ROUNDS ?? 5);
const STATUSES = ['trial', 'active', 'active', 'past_due', 'trial_expired', 'suspended', 'cancelled'] as const;
const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell', 'Cyberdyne', 'Soylent', 'Wonka', 'Oscorp'];
const KINDS = ['Robotics', 'Foods', 'Systems', 'Labs', 'Logistics', 'Media', 'Energy', 'Health'];
const DAY = 86_400_000;
const EPOCH = new Date('2026-01-01T00:00:00Z').getTime();

/** Tenants `from` … `to - 1`, as provisioning writes the fields the table shows and queries. */
async function seed(db: Firestore, from: number, to: number) {
  const writer = db.bulkWriter();
  writer.onWriteError((error) => error.failedAttempts < 5);
  for (let i = from; i < to; i++) {
    const name = `${WORDS[i % WORDS.length]} ${KINDS[Math.floor(i / WORDS.length) % KINDS.length]} ${i}`;
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    writer.set(db.collection('tenants').doc(`console-${String(i).padStart(6, '0')}`), {
      name,
      slug,
      ...tenantSearchFields(name, slug),
      status: STATUSES[i % STATUSES.length],
      plan: PLAN_IDS[i % PLAN_IDS.length],
      source: TENANT_SOURCES[i % TENANT_SOURCES.length],
      seatCap: 25,
      trialEndsAt: new Date(EPOCH + (i % 60) * DAY),
      createdAt: new Date(EPOCH + i * 60_000),
    });
  }
  await writer.close();
}

const VIEWS: Array<{ view: string; filters: Partial<TenantFilters>; nextPage?: boolean }> = [
  { view: 'first page, newest first', filters: {} },
  { view: 'second page (cursor)', filters: {}, nextPage: true },
  { view: 'status past_due, by name', filters: { status: 'past_due', sort: 'name' } },
  { view: 'plan team, source sales, oldest first', filters: { plan: 'team', source: 'sales', sort: 'oldest' } },
  { view: 'search "acme", by name', filters: { search: 'acme', sort: 'name' } },
];

interface Sample {
  view: string;
  tenants: number;
  reads: number;
  ms: number;
}

async function pageViews(client: ClientFirestore, tenants: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const { view, filters: partial, nextPage } of VIEWS) {
    const filters: TenantFilters = { search: '', status: '', plan: '', source: '', sort: 'newest', pageSize: DEFAULT_PAGE_SIZE, ...partial };
    const times: number[] = [];
    let reads = 0;
    for (let round = 0; round <= ROUNDS; round++) {
      let after: QueryDocumentSnapshot | undefined;
      if (nextPage) {
        const first = await getDocs(tenantsPageQuery(client, filters));
        after = first.docs[filters.pageSize - 1];
      }
      const start = process.hrtime.bigint();
      const page = await getDocs(tenantsPageQuery(client, filters, after));
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // Firestore bills the documents a query returns, and one read for a query that returns none.
      reads = Math.max(page.size, 1);
      if (round > 0) times.push(ms);
    }
    times.sort((a, b) => a - b);
    samples.push({ view, tenants, reads, ms: times[Math.floor(times.length / 2)] });
  }
  // The contrast: a table that loads every tenant and filters in the browser.
  const start = process.hrtime.bigint();
  const all = await getDocs(collection(client, 'tenants'));
  samples.push({ view: 'contrast: load every tenant', tenants, reads: all.size, ms: Number(process.hrtime.bigint() - start) / 1e6 });
  return samples;
}

/** A sales staff member's own client, through the security rules, as the console runs. */
async function staffClient(auth: Auth) {
  const email = 'bench-sales@platform.test';
  const password = 'bench-password-1';
  const user = await auth.createUser({ email, password }).catch(() => auth.getUserByEmail(email));
  await auth.setCustomUserClaims(user.uid, { platform: 'sales' });
  const projectId = process.env.GCLOUD_PROJECT!;
  const app = initializeApp({ projectId, apiKey: 'demo-key', authDomain: `${projectId}.firebaseapp.com` }, `bench-console-${Date.now()}`);
  const clientAuth = getAuth(app);
  connectAuthEmulator(clientAuth, `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`, { disableWarnings: true });
  await signInWithEmailAndPassword(clientAuth, email, password);
  const client = getFirestore(app);
  const [host, port] = process.env.FIRESTORE_EMULATOR_HOST!.split(':');
  connectFirestoreEmulator(client, host, Number(port));
  return { client, close: () => deleteApp(app) };
}

export async function benchTenantsTable(db: Firestore, auth: Auth, clear: () => Promise<void>): Promise<string> {
  await clear();
  const { client, close } = await staffClient(auth);
  const samples: Sample[] = [];
  let seeded = 0;
  for (const size of SIZES) {
    await seed(db, seeded, size);
    seeded = size;
    samples.push(...(await pageViews(client, size)));
  }
  await close();
  await clear();
  const [small, large] = [SIZES[0], SIZES[SIZES.length - 1]];
  const at = (view: string, tenants: number) => samples.find((s) => s.view === view && s.tenants === tenants)!;
  const views = [...VIEWS.map((v) => v.view), 'contrast: load every tenant'];
  const pageViewsOnly = VIEWS.map((v) => v.view);
  const readRatio = Math.max(...pageViewsOnly.map((v) => at(v, large).reads / at(v, small).reads));
  const mostReads = (tenants: number) => Math.max(...pageViewsOnly.map((v) => at(v, tenants).reads));
  const timeRatio = Math.max(...pageViewsOnly.map((v) => at(v, large).ms / at(v, small).ms));
  return [
    `${SIZES.join(' and ')} tenants (statuses, plans and sources spread evenly), seeded with BulkWriter; each page view is the`,
    `console's own query (web/src/admin/tenantsQuery.ts) run by a signed-in \`sales\` client through the security rules, page`,
    `size ${DEFAULT_PAGE_SIZE} (the query asks for one more, to know whether a next page exists); median of ${ROUNDS} runs after one`,
    'warm-up. Documents read: what Firestore bills for the query (the documents returned, at least one).',
    '',
    `| page view | documents read, ${small} | documents read, ${large} | ms, ${small} | ms, ${large} |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...views.map((v) => `| ${v} | ${at(v, small).reads} | ${at(v, large).reads} | ${at(v, small).ms.toFixed(1)} | ${at(v, large).ms.toFixed(1)} |`),
    '',
    '| measure | result | target |',
    '| --- | ---: | ---: |',
    ...SIZES.map((n) => `| most documents one page view reads, ${n} tenants | ${mostReads(n)} | ≤ ${DEFAULT_PAGE_SIZE + 1} |`),
    `| documents read per page view, ${large} / ${small} tenants (worst view) | ${readRatio.toFixed(2)} | 1.00 |`,
    `| page view time, ${large} / ${small} tenants (worst view; emulator) | ${timeRatio.toFixed(2)} | (see below) |`,
  ].join('\n');
}
