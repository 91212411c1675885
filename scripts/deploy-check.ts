// `npm run deploy:check`: builds what `firebase deploy` ships (functions/lib from functions/src, the
// production web app from web/ with web/public/emulators.json, firestore.rules, firestore.indexes.json)
// and fails, naming the cause, on what a deploy would refuse or regret:
//   runtime   functions/package.json engines.node is not a runtime Cloud Functions deploys with 90 days to spare
//   secrets   a function binds a secret no defineSecret declares, or a declared secret is bound to no function
//   indexes   a composite query the code makes has no index in firestore.indexes.json
//   rules     firestore.rules does not compile (the installed Firestore emulator's rules engine is asked)
//   web       the production build fails (the emulator config, web/vite.config.ts), or still has the local clock
//   node --import tsx scripts/deploy-check.ts [--root DIR] [--only runtime,secrets,...]
// Offline: Secret Manager is not asked whether the secrets exist; `firebase deploy` refuses, naming each
// missing one, and the report lists the `firebase functions:secrets:set` commands that prevent that.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runtimeProblem } from '../functions/src/domain/runtimes';
import { measureBundle } from './bundle-size';

export const CHECKS = ['runtime', 'secrets', 'indexes', 'rules', 'web'] as const;
export type Check = (typeof CHECKS)[number];
export interface Finding {
  check: Check;
  problems: string[];
  notes: string[];
}

// --- runtime ---------------------------------------------------------------------------------------
export function checkRuntime(root: string, now = new Date()): Finding {
  const engine = JSON.parse(readFileSync(join(root, 'functions', 'package.json'), 'utf8')).engines?.node;
  const problem = runtimeProblem(engine, now);
  return { check: 'runtime', problems: problem ? [`runtime: ${problem}`] : [], notes: problem ? [] : [`nodejs${engine}`] };
}

// --- secrets ---------------------------------------------------------------------------------------
interface Discovered {
  endpoints: Record<string, { secretEnvironmentVariables?: Array<{ key: string }> }>;
  declaredSecrets: string[];
}

/** What firebase-tools' discovery sees: the built module loaded with FUNCTIONS_CONTROL_API, each export's endpoint and the declared params. */
export function discoverFunctions(libDir: string): Discovered {
  const script = `
    const lib = require(${JSON.stringify(join(libDir, 'index.js'))});
    const { declaredParams } = require(require.resolve('firebase-functions/params', { paths: [${JSON.stringify(libDir)}] }));
    const endpoints = Object.fromEntries(Object.entries(lib).filter(([, f]) => f && f.__endpoint).map(([name, f]) => [name, f.__endpoint]));
    const declaredSecrets = declaredParams.filter((p) => p.constructor.type === 'secret').map((p) => p.name);
    process.stdout.write('\\nDISCOVERED ' + JSON.stringify({ endpoints, declaredSecrets }) + '\\n');`;
  const { FUNCTIONS_EMULATOR, ...env } = process.env;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...env, FUNCTIONS_CONTROL_API: 'true', GCLOUD_PROJECT: 'deploy-check' }, encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('DISCOVERED '));
  if (!line) throw new Error(`could not load ${libDir}: ${out}`);
  return JSON.parse(line.slice('DISCOVERED '.length));
}

export function checkSecrets(discovered: Discovered): Finding {
  const problems: string[] = [];
  const bound = new Map<string, string[]>();
  for (const [name, endpoint] of Object.entries(discovered.endpoints)) {
    for (const { key } of endpoint.secretEnvironmentVariables ?? []) bound.set(key, [...(bound.get(key) ?? []), name]);
  }
  for (const [secret, functions] of bound) {
    if (!discovered.declaredSecrets.includes(secret)) problems.push(`secrets: ${secret} is bound to ${functions.join(', ')} but no defineSecret('${secret}') declares it (functions/src/config.ts)`);
  }
  for (const secret of discovered.declaredSecrets) {
    if (!bound.has(secret)) problems.push(`secrets: ${secret} is declared (defineSecret) but bound to no function: add it to the \`secrets\` of the functions that read it`);
  }
  const notes = [...bound].map(([secret, functions]) => `${secret} → ${functions.sort().join(', ')}; \`npx firebase functions:secrets:set ${secret}\` before the first deploy (a deploy refuses while it is missing)`);
  return { check: 'secrets', problems, notes };
}

