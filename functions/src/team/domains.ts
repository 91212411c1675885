import { randomBytes } from 'node:crypto';
import type { DocumentData, DocumentSnapshot, Firestore, Query, QueryDocumentSnapshot } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import { COLLECTIONS, refs } from '../adapters/firestore';
import type { TxtResolver } from '../adapters/dns';
import { DomainError } from '../domain/errors';
import {
  afterCheck,
  challengeFor,
  checkClaimable,
  ClaimDomainSchema,
  DomainRefSchema,
  evaluateTxt,
  FIRST_RECHECK_MS,
  MAX_DOMAIN_CLAIMS,
  SetDomainJoinPolicySchema,
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
      if (existing.exists && existing.get('status') !== 'failed') return claimView(existing.data()!);
      const active = await tx.get(ref.domainClaims(tenantId).where('status', 'in', ['pending', 'verified']));
      if (active.size >= MAX_DOMAIN_CLAIMS) {
        throw new DomainError('resource-exhausted', `${tenant.name} already has ${active.size} domains claimed, the most one organisation can hold; remove one first`, {
          reason: 'domain-claim-limit',
        });
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
  if (status === 'failed') {
    throw new DomainError('failed-precondition', `${claim.get('failureReason') ?? 'This claim has failed.'}`, { reason: 'claim-failed' });
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
    const [current, index] = await tx.getAll(claim.ref, ref.verifiedDomain(domain));
    // Claimed again (a new record) or settled meanwhile: this check is about something that no longer is.
    if (!current.exists) throw new DomainError('not-found', `The claim of ${domain} was removed meanwhile`, { field: 'domain' });
    if (current.get('status') !== 'pending' || current.get('recordValue') !== recordValue) return claimView(current.data()!);
    const tenantId = String(current.get('tenantId'));
    const update = afterCheck(
      { domain, tenantId, claimedAt: toDate(current.get('claimedAt'))!, attempts: Number(current.get('attempts') ?? 0), recordName, recordValue },
      check,
      index.exists ? String(index.get('tenantId')) : null,
      now,
    );
    if (update.status === 'verified' && !index.exists) tx.create(index.ref, { domain, tenantId, verifiedAt: now });
    tx.update(current.ref, { ...update, updatedAt: now });
    return claimView({ ...current.data(), ...update });
  });
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
    if (claim.get('status') !== 'verified' && joinPolicy !== 'off') {
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
  errors: Array<{ tenantId: string; domain: string; message: string }>;
}

/**
 * Retries every pending claim whose next check is due, with backoff, until its seven days are over;
 * then `failed`, with what the last check saw. Takes `now`: the scheduled wrapper passes the clock,
 * tests and `npm run lifecycle -- --at` pass a date.
 */
export async function recheckDomains(deps: DomainDeps, now: Date, options: { pageSize?: number; concurrency?: number } = {}): Promise<DomainSweepReport> {
  const pageSize = options.pageSize ?? 200;
  const concurrency = options.concurrency ?? 10;
  const report: DomainSweepReport = { sweep: 'recheckDomains', changed: [], pending: [], errors: [] };
  const due: Query = deps.db.collectionGroup(COLLECTIONS.domains).where('status', '==', 'pending').where('nextCheckAt', '<=', now).orderBy('nextCheckAt');
  let cursor: QueryDocumentSnapshot | undefined;
  for (;;) {
    const page = await (cursor ? due.startAfter(cursor) : due).limit(pageSize).get();
    for (let i = 0; i < page.docs.length; i += concurrency) {
      await Promise.all(
        page.docs.slice(i, i + concurrency).map(async (claim) => {
          const where = { tenantId: String(claim.get('tenantId')), domain: String(claim.get('domain')) };
          try {
            const view = await checkClaim(deps, claim, now);
            const outcome = view.lastCheck?.outcome ?? 'none';
            if (view.status === 'pending') report.pending.push({ ...where, outcome, nextCheckAt: view.nextCheckAt });
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
