import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { COLLECTIONS } from '../adapters/firestore';
import { AdvanceClockSchema, LOCAL_CLOCK_ROLES, requirePlatformRole } from '../domain/console';
import { DomainError } from '../domain/errors';
import { parseOrThrow } from '../domain/validation';
import { runAllSweeps, type SweepReport } from './sweeps';

/**
 * The local emulators' clock: scheduled functions never fire there, so time is moved by hand. The
 * clock moves forward only (as a Stripe test clock does), and each move runs every lifecycle sweep
 * as of the new time, as `npm run lifecycle -- --at` does. Nothing of this exists in production:
 * the callables refuse unless they run in the Functions emulator.
 */
export interface LocalClockState {
  /** ISO time the app's lifecycle has been moved to; the real time until the first move. */
  now: string;
  moved: boolean;
}

export interface LocalClockDeps {
  db: Firestore;
  /** Moves Stripe's time for every local customer to `to` (the local Stripe test clock). */
  advanceStripe?: (to: Date) => Promise<{ testClockId: string } | null>;
}

const clockDoc = (db: Firestore) => db.collection(COLLECTIONS.localClock).doc('state');

function requireEmulators(onEmulators: boolean) {
  if (!onEmulators) throw new DomainError('failed-precondition', 'The clock control exists only on the local emulators');
}

export async function readLocalClock(db: Firestore, onEmulators: boolean, realNow: Date = new Date()): Promise<LocalClockState> {
  requireEmulators(onEmulators);
  const state = await clockDoc(db).get();
  const moved = state.get('now') instanceof Timestamp ? (state.get('now') as Timestamp).toDate() : null;
  // Real time passes on the emulators too: the clock is never behind it.
  return moved && moved > realNow ? { now: moved.toISOString(), moved: true } : { now: realNow.toISOString(), moved: false };
}

export interface ClockMove {
  from: string;
  now: string;
  sweeps: Array<Pick<SweepReport, 'sweep'> & { changed: SweepReport['changed']; skipped: number; errors: SweepReport['errors'] }>;
  stripeTestClock: string | null;
}

export async function advanceLocalClock(
  deps: LocalClockDeps,
  staff: { uid: string; platformRole: unknown },
  input: unknown,
  onEmulators: boolean,
  realNow: Date = new Date(),
): Promise<ClockMove> {
  requireEmulators(onEmulators);
  requirePlatformRole(staff.platformRole, LOCAL_CLOCK_ROLES, 'move the local clock');
  const { to } = parseOrThrow(AdvanceClockSchema, input);
  const current = await readLocalClock(deps.db, onEmulators, realNow);
  if (to.getTime() <= Date.parse(current.now)) {
    throw new DomainError('invalid-argument', `to: must be after the local time now (${current.now}); the clock only moves forward`, {
      fieldErrors: { to: `must be after ${current.now.slice(0, 16).replace('T', ' ')} UTC; the clock only moves forward` },
    });
  }
  // Stripe first: its events (an invoice failing at the trial's end) reach the webhook at the new time too.
  const stripe = deps.advanceStripe ? await deps.advanceStripe(to) : null;
  const reports = await runAllSweeps(deps.db, to);
  await clockDoc(deps.db).set({ now: to, movedBy: staff.uid, movedAt: realNow });
  return {
    from: current.now,
    now: to.toISOString(),
    sweeps: reports.map((r) => ({ sweep: r.sweep, changed: r.changed, skipped: r.skipped.length, errors: r.errors })),
    stripeTestClock: stripe?.testClockId ?? null,
  };
}
