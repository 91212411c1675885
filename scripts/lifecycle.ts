// `npm run lifecycle -- --at 2027-01-01`: runs every lifecycle sweep (reminders, trial expiry, past_due
// suspension) at the given time against the `npm start` emulators and prints what changed. Scheduled
// functions never fire in the emulator; this is how the lifecycle is shown (and advanced) locally.
process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
process.env.FIREBASE_AUTH_EMULATOR_HOST ??= '127.0.0.1:9099';
process.env.GCLOUD_PROJECT ??= 'demo-tenancy';

import { firebase, refs } from '../functions/src/adapters/firestore';
import { runAllSweeps } from '../functions/src/lifecycle/sweeps';

function parseAt(argv: string[]): Date {
  const i = argv.indexOf('--at');
  const value = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--at='))?.slice(5);
  if (!value) {
    console.error('usage: npm run lifecycle -- --at <date>   (e.g. --at 2027-01-01 or --at 2027-01-01T09:00:00Z)');
    process.exit(2);
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) {
    console.error(`--at: '${value}' is not a date (use ISO 8601, e.g. 2027-01-01)`);
    process.exit(2);
  }
  return at;
}

async function main() {
  const at = parseAt(process.argv.slice(2));
  const { db } = firebase();
  console.log(`Running the lifecycle sweeps at ${at.toISOString()} on ${process.env.FIRESTORE_EMULATOR_HOST} (project ${process.env.GCLOUD_PROJECT})\n`);
  const reports = await runAllSweeps(db, at);
  const ids = [...new Set(reports.flatMap((r) => r.changed.map((c) => c.tenantId)))];
  const names = new Map((ids.length ? await db.getAll(...ids.map((id) => refs(db).tenant(id))) : []).map((t) => [t.id, String(t.get('name') ?? '')]));
  for (const report of reports) {
    console.log(`${report.sweep}: ${report.changed.length} changed, ${report.skipped.length} skipped, ${report.errors.length} errors (${report.reads} documents read)`);
    for (const c of report.changed) {
      const what = c.from === c.to ? 'reminder' : `${c.from} → ${c.to}`;
      console.log(`  ${c.tenantId} ${names.get(c.tenantId) ? `(${names.get(c.tenantId)}) ` : ''}${what}${c.mailIds.length ? `; mail ${c.mailIds.join(', ')}` : ''}`);
    }
    for (const s of report.skipped) console.log(`  skipped ${s.tenantId}: ${s.reason}`);
    for (const e of report.errors) console.log(`  ERROR ${e.tenantId}: ${e.message}`);
  }
  return reports.some((r) => r.errors.length) ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
