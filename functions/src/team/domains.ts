import { randomBytes } from 'node:crypto';
import { FieldValue, type DocumentData, type DocumentSnapshot, type Firestore, type Query, type QueryDocumentSnapshot, type Transaction } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS, refs } from '../adapters/firestore';
import type { TxtResolver } from '../adapters/dns';
import { DomainError } from '../domain/errors';
import {
  afterCheck,
  afterReverify,
  challengeFor,
  checkClaimable,
  claimHoldsDomain,
  ClaimDomainSchema,
  domainLapsingMail,
  domainMailIds,
  DomainRefSchema,
  evaluateTxt,
  FIRST_RECHECK_MS,
  MAX_DOMAIN_CLAIMS,
  OPEN_CLAIM_STATUSES,
  SetDomainJoinPolicySchema,
  statusReleasesDomains,
  UnclaimDomainSchema,
  verifyDeadline,
  type DomainCheck,
  type DomainClaimStatus,
  type JoinPolicy,
} from '../domain/domains';
import { checkTeamStatus, requireManagerOfPeople, requireVerifiedEmail, type Account } from '../domain/team';
import { parseOrThrow } from '../domain/validation';
import { readTeamTenant, TEAM_TRANSACTION_ATTEMPTS, toDate } from './tenant';

export interface DomainDeps {
  db: Firestore;
  /** The DNS lookup (adapters/dns.ts): injected so tests query a DNS server on loopback. */
  resolveTxt: TxtResolver;
  /** The web app's origin (adapters/links.ts appUrl), for the domains page link in mail. */
  appUrl?: string;
}

/** A claim as the domain page shows it. The record is stored so the page can show it again. */
export interface DomainClaimView {
  tenantId: string;
  domain: string;
  status: DomainClaimStatus;
  recordName: string;
  recordValue: string;
  claimedAt: string;
  verifyBy: string;
  attempts: number;
  lastCheck: (Omit<DomainCheck, 'at'> & { at: string }) | null;
  nextCheckAt: string | null;
  verifiedAt: string | null;
  failureReason: string | null;
  /** `lapsing`: when a re-check first missed the record, and when the domain is released unless it is back. */
  lapsingSince: string | null;
  releaseAt: string | null;
  /** `released`: when and why the domain was given up. */
  releasedAt: string | null;
  releaseReason: string | null;
  joinPolicy: JoinPolicy;
  defaultRole: string;
}

const iso = (value: unknown) => toDate(value)?.toISOString() ?? null;

export function claimView(d: DocumentData): DomainClaimView {
  const lastCheck = d.lastCheck ? { ...d.lastCheck, at: iso(d.lastCheck.at) ?? '' } : null;
  return {
    tenantId: String(d.tenantId),
    domain: String(d.domain),
    status: d.status,
    recordName: String(d.recordName),
    recordValue: String(d.recordValue),
    claimedAt: iso(d.claimedAt) ?? '',
    verifyBy: iso(d.verifyBy) ?? '',
    attempts: Number(d.attempts ?? 0),
    lastCheck,
    nextCheckAt: iso(d.nextCheckAt),
    verifiedAt: iso(d.verifiedAt),
    failureReason: d.failureReason ?? null,
    lapsingSince: iso(d.lapsingSince),
    releaseAt: iso(d.releaseAt),
    releasedAt: iso(d.releasedAt),
    releaseReason: d.releaseReason ?? null,
    joinPolicy: d.joinPolicy ?? 'off',
    defaultRole: d.defaultRole ?? 'member',
  };
}

/**
 * Issues the TXT challenge for `domain` (state `pending`). Claiming a domain the tenant already has
 * pending or verified answers that claim unchanged; a failed one gets a new record and a new window.
 */
