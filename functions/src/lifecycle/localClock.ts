import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import type { TxtResolver } from '../adapters/dns';
import { COLLECTIONS } from '../adapters/firestore';
import { AdvanceClockSchema, LOCAL_CLOCK_ROLES, requirePlatformRole } from '../domain/console';
import { DomainError } from '../domain/errors';
import { parseOrThrow } from '../domain/validation';
import { runEverySweep, type SweepSummary } from './sweeps';

/**
 * The product's one "now". In production it is the real time. On the local emulators it is read from
 * the local Stripe test clock (`frozen_time`), which every customer the app creates belongs to: the
 * time the app writes and compares (trial ends, pastDueSince, invite expiry, domain rechecks) is then
 * the time Stripe checks `trial_end` against, whoever moved the clock (the console's Local clock,
 * `npm run lifecycle -- --at`, `npm run stripe:clock`, or any client of Stripe's test-clock API).
 * Where no local Stripe clock exists (the tests' simulator by default), the Local clock's own record
 * (`localClock/state`, never behind the real time) is the time. Scheduled functions never fire on the
 * emulators, so a move also runs every sweep (EVERY_SWEEP) as of the new time.
 */
export type AppClock = () => Promise<Date>;

/** Production: the real time. */
export const realClock: AppClock = async () => new Date();

/** Where the emulators' time was read: the local Stripe test clock, the Local clock's record, or the real time. */
export type LocalClockSource = 'stripe_test_clock' | 'local_clock' | 'real_time';

export interface LocalClockState {
  /** ISO time the app's lifecycle is at. */
  now: string;
  /** The time is not the real time: the Stripe clock was advanced, or the Local clock moved ahead. */
  moved: boolean;
  source: LocalClockSource;
}

/** The local Stripe test clock as the adapter reads it (adapters/stripe.ts findLocalTestClock). */
export interface StripeTestClockView {
  id: string;
  /** Unix seconds. */
  frozenTime: number;
  created: number;
}

export interface LocalClockDeps {
  db: Firestore;
  /** Reads the local Stripe test clock; null where there is none. Absent: no Stripe to read. */
  readStripeClock?: () => Promise<StripeTestClockView | null>;
  /** Moves Stripe's time for every local customer to `to` (the local Stripe test clock). */
  advanceStripe?: (to: Date) => Promise<{ testClockId: string } | null>;
  /** For the domain recheck sweep. */
  resolveTxt: TxtResolver;
  /** The web app's origin, for the link in a lapsing domain's mail. */
  appUrl?: string;
}

const clockDoc = (db: Firestore) => db.collection(COLLECTIONS.localClock).doc('state');

function requireEmulators(onEmulators: boolean) {
  if (!onEmulators) throw new DomainError('failed-precondition', 'The clock control exists only on the local emulators');
}

/** The emulators' now: the Stripe test clock's frozen time, else the Local clock's record, never behind the real time. */
export async function localNow(deps: Pick<LocalClockDeps, 'db' | 'readStripeClock'>, realNow: Date = new Date()): Promise<LocalClockState> {
  const stripeClock = deps.readStripeClock ? await deps.readStripeClock() : null;
  if (stripeClock) {
    // A test clock stands still between moves, as Stripe's does: it is the time, even behind the real one.
    return { now: new Date(stripeClock.frozenTime * 1000).toISOString(), moved: stripeClock.frozenTime > stripeClock.created, source: 'stripe_test_clock' };
  }
  const state = await clockDoc(deps.db).get();
  const moved = state.get('now') instanceof Timestamp ? (state.get('now') as Timestamp).toDate() : null;
  // Real time passes on the emulators too: the record is never behind it.
  return moved && moved > realNow
    ? { now: moved.toISOString(), moved: true, source: 'local_clock' }
    : { now: realNow.toISOString(), moved: false, source: 'real_time' };
}

/**
 * The app's clock on the emulators, read afresh at each call (a move by another client shows at
 * once). A Stripe clock that cannot be read falls back to the Local clock's record, logged.
 */
export function emulatorClock(deps: Pick<LocalClockDeps, 'db' | 'readStripeClock'>): AppClock {
  return async () => {
    try {
      return new Date((await localNow(deps)).now);
    } catch (error) {
      logger.warn('the local Stripe test clock could not be read; using the Local clock record', { message: error instanceof Error ? error.message : String(error) });
      return new Date((await localNow({ db: deps.db })).now);
    }
  };
}

export async function readLocalClock(deps: Pick<LocalClockDeps, 'db' | 'readStripeClock'>, onEmulators: boolean, realNow: Date = new Date()): Promise<LocalClockState> {
  requireEmulators(onEmulators);
  return localNow(deps, realNow);
}

export interface ClockMove {
  from: string;
  now: string;
  sweeps: Array<Pick<SweepSummary, 'sweep' | 'changed' | 'errors'> & { skipped: number }>;
  stripeTestClock: string | null;
}

/**
 * Moves the emulators' time to `to` (forward only, as a Stripe test clock moves): the local Stripe
 * test clock first, so its events (an invoice failing at a trial's end) reach the webhook at the new
 * time, then every sweep as of `to`. The one path of the Local clock and `npm run lifecycle -- --at`.
 */
export async function moveLocalClock(deps: LocalClockDeps, to: Date, movedBy: string, realNow: Date = new Date()): Promise<{ move: ClockMove; reports: SweepSummary[] }> {
  const current = await localNow(deps, realNow);
  if (to.getTime() <= Date.parse(current.now)) {
    throw new DomainError('invalid-argument', `to: must be after the local time now (${current.now}); the clock only moves forward`, {
      fieldErrors: { to: `must be after ${current.now.slice(0, 16).replace('T', ' ')} UTC; the clock only moves forward` },
    });
  }
  const stripe = deps.advanceStripe ? await deps.advanceStripe(to) : null;
  const reports = await runEverySweep(deps, to);
  await clockDoc(deps.db).set({ now: to, movedBy, movedAt: realNow });
  const move = {
    from: current.now,
    now: to.toISOString(),
    sweeps: reports.map((r) => ({ sweep: r.sweep, changed: r.changed, skipped: r.skipped.length, errors: r.errors })),
    stripeTestClock: stripe?.testClockId ?? null,
  };
  return { move, reports };
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
  return (await moveLocalClock(deps, to, staff.uid, realNow)).move;
}
