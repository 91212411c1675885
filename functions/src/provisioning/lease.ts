import { Timestamp, type Firestore, type Transaction } from 'firebase-admin/firestore';
import { refs } from '../adapters/firestore';

/** This worker no longer holds the job (its lease lapsed and another worker took it): it stops and writes nothing more. */
export class LostLease extends Error {}

/**
 * A worker's hold on a provisioning job (`leaseOwner`, `leaseUntil` on the job document). Renewed at
 * every checkpoint and, while a step runs, by a heartbeat, so a slow step is not taken over; every
 * Firestore write of the saga checks it in its own transaction (`check`), so a worker that froze
 * past its lease and lost the job cannot write into what the next worker did. Lease times use the
 * real clock, whatever clock the saga stamps its documents with.
 */
export class Lease {
  /** When this worker's lease ends by its own clock, measured from before the renewal that set it. */
  private expiresAt = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private stalledUntil = 0;
  lost = false;

  constructor(
    private readonly db: Firestore,
    private readonly jobId: string,
    readonly workerId: string,
    readonly leaseMs: number,
  ) {}

  /** Called once the claim transaction committed, with the time it started. */
  claimed(startedAt: number): void {
    this.expiresAt = startedAt + this.leaseMs;
  }

  /** Renews the lease and writes `fields` with it, or throws LostLease if another worker holds the job. */
  async renew(fields: Record<string, unknown> = {}, stampedAt = new Date()): Promise<void> {
    const started = Date.now();
    await this.db.runTransaction(async (tx) => {
      await this.check(tx);
      tx.update(refs(this.db).job(this.jobId), { leaseUntil: Timestamp.fromMillis(started + this.leaseMs), updatedAt: stampedAt, ...fields });
    });
    this.expiresAt = started + this.leaseMs;
  }

  /** The last write of a run: `fields`, and the job left to whoever comes next (the queue's retry, at once). */
  async release(fields: Record<string, unknown>, stampedAt = new Date()): Promise<void> {
    await this.db.runTransaction(async (tx) => {
      await this.check(tx);
      tx.update(refs(this.db).job(this.jobId), { leaseOwner: null, leaseUntil: null, updatedAt: stampedAt, ...fields });
    });
  }

  /** Reads the job in `tx` and throws LostLease unless this worker still holds it. */
  async check(tx: Transaction): Promise<void> {
    const job = await tx.get(refs(this.db).job(this.jobId));
    if (job.get('leaseOwner') !== this.workerId) {
      this.lost = true;
      throw new LostLease(`provisioning job ${this.jobId} is now run by another worker`);
    }
  }

  /** Before an external call that cannot be fenced (Stripe): start it only with `budgetMs` of lease left. */
  async ensure(budgetMs: number): Promise<void> {
    if (this.lost) throw new LostLease(`provisioning job ${this.jobId} is now run by another worker`);
    if (this.expiresAt - Date.now() < budgetMs) await this.renew();
  }

  /** Keeps the lease alive while a step runs; a failed renewal is retried on the next beat. */
  startHeartbeat(): void {
    if (this.leaseMs <= 0 || this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      if (Date.now() < this.stalledUntil || this.lost) return;
      this.renew().catch(() => undefined);
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Test and bench hook: the whole worker freezes for `ms` (no heartbeat), as in a long pause of its process. */
  async stall(ms: number): Promise<void> {
    this.stalledUntil = Date.now() + ms;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}