export async function claimDomain(deps: Pick<DomainDeps, 'db'>, account: Account, input: unknown, now = new Date()): Promise<DomainClaimView> {
  const { tenantId, domain } = parseOrThrow(ClaimDomainSchema, input);
  requireVerifiedEmail(account, 'claim a domain');
  const ref = refs(deps.db);
  const secret = randomBytes(18).toString('base64url');
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
      requireManagerOfPeople(members.get(account.uid)?.role ?? null, 'claim a domain');
      checkTeamStatus('claimDomain', tenant);
      const [index, existing] = await tx.getAll(ref.verifiedDomain(domain), ref.domainClaim(tenantId, domain));
      checkClaimable(domain, tenantId, index.exists ? String(index.get('tenantId')) : null);
      if (existing.exists && (OPEN_CLAIM_STATUSES as readonly string[]).includes(existing.get('status'))) return claimView(existing.data()!);
      const active = await tx.get(ref.domainClaims(tenantId).where('status', 'in', [...OPEN_CLAIM_STATUSES]));
      if (active.size >= MAX_DOMAIN_CLAIMS) {
        throw new DomainError(
          'resource-exhausted',
          `${tenant.name} already has ${active.size} domains claimed, the most one organisation can hold; remove one first with "Unclaim" on the Domains page`,
          { reason: 'domain-claim-limit' },
        );
      }
      const challenge = challengeFor(domain, secret);
      const claim = {
        tenantId,
        domain,
        status: 'pending',
        ...challenge,
        claimedBy: account.uid,
        claimedAt: now,
        verifyBy: verifyDeadline(now),
        attempts: 0,
        nextCheckAt: new Date(now.getTime() + FIRST_RECHECK_MS),
        lastCheck: null,
        verifiedAt: null,
        failedAt: null,
        failureReason: null,
        lapsingSince: null,
        releaseAt: null,
        releasedAt: null,
        releaseReason: null,
        joinPolicy: existing.get('joinPolicy') ?? 'off',
        defaultRole: existing.get('defaultRole') ?? 'member',
        updatedAt: now,
      };
      tx.set(ref.domainClaim(tenantId, domain), claim);
      return claimView(claim);
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/** "Check now": looks the record up at once and records what it saw. */
export async function verifyDomain(deps: DomainDeps, account: Account, input: unknown, now = new Date()): Promise<DomainClaimView> {
  const { tenantId, domain } = parseOrThrow(DomainRefSchema, input);
  const ref = refs(deps.db);
  // Checked before any DNS traffic: only the tenant's owner and admins make it look up a name.
  const { claim } = await deps.db.runTransaction(async (tx) => {
    const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
    requireManagerOfPeople(members.get(account.uid)?.role ?? null, 'verify a domain');
    checkTeamStatus('verifyDomain', tenant);
    return { claim: await tx.get(ref.domainClaim(tenantId, domain)) };
  });
  if (!claim.exists) throw new DomainError('not-found', `domain: ${domain} has not been claimed by this organisation; claim it first`, { field: 'domain' });
  const status = claim.get('status') as DomainClaimStatus;
  if (status === 'verified') return claimView(claim.data()!);
  // "Check now" on a lapsing domain: the record may be back, and the sooner it is seen the better.
  if (status === 'lapsing') return reverifyClaim(deps, claim, now);
  if (status === 'failed' || status === 'released') {
    throw new DomainError('failed-precondition', `${claim.get('failureReason') ?? claim.get('releaseReason') ?? 'This claim has ended.'} Claim the domain again for a new record.`, {
      reason: 'claim-failed',
    });
  }
  return checkClaim(deps, claim, now);
}

/** One DNS check of a pending claim and its outcome, written in a transaction that re-reads the claim. */
async function checkClaim(deps: DomainDeps, claim: DocumentSnapshot, now: Date): Promise<DomainClaimView> {
  const recordName = String(claim.get('recordName'));
  const recordValue = String(claim.get('recordValue'));
  const check = evaluateTxt({ recordName, recordValue }, await deps.resolveTxt(recordName), now);
  const ref = refs(deps.db);
  return deps.db.runTransaction(async (tx) => {
    const domain = String(claim.get('domain'));
    const tenantId = String(claim.get('tenantId'));
    const [current, index, tenant] = await tx.getAll(claim.ref, ref.verifiedDomain(domain), ref.tenant(tenantId));
    // Claimed again (a new record) or settled meanwhile: this check is about something that no longer is.
    if (!current.exists) throw new DomainError('not-found', `The claim of ${domain} was removed meanwhile`, { field: 'domain' });
    if (current.get('status') !== 'pending' || current.get('recordValue') !== recordValue) return claimView(current.data()!);
    if (!tenant.exists || statusReleasesDomains(tenant.get('status'))) {
      // A cancelled (or never set up) organisation verifies nothing: it would hold the domain with nobody to use it.
      const ended = { status: 'failed', attempts: Number(current.get('attempts') ?? 0) + 1, lastCheck: check, failedAt: now, nextCheckAt: null, failureReason: `${domain} was not verified: the organisation is ${tenant.get('status') ?? 'gone'}` };
      tx.update(current.ref, { ...ended, updatedAt: now });
      return claimView({ ...current.data(), ...ended });
    }
    const update = afterCheck(
      { domain, tenantId, claimedAt: toDate(current.get('claimedAt'))!, attempts: Number(current.get('attempts') ?? 0), recordName, recordValue },
      check,
      index.exists ? String(index.get('tenantId')) : null,
      now,
    );
    if (update.status === 'verified' && !index.exists) {
      tx.create(index.ref, { domain, tenantId, verifiedAt: now });
      // The list the lifecycle's release reads without a query (lifecycle/transition.ts).
      tx.update(tenant.ref, { heldDomains: FieldValue.arrayUnion(domain) });
    }
    tx.update(current.ref, { ...update, updatedAt: now });
    return claimView({ ...current.data(), ...update });
  });
}

/**
 * The periodic re-check of a domain the tenant holds (verified or lapsing): the record must still be
 * there. A first miss starts the grace period and mails the owner and admins; the record coming back
 * restores the claim; still missing once the grace period is over, the domain is released.
 */
async function reverifyClaim(deps: DomainDeps, claim: DocumentSnapshot, now: Date): Promise<DomainClaimView> {
  const recordName = String(claim.get('recordName'));
  const recordValue = String(claim.get('recordValue'));
  const check = evaluateTxt({ recordName, recordValue }, await deps.resolveTxt(recordName), now);
  const ref = refs(deps.db);
  return deps.db.runTransaction(async (tx) => {
    const domain = String(claim.get('domain'));
    const tenantId = String(claim.get('tenantId'));
    const [current, index, tenant] = await tx.getAll(claim.ref, ref.verifiedDomain(domain), ref.tenant(tenantId));
    if (!current.exists) throw new DomainError('not-found', `The claim of ${domain} was removed meanwhile`, { field: 'domain' });
    if (!claimHoldsDomain(current.get('status')) || current.get('recordValue') !== recordValue) return claimView(current.data()!);
    const heldHere = index.exists && index.get('tenantId') === tenantId;
    // Also frees what a tenant ended before heldDomains existed still holds: the sweep visits every held claim daily.
    if (!heldHere || !tenant.exists || statusReleasesDomains(tenant.get('status'))) {
      const reason = heldHere ? `${domain} was released because the organisation is ${tenant.get('status') ?? 'gone'}` : `${domain} is no longer this organisation's`;
      return releaseClaim(tx, deps.db, current, heldHere, { lastCheck: check, releaseReason: `${reason}; claim it again if you need it back.` }, now);
    }
    const update = afterReverify(
      { domain, tenantId, status: current.get('status'), lapsingSince: toDate(current.get('lapsingSince')) ?? null },
      check,
      now,
    );
    if (update.status === 'released') return releaseClaim(tx, deps.db, current, true, { lastCheck: update.lastCheck, releaseReason: update.releaseReason }, now);
    if (update.status === 'lapsing' && update.startedLapsing) {
      const admins = await tx.get(ref.members(tenantId).where('role', 'in', ['owner', 'admin']));
      const domainsPage = `${deps.appUrl ?? ''}/app/${encodeURIComponent(String(tenant.get('slug') || tenantId))}/domains`;
      for (const admin of admins.docs) {
        const email = String(admin.get('email') ?? '');
        if (!email) continue;
        const mail = domainLapsingMail(email, tenantId, String(tenant.get('name') ?? tenantId), { domain, recordName, recordValue }, update.releaseAt, domainsPage);
        // A deterministic id: a re-run (or two sweeps at once) queues each mail once.
        tx.set(deps.db.collection(COLLECTIONS.mail).doc(domainMailIds.lapsing(tenantId, domain, update.lapsingSince.getTime(), admin.id)), mail);
      }
    }
    const fields = { status: update.status, lastCheck: update.lastCheck, nextCheckAt: update.nextCheckAt, lapsingSince: update.lapsingSince, releaseAt: update.releaseAt };
    // Backfills the list for domains verified before it existed.
    if (fields.status === 'verified') tx.update(tenant.ref, { heldDomains: FieldValue.arrayUnion(domain) });
    tx.update(current.ref, { ...fields, updatedAt: now });
    return claimView({ ...current.data(), ...fields });
  });
}

/** Gives the domain up: the index entry (when it is this tenant's), the tenant's list, the claim `released` and joining off. */
function releaseClaim(tx: Transaction, db: Firestore, claim: DocumentSnapshot, heldHere: boolean, fields: Record<string, unknown>, now: Date): DomainClaimView {
  const ref = refs(db);
  const domain = String(claim.get('domain'));
  if (heldHere) tx.delete(ref.verifiedDomain(domain));
  tx.update(ref.tenant(String(claim.get('tenantId'))), { heldDomains: FieldValue.arrayRemove(domain) });
  const update = { ...fields, status: 'released', releasedAt: now, nextCheckAt: null, joinPolicy: 'off', lapsingSince: null, releaseAt: null, updatedAt: now };
  tx.update(claim.ref, update);
  return claimView({ ...claim.data(), ...update });
}

export interface UnclaimResult {
  tenantId: string;
  domain: string;
  /** true: the tenant held the domain (verified or lapsing), and another organisation may claim it now. */
  released: boolean;
}

/**
 * Gives a domain up at once, in any state: the claim document goes, and the verified entry with it
 * when it is this tenant's. Owner and admins only; refused before anything is written.
 */
export async function unclaimDomain(deps: Pick<DomainDeps, 'db'>, account: Account, input: unknown): Promise<UnclaimResult> {
  const { tenantId, domain } = parseOrThrow(UnclaimDomainSchema, input);
  const ref = refs(deps.db);
  return deps.db.runTransaction(
    async (tx) => {
      const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
      requireManagerOfPeople(members.get(account.uid)?.role ?? null, 'unclaim a domain');
      checkTeamStatus('unclaimDomain', tenant);
      const [claim, index] = await tx.getAll(ref.domainClaim(tenantId, domain), ref.verifiedDomain(domain));
      if (!claim.exists) throw new DomainError('not-found', `domain: ${domain} is not claimed by ${tenant.name}`, { field: 'domain' });
      const released = index.exists && index.get('tenantId') === tenantId;
      if (released) tx.delete(index.ref);
      tx.update(tenant.ref, { heldDomains: FieldValue.arrayRemove(domain) });
      tx.delete(claim.ref);
      return { tenantId, domain, released };
    },
    { maxAttempts: TEAM_TRANSACTION_ATTEMPTS },
  );
}

/** Who may join by this domain, and as what. Setting it to `off` is allowed wherever the tenant can be seen. */
export async function setDomainJoinPolicy(deps: Pick<DomainDeps, 'db'>, account: Account, input: unknown, now = new Date()): Promise<DomainClaimView> {
  const { tenantId, domain, joinPolicy, defaultRole } = parseOrThrow(SetDomainJoinPolicySchema, input);
  const ref = refs(deps.db);
  return deps.db.runTransaction(async (tx) => {
    const { tenant, members } = await readTeamTenant(tx, deps.db, tenantId, [account.uid]);
    requireManagerOfPeople(members.get(account.uid)?.role ?? null, 'change how colleagues join');
    checkTeamStatus(joinPolicy === 'off' ? 'verifyDomain' : 'setDomainJoinPolicy', tenant);
    const claim = await tx.get(ref.domainClaim(tenantId, domain));
    if (!claim.exists) throw new DomainError('not-found', `domain: ${domain} has not been claimed by this organisation`, { field: 'domain' });
    if (!claimHoldsDomain(claim.get('status')) && joinPolicy !== 'off') {
      throw new DomainError('failed-precondition', `${domain} is not verified yet; colleagues can join by it once the TXT record is found`, { reason: 'not-verified' });
    }
    const update = { joinPolicy, defaultRole, joinPolicyChangedBy: account.uid, updatedAt: now };
    tx.update(claim.ref, update);
    return claimView({ ...claim.data(), ...update });
  });
}

export interface DomainSweepReport {
  sweep: 'recheckDomains';
  changed: Array<{ tenantId: string; domain: string; to: DomainClaimStatus; outcome: string }>;
  /** Checked and still pending (the record is not there yet). */
  pending: Array<{ tenantId: string; domain: string; outcome: string; nextCheckAt: string | null }>;
  /** Held domains re-checked and unchanged: still verified, or still lapsing within their grace period. */
  held: Array<{ tenantId: string; domain: string; status: DomainClaimStatus; outcome: string; nextCheckAt: string | null }>;
  errors: Array<{ tenantId: string; domain: string; message: string }>;
}

/**
 * Retries every pending claim whose next check is due, with backoff, until its seven days are over;
 * then `failed`, with what the last check saw. Held domains are re-checked too, daily (twice a day
 * while lapsing): see reverifyClaim. Takes `now`: the scheduled wrapper passes the clock,
 * tests and `npm run lifecycle -- --at` pass a date.
 */
export async function recheckDomains(deps: DomainDeps, now: Date, options: { pageSize?: number; concurrency?: number } = {}): Promise<DomainSweepReport> {
  const pageSize = options.pageSize ?? 200;
  const concurrency = options.concurrency ?? 10;
  const report: DomainSweepReport = { sweep: 'recheckDomains', changed: [], pending: [], held: [], errors: [] };
  const due: Query = deps.db.collectionGroup(COLLECTIONS.domains).where('status', 'in', [...OPEN_CLAIM_STATUSES]).where('nextCheckAt', '<=', now).orderBy('nextCheckAt');
  let cursor: QueryDocumentSnapshot | undefined;
  for (;;) {
    const page = await (cursor ? due.startAfter(cursor) : due).limit(pageSize).get();
    for (let i = 0; i < page.docs.length; i += concurrency) {
      await Promise.all(
        page.docs.slice(i, i + concurrency).map(async (claim) => {
          const where = { tenantId: String(claim.get('tenantId')), domain: String(claim.get('domain')) };
          try {
            const from = claim.get('status') as DomainClaimStatus;
            const view = claimHoldsDomain(from) ? await reverifyClaim(deps, claim, now) : await checkClaim(deps, claim, now);
            const outcome = view.lastCheck?.outcome ?? 'none';
            if (view.status === 'pending') report.pending.push({ ...where, outcome, nextCheckAt: view.nextCheckAt });
            else if (view.status === from) report.held.push({ ...where, status: view.status, outcome, nextCheckAt: view.nextCheckAt });
            else report.changed.push({ ...where, to: view.status, outcome });
          } catch (error) {
            report.errors.push({ ...where, message: error instanceof Error ? error.message : String(error) });
          }
        }),
      );
    }
    if (page.size < pageSize) break;
    cursor = page.docs[page.docs.length - 1];
  }
  if (report.changed.length || report.errors.length) {
    (report.errors.length ? logger.error : logger.info)(`recheckDomains: ${report.changed.length} settled, ${report.pending.length} still pending, ${report.errors.length} errors`, {
      errors: report.errors.slice(0, 20),
    });
  }
  return report;
}
