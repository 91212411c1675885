// `npm run lifecycle -- --at 2027-01-01`: runs every scheduled sweep (reminders, trial expiry, past_due
// suspension, invite expiry, domain rechecks) at the given time against the `npm start` emulators and
// prints what changed. Scheduled functions never fire in the emulator; this is how time is advanced locally.
process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
process.env.FIREBASE_AUTH_EMULATOR_HOST ??= '127.0.0.1:9099';
process.env.GCLOUD_PROJECT ??= 'demo-tenancy';

import { resolverFromEnv } from '../functions/src/adapters/dns';
import { appUrl } from '../functions/src/adapters/links';
import { firebase, refs } from '../functions/src/adapters/firestore';
import { runAllSweeps } from '../functions/src/lifecycle/sweeps';
import { recheckDomains } from '../functions/src/team/domains';
import { expireInvites } from '../functions/src/team/expireInvites';

process.env.DNS_SERVERS ??= '127.0.0.1:8053';

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
  const invites = await expireInvites(db, at);
  console.log(`${invites.sweep}: ${invites.expired.length} expired, ${invites.skipped.length} skipped, ${invites.errors.length} errors`);
  for (const e of invites.expired) console.log(`  ${e.tenantId} invite ${e.inviteId} (${e.email}) pending → expired; its seat is free`);
  for (const e of invites.errors) console.log(`  ERROR ${e.tenantId} invite ${e.inviteId}: ${e.message}`);
  const domains = await recheckDomains({ db, resolveTxt: resolverFromEnv(), appUrl: appUrl() }, at);
  console.log(`${domains.sweep}: ${domains.changed.length} changed, ${domains.pending.length} still pending, ${domains.held.length} held domains re-checked, ${domains.errors.length} errors`);
  for (const c of domains.changed) console.log(`  ${c.tenantId} ${c.domain} → ${c.to} (${c.outcome})`);
  for (const p of domains.pending) console.log(`  ${p.tenantId} ${p.domain} still pending (${p.outcome}); next check ${p.nextCheckAt}`);
  for (const e of domains.errors) console.log(`  ERROR ${e.tenantId} ${e.domain}: ${e.message}`);
  return reports.some((r) => r.errors.length) || invites.errors.length || domains.errors.length ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
