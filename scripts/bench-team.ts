// Issue 13 in `npm run bench`: inviteMember's latency beside a bare transaction (alternating, so
// machine noise falls on both alike), and the seat ledger's concurrency proofs with their recount.
import type { Auth } from 'firebase-admin/auth';
import type { Firestore } from 'firebase-admin/firestore';
import { provisionTenant } from '../functions/src/provisioning/provisionTenant';
import { acceptInvite, inviteMember } from '../functions/src/team/invites';
import type { Account } from '../functions/src/domain/team';
import { checkSeatLedgers } from '../tools/seat-ledger';

const APP_URL = 'http://127.0.0.1:5000';
let sequence = 0;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A tenant owned by a verified account, provisioned by the real routine (its saga not started), open. */
async function tenantWith(db: Firestore, auth: Auth, plan: 'starter' | 'enterprise', seatCap?: number): Promise<{ tenantId: string; owner: Account }> {
  const key = `bench-team-${++sequence}-${Date.now()}`;
  const owner: Account = { uid: `owner-${key}`, email: `owner-${sequence}@bench-team.test`, emailVerified: true, displayName: 'Bench Owner' };
  const { tenantId } = await provisionTenant(
    { db, auth, startSaga: async () => {} },
    {
      idempotencyKey: key,
      source: 'sales',
      owner: { uid: owner.uid, email: owner.email!, displayName: 'Bench Owner' },
      companyName: `Bench team ${sequence}`,
      plan,
      ...(seatCap ? { seatCap } : {}),
      requestedBy: 'bench',
    },
  );
  // The saga is not run here (it is measured elsewhere): open the tenant as its ready step would.
  await db.doc(`tenants/${tenantId}`).update({ status: 'active' });
  created.push(tenantId);
  return { tenantId, owner };
}
const created: string[] = [];

const settledCount = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;

export async function benchTeam(db: Firestore, auth: Auth, options: { rounds?: number; warmup?: number } = {}): Promise<string> {
  const rounds = options.rounds ?? 200;
  const warmup = options.warmup ?? 20;

  // Latency: invites into a tenant with room for all of them.
  const big = await tenantWith(db, auth, 'enterprise', 10_000);
  const floor: number[] = [];
  const invite: number[] = [];
  for (let i = 0; i < warmup + rounds; i++) {
    const ref = db.collection('benchFloor').doc(`team-floor-${i}`);
    const f = await timed(() => db.runTransaction(async (tx) => void (await tx.get(ref), tx.set(ref, { at: new Date() }))));
    const r = await timed(() => inviteMember({ db, auth, appUrl: APP_URL }, big.owner, { tenantId: big.tenantId, email: `latency-${i}@bench-team.test`, role: 'member' }));
    if (i >= warmup) {
      floor.push(f);
      invite.push(r);
    }
  }

  // 20 concurrent invites at one seat below the cap (starter: 5 seats; owner + 3 pending = 4).
  const almostFull = await tenantWith(db, auth, 'starter');
  for (let i = 0; i < 3; i++) await inviteMember({ db, auth, appUrl: APP_URL }, almostFull.owner, { tenantId: almostFull.tenantId, email: `held-${i}@bench-team.test`, role: 'member' });
  const invites = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => inviteMember({ db, auth, appUrl: APP_URL }, almostFull.owner, { tenantId: almostFull.tenantId, email: `racer-${i}@bench-team.test`, role: 'member' })),
  );

  // 20 concurrent accepts of distinct invites at the cap (21 seats: owner + 20 pending), then the cap lowered to 11 under 20 more.
  const accepts: Record<string, number> = {};
  for (const [label, seatCap, lowerTo] of [['at the cap', 21, null], ['after the cap was lowered to 11', 21, 11]] as const) {
    const full = await tenantWith(db, auth, 'enterprise', seatCap);
    const people = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const email = `joiner-${i}-${sequence}@bench-team.test`;
        const { inviteId } = await inviteMember({ db, auth, appUrl: APP_URL }, full.owner, { tenantId: full.tenantId, email, role: 'member' });
        const mail = await db.collection('mail').where('inviteId', '==', inviteId).get();
        const token = new URL(/https?:\/\/\S+/.exec(mail.docs[0].get('message.text'))![0]).searchParams.get('token')!;
        return { account: { uid: `joiner-${i}-${sequence}`, email, emailVerified: true } as Account, inviteId, token };
      }),
    );
    if (lowerTo) await db.doc(`tenants/${full.tenantId}`).update({ seatCap: lowerTo });
    const results = await Promise.allSettled(people.map((p) => acceptInvite({ db, auth }, p.account, { tenantId: full.tenantId, inviteId: p.inviteId, token: p.token })));
    accepts[label] = settledCount(results);
    accepts[`${label}: members`] = (await db.collection(`tenants/${full.tenantId}/members`).count().get()).data().count;
  }
  const ledger = await checkSeatLedgers(db, created);

  const ms = (v: number) => v.toFixed(1);
  return [
    `${rounds} rounds after ${warmup} warm-up, the two alternating; in-process against the Firestore emulator.`,
    '',
    '| operation | p50 ms | p95 ms |',
    '| --- | ---: | ---: |',
    `| bare single-document transaction (floor) | ${ms(percentile(floor, 50))} | ${ms(percentile(floor, 95))} |`,
    `| inviteMember (one transaction: tenant, inviter, the address's invite pointer and mail count read in one getAll, no query; invite + pointer + mail + mail count + ledger written) | ${ms(percentile(invite, 50))} | ${ms(percentile(invite, 95))} |`,
    '',
    '| measure | result | target |',
    '| --- | ---: | ---: |',
    `| invite / floor, p50 | ${(percentile(invite, 50) / percentile(floor, 50)).toFixed(2)} | ≤ 1.5 |`,
    `| invite / floor, p95 | ${(percentile(invite, 95) / percentile(floor, 95)).toFixed(2)} | ≤ 1.5 |`,
    `| 20 concurrent invites at one seat below the cap: admitted | ${settledCount(invites)} | 1 |`,
    `| 20 concurrent accepts at the cap (21 seats): accepted / members | ${accepts['at the cap']} / ${accepts['at the cap: members']} | 20 / 21 |`,
    `| 20 concurrent accepts with the cap lowered to 11: accepted / members | ${accepts['after the cap was lowered to 11']} / ${accepts['after the cap was lowered to 11: members']} | 10 / 11 |`,
    `| ledger recount after the runs: tenants checked, ledgers that disagree, tenants over their cap | ${ledger.checked}, ${ledger.mismatches.length}, ${ledger.overCap.length} | all, 0, 0 |`,
  ].join('\n');
}
