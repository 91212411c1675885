// The seat ledger's invariant, checked from the documents: for every tenant, the counts in
// `tenants/{id}.seats` equal its membership documents and its pending invites, and the members alone
// never exceed the seat cap. Used after every concurrency test and by `npm run bench`; as a command
// (`node --import tsx tools/seat-ledger.ts`) it checks the `npm start` emulators.
// With `--backfill` (`npm run seat-ledger:backfill`) it is the one-off backfill for tenants stored
// before the ledger: it prints the ledger each would get and writes nothing, unless `--apply` is given.
import type { Firestore } from 'firebase-admin/firestore';
import { countSeats, isLedger } from '../functions/src/team/tenant';
import type { SeatLedger } from '../functions/src/domain/team';

export interface LedgerCheck {
  tenantId: string;
  seatCap: number;
  /** What the ledger says (null: the tenant has none yet; the first team change recounts it). */
  ledger: { members: number; pendingInvites: number } | null;
  /** What the documents say. */
  counted: { members: number; pendingInvites: number };
}

export interface LedgerReport {
  checked: number;
  /** Ledgers that disagree with the documents. */
  mismatches: LedgerCheck[];
  /** Tenants with more members than seats. */
  overCap: LedgerCheck[];
  /** Tenants whose members plus pending invites exceed the cap (possible only after the cap was lowered). */
  overReserved: LedgerCheck[];
}

export async function checkSeatLedgers(db: Firestore, tenantIds?: string[]): Promise<LedgerReport> {
  const tenants = tenantIds ? await db.getAll(...tenantIds.map((id) => db.collection('tenants').doc(id))) : (await db.collection('tenants').get()).docs;
  const report: LedgerReport = { checked: 0, mismatches: [], overCap: [], overReserved: [] };
  for (const tenant of tenants.filter((t) => t.exists)) {
    const [members, pending] = await Promise.all([
      tenant.ref.collection('members').count().get(),
      tenant.ref.collection('invites').where('status', '==', 'pending').count().get(),
    ]);
    const seats = tenant.get('seats');
    const check: LedgerCheck = {
      tenantId: tenant.id,
      seatCap: Number(tenant.get('seatCap')),
      ledger: seats ? { members: seats.members, pendingInvites: seats.pendingInvites } : null,
      counted: { members: members.data().count, pendingInvites: pending.data().count },
    };
    report.checked++;
    if (check.ledger && (check.ledger.members !== check.counted.members || check.ledger.pendingInvites !== check.counted.pendingInvites)) {
      report.mismatches.push(check);
    }
    if (check.counted.members > check.seatCap) report.overCap.push(check);
    if (check.counted.members + check.counted.pendingInvites > check.seatCap) report.overReserved.push(check);
  }
  return report;
}

export interface Backfill {
  tenantId: string;
  /** The ledger counted from the tenant's documents: what `apply` wrote, or would write. */
  seats: SeatLedger;
}

/**
 * Gives every tenant without a ledger the counts the team functions would recount on its first
 * change, each in one transaction with the counted documents. Tenants with a ledger are not written.
 */
export async function backfillSeatLedgers(db: Firestore, { apply }: { apply: boolean }): Promise<Backfill[]> {
  const backfills: Backfill[] = [];
  for (const { id: tenantId } of await db.collection('tenants').listDocuments()) {
    const seats = await db.runTransaction(async (tx) => {
      const tenant = await tx.get(db.collection('tenants').doc(tenantId));
      if (!tenant.exists || isLedger(tenant.get('seats'))) return null;
      const counted = await countSeats(tx, db, tenantId);
      if (apply) tx.update(tenant.ref, { seats: counted });
      return counted;
    });
    if (seats) backfills.push({ tenantId, seats });
  }
  return backfills;
}

async function backfillCommand(db: Firestore, apply: boolean): Promise<void> {
  const backfills = await backfillSeatLedgers(db, { apply });
  for (const { tenantId, seats } of backfills) console.log(`  ${tenantId}: seats ${JSON.stringify(seats)}`);
  console.log(
    apply
      ? `${backfills.length} tenants without a seat ledger: ledger written`
      : `${backfills.length} tenants without a seat ledger would get the ledger above (dry run: nothing written; --apply writes it)`,
  );
}

if (/seat-ledger\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) {
  process.env.FIRESTORE_EMULATOR_HOST ??= '127.0.0.1:8080';
  process.env.GCLOUD_PROJECT ??= 'demo-tenancy';
  import('../functions/src/adapters/firestore').then(async ({ firebase }) => {
    if (process.argv.includes('--backfill')) {
      await backfillCommand(firebase().db, process.argv.includes('--apply'));
      process.exit(0);
    }
    const report = await checkSeatLedgers(firebase().db);
    console.log(`${report.checked} tenants checked: ${report.mismatches.length} ledgers disagree with the documents, ${report.overCap.length} over their seat cap`);
    for (const m of report.mismatches) console.log(`  ${m.tenantId}: ledger ${JSON.stringify(m.ledger)}, documents ${JSON.stringify(m.counted)}`);
    for (const m of report.overCap) console.log(`  ${m.tenantId}: ${m.counted.members} members, seat cap ${m.seatCap}`);
    process.exit(report.mismatches.length || report.overCap.length ? 1 : 0);
  });
}