// --- indexes ---------------------------------------------------------------------------------------
type Direction = 'ASCENDING' | 'DESCENDING';
/** A composite query: equality (or array-contains) fields, then the one field it ranges over or orders by. */
export interface QueryShape {
  where: string;
  collectionGroup: string;
  scope: 'COLLECTION' | 'COLLECTION_GROUP';
  equals: Array<{ field: string; arrayContains?: boolean }>;
  orderBy: { field: string; direction: Direction };
}

const TABLE_FILTERS = [{ field: 'status' }, { field: 'plan' }, { field: 'source' }, { field: 'searchKeys', arrayContains: true }];
const TABLE_SORTS = ['createdAt', 'nameSort'].flatMap((field) => (['ASCENDING', 'DESCENDING'] as const).map((direction) => ({ field, direction })));

/** Every composite query the functions and the web app make (the single-field ones need no index). Keep beside the code it names. */
export const COMPOSITE_QUERIES: QueryShape[] = [
  { where: 'functions/src/provisioning/sweep.ts (stuck jobs)', collectionGroup: 'provisioningJobs', scope: 'COLLECTION', equals: [{ field: 'status' }], orderBy: { field: 'updatedAt', direction: 'ASCENDING' } },
  { where: 'functions/src/lifecycle/sweeps.ts (expireTrials, remindEndingTrials)', collectionGroup: 'tenants', scope: 'COLLECTION', equals: [{ field: 'status' }], orderBy: { field: 'trialEndsAt', direction: 'ASCENDING' } },
  { where: 'functions/src/lifecycle/sweeps.ts (suspendPastDue)', collectionGroup: 'tenants', scope: 'COLLECTION', equals: [{ field: 'status' }], orderBy: { field: 'pastDueSince', direction: 'ASCENDING' } },
  { where: 'functions/src/team/expireInvites.ts', collectionGroup: 'invites', scope: 'COLLECTION_GROUP', equals: [{ field: 'status' }], orderBy: { field: 'expiresAt', direction: 'ASCENDING' } },
  { where: 'functions/src/team/domains.ts (recheckDomains)', collectionGroup: 'domains', scope: 'COLLECTION_GROUP', equals: [{ field: 'status' }], orderBy: { field: 'nextCheckAt', direction: 'ASCENDING' } },
  ...TABLE_FILTERS.flatMap((filter) =>
    TABLE_SORTS.map((orderBy) => ({ where: `web/src/admin/tenantsQuery.ts (tenants table: ${filter.field} by ${orderBy.field})`, collectionGroup: 'tenants', scope: 'COLLECTION' as const, equals: [filter], orderBy })),
  ),
];

interface IndexFile {
  indexes: Array<{ collectionGroup: string; queryScope?: string; fields: Array<{ fieldPath: string; order?: Direction; arrayConfig?: string }> }>;
}

export function checkIndexes(indexFile: IndexFile, queries = COMPOSITE_QUERIES): Finding {
  const serves = (index: IndexFile['indexes'][number], query: QueryShape) => {
    if (index.collectionGroup !== query.collectionGroup || (index.queryScope ?? 'COLLECTION') !== query.scope) return false;
    const fields = index.fields;
    if (fields.length !== query.equals.length + 1) return false;
    const last = fields[fields.length - 1];
    if (last.fieldPath !== query.orderBy.field || last.order !== query.orderBy.direction) return false;
    return query.equals.every((eq) => fields.slice(0, -1).some((f) => f.fieldPath === eq.field && (eq.arrayContains ? f.arrayConfig === 'CONTAINS' : Boolean(f.order))));
  };
  const problems = queries
    .filter((query) => !indexFile.indexes.some((index) => serves(index, query)))
    .map((q) => `indexes: ${q.where} queries ${q.collectionGroup} (${q.scope}) on ${q.equals.map((e) => e.field).join(', ')} ordered by ${q.orderBy.field} ${q.orderBy.direction}, and firestore.indexes.json has no index for it`);
  return { check: 'indexes', problems, notes: [`${queries.length} composite queries checked`] };
}

