// `npm run lifecycle -- --at 2027-01-01`: moves the local clock as the console's Local clock does (the
// local Stripe test clock, which is the app's time, then every scheduled sweep: reminders, trial expiry,
// past_due suspension, invite expiry, domain rechecks) against the `npm start` emulators and prints what
// changed. Scheduled functions never fire in the emulator; this is how time is advanced locally.
process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
process.env.FIREBASE_AUTH_EMULATOR_HOST ??= '127.0.0.1:9099';
process.env.GCLOUD_PROJECT ??= 'demo-tenancy';

import { resolverFromEnv } from '../functions/src/adapters/dns';
import { appUrl } from '../functions/src/adapters/links';
import { firebase, refs } from '../functions/src/adapters/firestore';
import { advanceLocalTestClock, readLocalTestClock, stripeClient } from '../functions/src/adapters/stripe';
import { DomainError } from '../functions/src/domain/errors';
import { moveLocalClock } from '../functions/src/lifecycle/localClock';

process.env.DNS_SERVERS ??= '127.0.0.1:8053';
// The `npm start` Stripe simulator and its key (scripts/emulators.mjs): its test clock is the app's time.
process.env.STRIPE_API_BASE ??= 'http://127.0.0.1:12111';
process.env.STRIPE_SECRET_KEY ??= 'sk_test_local_placeholder';

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
  const stripe = stripeClient();
  console.log(`Moving the local clock to ${at.toISOString()} on ${process.env.FIRESTORE_EMULATOR_HOST} (project ${process.env.GCLOUD_PROJECT}) and ${process.env.STRIPE_API_BASE}\n`);
  // The same move as the console's Local clock: Stripe's test clock first, then every sweep (EVERY_SWEEP).
  const { move, reports } = await moveLocalClock(
    {
      db,
      resolveTxt: resolverFromEnv(),
      appUrl: appUrl(),
      readStripeClock: () => readLocalTestClock(stripe),
      advanceStripe: (to) => advanceLocalTestClock(stripe, to),
    },
    at,
    'npm run lifecycle',
  );
  console.log(move.stripeTestClock ? `Local Stripe clock ${move.stripeTestClock}: ${move.from} → ${move.now}` : `No local Stripe clock; the app's clock: ${move.from} → ${move.now}`);
  const ids = [...new Set(reports.flatMap((r) => r.changed.map((c) => c.tenantId)))];
  const names = new Map((ids.length ? await db.getAll(...ids.map((id) => refs(db).tenant(id))) : []).map((t) => [t.id, String(t.get('name') ?? '')]));
  for (const report of reports) {
    console.log(`${report.sweep}: ${report.changed.length} changed, ${report.skipped.length} skipped, ${report.errors.length} errors`);
    for (const c of report.changed) {
      const what = c.from === c.to ? 'reminder' : `${c.subject ? `${c.subject} ` : ''}${c.from} → ${c.to}`;
      console.log(`  ${c.tenantId} ${names.get(c.tenantId) ? `(${names.get(c.tenantId)}) ` : ''}${what}${c.mailIds.length ? `; mail ${c.mailIds.join(', ')}` : ''}`);
    }
    for (const s of report.skipped) console.log(`  skipped ${s.tenantId}${s.subject ? ` ${s.subject}` : ''}: ${s.reason}`);
    for (const e of report.errors) console.log(`  ERROR ${e.tenantId}${e.subject ? ` ${e.subject}` : ''}: ${e.message}`);
  }
  return reports.some((r) => r.errors.length) ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  // A refusal (a date the clock has passed) is the person's to fix: its message, not a stack.
  console.error(error instanceof DomainError ? `lifecycle: ${error.message}` : error);
  process.exit(error instanceof DomainError ? 2 : 1);
});