// --- rules -----------------------------------------------------------------------------------------
const INSTALLED_JAR = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const MAIN_CLASS = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Compiles `rulesPath` with the Firestore emulator's rules engine (the installed jar, run in its own process group, stopped after). */
export async function checkRules(rulesPath: string): Promise<Finding> {
  if (!existsSync(INSTALLED_JAR)) return { check: 'rules', problems: [], notes: [`not compiled: no Firestore emulator at ${INSTALLED_JAR} (firebase deploy compiles them)`] };
  const port = await freePort();
  const java = spawn('java', ['-cp', INSTALLED_JAR, MAIN_CLASS, '--host', '127.0.0.1', '--port', String(port)], { stdio: 'ignore', detached: true });
  try {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 180_000;
    while (!(await fetch(base).then(() => true, () => false))) {
      if (Date.now() > deadline) throw new Error('the Firestore emulator did not start within 180 s');
      await new Promise((r) => setTimeout(r, 300));
    }
    const response = await fetch(`${base}/emulator/v1/projects/deploy-check:securityRules`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rules: { files: [{ name: 'firestore.rules', content: readFileSync(rulesPath, 'utf8') }] } }),
    });
    if (response.ok) return { check: 'rules', problems: [], notes: ['firestore.rules compiles'] };
    const body = (await response.json().catch(() => ({}))) as { error?: { message?: string } };
    return { check: 'rules', problems: [`rules: firestore.rules does not compile: ${body.error?.message ?? `HTTP ${response.status}`}`], notes: [] };
  } finally {
    try {
      process.kill(-java.pid!, 'SIGKILL');
    } catch {}
  }
}

// --- web -------------------------------------------------------------------------------------------
/** The production build exactly as `npm run build -w web` makes it, into `outDir` (web/dist stays the emulators build the tests serve). */
export function checkWeb(webDir: string, outDir: string): Finding {
  const vite = join(ROOT, 'node_modules', '.bin', 'vite');
  const build = spawnSync(vite, ['build', '--mode', 'production', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: webDir,
    env: { ...process.env, NODE_ENV: 'production' },
    encoding: 'utf8',
  });
  if (build.status !== 0) {
    const lines = `${build.stderr}\n${build.stdout}`.split('\n').map((l) => l.trim());
    const why = lines.find((l) => /emulators\.json/.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? `vite exited with ${build.status}`;
    return { check: 'web', problems: [`web: the production build fails: ${why}`], notes: [] };
  }
  return checkWebBundle(outDir);
}

export function checkWebBundle(dist: string): Finding {
  const report = measureBundle(dist);
  const problems = report.clockInBuild ? ['web: the production bundle contains the local clock control (advanceLocalClock), which exists for the emulators only'] : [];
  const config = JSON.parse(readFileSync(join(dist, 'emulators.json'), 'utf8')) as { useEmulators?: unknown; appCheckSiteKey?: string };
  if (config.useEmulators !== false) problems.push('web: the production bundle ships the emulator config (emulators.json without "useEmulators": false)');
  const notes = [`signup route ${(report.signup.gzipBytes / 1000).toFixed(1)} kB gzip (${(report.signupWithAuth.gzipBytes / 1000).toFixed(1)} kB with Firebase Auth)`];
  if (!config.appCheckSiteKey) notes.push('web/public/emulators.json has no appCheckSiteKey yet: set it before deploying, or every browser callable refuses the app (README, Deploying)');
  return { check: 'web', problems, notes };
}

// --- main ------------------------------------------------------------------------------------------
const ROOT = resolve(__dirname, '..');

export async function deployCheck(root: string, only: readonly Check[] = CHECKS): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (only.includes('runtime')) findings.push(checkRuntime(root));
  if (only.includes('secrets')) findings.push(checkSecrets(discoverFunctions(join(root, 'functions', 'lib'))));
  if (only.includes('indexes')) findings.push(checkIndexes(JSON.parse(readFileSync(join(root, 'firestore.indexes.json'), 'utf8'))));
  if (only.includes('rules')) findings.push(await checkRules(join(root, 'firestore.rules')));
  if (only.includes('web')) {
    const out = mkdtempSync(join(tmpdir(), 'tenancy-deploy-check-web-'));
    try {
      findings.push(checkWeb(join(root, 'web'), out));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return findings;
}

async function main() {
  const args = process.argv.slice(2);
  const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const root = resolve(flag('--root') ?? ROOT);
  const only = (flag('--only')?.split(',') ?? [...CHECKS]) as Check[];
  if (only.includes('secrets')) {
    // What firebase.json's predeploy runs before `firebase deploy --only functions` uploads functions/.
    execFileSync('npm', ['--prefix', join(root, 'functions'), 'run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const findings = await deployCheck(root, only);
  for (const finding of findings) {
    console.log(`${finding.problems.length ? '✖' : '✔'} ${finding.check}`);
    for (const note of finding.notes) console.log(`    ${note}`);
    for (const problem of finding.problems) console.log(`    ✖ ${problem}`);
  }
  const problems = findings.flatMap((f) => f.problems);
  if (problems.length) {
    console.error(`\ndeploy:check failed: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\ndeploy:check passed: firebase deploy --only functions,firestore,hosting would ship this build.');
}

if (/deploy-check\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) main().catch((error) => {
  console.error(error);
  process.exit(1);
});
