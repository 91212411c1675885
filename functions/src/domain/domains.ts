/**
 * Domain capture: a tenant proves it controls a mail domain with a DNS TXT record, and may then
 * let new signups at that domain join it (off, suggest, or join automatically with a default role).
 * Pure and browser-safe: no firebase, no node imports; the DNS lookup is injected (functions/src/adapters/dns.ts).
 * See docs/team.md#domain-capture.
 */
import { z } from 'zod';
import { DomainError } from './errors';
import { escapeHtml, type OutgoingMail } from './mail';
import { DAY_MS, TenantIdSchema } from './team';
import type { TenantRole, TenantStatus } from './status';

/**
 * Mail domains anyone can get an address at: no tenant can claim them, or every gmail.com user
 * would be offered someone's organisation. Subdomains (mail.yahoo.com) are covered too.
 */
export const PUBLIC_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'google.com',
  'outlook.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'live.com', 'live.co.uk', 'msn.com', 'passport.com',
  'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.co.jp', 'ymail.com', 'rocketmail.com', 'aol.com', 'aim.com',
  'icloud.com', 'me.com', 'mac.com',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'tutanota.com', 'tuta.io', 'fastmail.com', 'hey.com', 'duck.com',
  'zoho.com', 'zohomail.com', 'mail.com', 'email.com', 'gmx.com', 'gmx.net', 'gmx.de', 'web.de', 't-online.de', 'freenet.de',
  'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'libero.it', 'virgilio.it', 'btinternet.com', 'sky.com',
  'yandex.ru', 'yandex.com', 'mail.ru', 'rambler.ru', 'qq.com', '163.com', '126.com', 'sina.com', 'naver.com', 'daum.net',
  'hanmail.net', 'rediffmail.com', 'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net', 'cox.net', 'inbox.com',
]);

export function isPublicMailDomain(domain: string): boolean {
  const labels = domain.split('.');
  return labels.some((_, i) => PUBLIC_MAIL_DOMAINS.has(labels.slice(i).join('.')));
}

/** IDNs as punycode, through the WHATWG URL parser (node and browsers alike); '' when it is no host name. */
function toAscii(value: string): string {
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  try {
    return new URL(`http://${value}/`).hostname;
  } catch {
    return '';
  }
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A registrable-looking host name: lower case, ASCII (IDNs as punycode), at least two labels, no trailing dot. */
export const DomainNameSchema = z
  .string({ message: 'a domain name such as acme.com' })
  .trim()
  .toLowerCase()
  .transform((value) => value.replace(/\.$/, ''))
  .transform(toAscii)
  .refine((value) => value.length > 0 && value.length <= 253, 'a domain name such as acme.com')
  .refine((value) => !value.includes('@'), 'only the part after the @, such as acme.com')
  .refine((value) => value.split('.').length >= 2 && value.split('.').every((label) => LABEL.test(label)), 'a domain name such as acme.com')
  .refine((value) => !/^\d+$/.test(value.split('.').pop()!), 'a domain name, not an IP address');

export const JOIN_POLICIES = ['off', 'suggest', 'auto'] as const;
export type JoinPolicy = (typeof JOIN_POLICIES)[number];
/** What a person who joins by domain may start as: never owner or admin (those are given by a person). */
export const DOMAIN_JOIN_ROLES = ['manager', 'member', 'viewer'] as const satisfies readonly TenantRole[];

export const ClaimDomainSchema = z.object({ tenantId: TenantIdSchema, domain: DomainNameSchema }).strict();
export const DomainRefSchema = ClaimDomainSchema;
export const UnclaimDomainSchema = DomainRefSchema;
export const SetDomainJoinPolicySchema = z
  .object({
    tenantId: TenantIdSchema,
    domain: DomainNameSchema,
    joinPolicy: z.enum(JOIN_POLICIES, { message: `one of ${JOIN_POLICIES.join(', ')}` }),
    defaultRole: z.enum(DOMAIN_JOIN_ROLES, { message: `one of ${DOMAIN_JOIN_ROLES.join(', ')}` }),
  })
  .strict();

/**
 * `lapsing`: verified, but the periodic re-check no longer finds the record; it still holds the domain
 * until its grace period ends. `released`: it held the domain and gave it up (the record stayed away,
 * the tenant was cancelled or never set up); claiming again issues a new record, as after `failed`.
 */
export const DOMAIN_CLAIM_STATUSES = ['pending', 'verified', 'lapsing', 'failed', 'released'] as const;
export type DomainClaimStatus = (typeof DOMAIN_CLAIM_STATUSES)[number];
/** The statuses in which a claim holds its domain: `verifiedDomains/{domain}` names its tenant. */
export const HOLDING_CLAIM_STATUSES = ['verified', 'lapsing'] as const satisfies readonly DomainClaimStatus[];
/** The statuses the sweep still checks and that count towards MAX_DOMAIN_CLAIMS. */
export const OPEN_CLAIM_STATUSES = ['pending', ...HOLDING_CLAIM_STATUSES] as const satisfies readonly DomainClaimStatus[];

export function claimHoldsDomain(status: unknown): boolean {
  return (HOLDING_CLAIM_STATUSES as readonly unknown[]).includes(status);
}

/** A tenant in these statuses gives up every domain it holds (in the transaction that moves it there), and verifies none. */
export const DOMAIN_RELEASING_STATUSES = ['cancelled', 'failed'] as const satisfies readonly TenantStatus[];

export function statusReleasesDomains(status: TenantStatus): boolean {
  return (DOMAIN_RELEASING_STATUSES as readonly TenantStatus[]).includes(status);
}
/** Claims one tenant may hold at once (pending and verified), so claims cannot be used to flood DNS lookups. */
export const MAX_DOMAIN_CLAIMS = 20;

export const CHALLENGE_LABEL = '_tenancy-challenge';
const CHALLENGE_PREFIX = 'tenancy-domain-verification=';

export interface Challenge {
  recordName: string;
  recordValue: string;
}

/** `secret`: random, from the caller (24 base64url characters do). */
export function challengeFor(domain: string, secret: string): Challenge {
  return { recordName: `${CHALLENGE_LABEL}.${domain}`, recordValue: `${CHALLENGE_PREFIX}${secret}` };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** What one DNS check saw, recorded on the claim so the domain page can say what is wrong. */
export type DomainCheckOutcome = 'found' | 'no-record' | 'other-value' | 'lookup-failed';

export interface DomainCheck {
  at: Date;
  outcome: DomainCheckOutcome;
  /** The TXT values found at the record name (chunks joined), at most 10. */
  seen: string[];
  message: string;
}

/** What the resolver answered: the TXT records (each a list of chunks), or the error code of a failed lookup. */
export type TxtAnswer = { records: string[][] } | { error: string };

export function evaluateTxt(challenge: Challenge, answer: TxtAnswer, at: Date): DomainCheck {
  if ('error' in answer) {
    return { at, outcome: 'lookup-failed', seen: [], message: `The DNS lookup of ${challenge.recordName} failed (${answer.error}); it is tried again automatically.` };
  }
  const seen = answer.records.map((chunks) => chunks.join('')).slice(0, 10);
  if (seen.some((value) => value.trim() === challenge.recordValue)) {
    return { at, outcome: 'found', seen, message: `Found the TXT record at ${challenge.recordName}.` };
  }
  if (seen.length === 0) {
    return {
      at,
      outcome: 'no-record',
      seen,
      message: `No TXT record at ${challenge.recordName} yet. Add it at your DNS provider; new records can take up to 48 hours to be seen.`,
    };
  }
  return {
    at,
    outcome: 'other-value',
    seen,
    message: `A TXT record exists at ${challenge.recordName}, but with another value (${seen.map((v) => `"${v}"`).join(', ')}). Set it to exactly "${challenge.recordValue}".`,
  };
}

/** DNS can take 48 hours to show a new record; anchors allow from 72 hours to 30 days. Seven days, then `failed`. */
export const DOMAIN_VERIFY_WINDOW_DAYS = 7;
/** Retries back off from 5 minutes, doubling, to at most 12 hours between checks. */
export const FIRST_RECHECK_MS = 5 * 60_000;
export const MAX_RECHECK_MS = 12 * 3_600_000;

export function recheckDelayMs(attempts: number): number {
  return Math.min(MAX_RECHECK_MS, FIRST_RECHECK_MS * 2 ** Math.max(0, attempts - 1));
}

export function verifyDeadline(claimedAt: Date): Date {
  return new Date(claimedAt.getTime() + DOMAIN_VERIFY_WINDOW_DAYS * DAY_MS);
}

export interface PendingClaim {
  domain: string;
  tenantId: string;
  claimedAt: Date;
  attempts: number;
  recordName: string;
  recordValue: string;
}

/** What a claim becomes after a check. `takenBy`: the tenant that already verified the domain, if any. */
export type ClaimUpdate =
  /** `nextCheckAt`: the first periodic re-check of the record. */
  | { status: 'verified'; attempts: number; lastCheck: DomainCheck; verifiedAt: Date; nextCheckAt: Date }
  | { status: 'pending'; attempts: number; lastCheck: DomainCheck; nextCheckAt: Date }
  | { status: 'failed'; attempts: number; lastCheck: DomainCheck; failedAt: Date; failureReason: string; nextCheckAt: null };

export function afterCheck(claim: PendingClaim, check: DomainCheck, takenBy: string | null, now: Date): ClaimUpdate {
  const attempts = claim.attempts + 1;
  if (check.outcome === 'found') {
    if (takenBy && takenBy !== claim.tenantId) {
      return {
        status: 'failed',
        attempts,
        lastCheck: check,
        failedAt: now,
        failureReason: `${claim.domain} was verified by another organisation first; each domain belongs to one organisation`,
        nextCheckAt: null,
      };
    }
    return { status: 'verified', attempts, lastCheck: check, verifiedAt: now, nextCheckAt: new Date(now.getTime() + DOMAIN_REVERIFY_INTERVAL_MS) };
  }
  const deadline = verifyDeadline(claim.claimedAt);
  if (now.getTime() >= deadline.getTime()) {
    return {
      status: 'failed',
      attempts,
      lastCheck: check,
      failedAt: now,
      failureReason: `Not verified within ${DOMAIN_VERIFY_WINDOW_DAYS} days. The last check: ${check.message} Claim the domain again for a new record.`,
      nextCheckAt: null,
    };
  }
  // The last retry lands on the deadline itself, so a record added on day 6 is still found.
  const next = Math.min(now.getTime() + recheckDelayMs(attempts), deadline.getTime());
  return { status: 'pending', attempts, lastCheck: check, nextCheckAt: new Date(next) };
}

// ---------------------------------------------------------------------------------------------
// Re-verification of held domains: a domain stays its tenant's only while the record stays

/** A verified domain's record is looked up again once a day. */
export const DOMAIN_REVERIFY_INTERVAL_MS = DAY_MS;
/** Once the record is missing, the tenant has this long to put it back before the domain is released. */
export const DOMAIN_LAPSE_GRACE_DAYS = 7;

export interface HeldClaim {
  domain: string;
  tenantId: string;
  status: 'verified' | 'lapsing';
  /** When a re-check first missed the record (the start of the grace period); null while verified. */
  lapsingSince: Date | null;
}

export type ReverifyUpdate =
  | { status: 'verified'; lastCheck: DomainCheck; nextCheckAt: Date; lapsingSince: null; releaseAt: null; restored: boolean }
  | { status: 'lapsing'; lastCheck: DomainCheck; nextCheckAt: Date; lapsingSince: Date; releaseAt: Date; startedLapsing: boolean }
  | { status: 'released'; lastCheck: DomainCheck; nextCheckAt: null; releasedAt: Date; releaseReason: string; joinPolicy: 'off' };

export function lapseReleaseAt(lapsingSince: Date): Date {
  return new Date(lapsingSince.getTime() + DOMAIN_LAPSE_GRACE_DAYS * DAY_MS);
}

/**
 * What a held claim becomes after a re-check: found keeps (or restores) it; a missing or changed
 * record starts the grace period, and releases the domain once that has passed. A failed lookup
 * proves nothing either way: the claim stays as it is and is looked at again.
 */
export function afterReverify(claim: HeldClaim, check: DomainCheck, now: Date): ReverifyUpdate {
  if (check.outcome === 'found') {
    return { status: 'verified', lastCheck: check, nextCheckAt: new Date(now.getTime() + DOMAIN_REVERIFY_INTERVAL_MS), lapsingSince: null, releaseAt: null, restored: claim.status === 'lapsing' };
  }
  if (check.outcome === 'lookup-failed' && claim.status === 'verified') {
    return { status: 'verified', lastCheck: check, nextCheckAt: new Date(now.getTime() + MAX_RECHECK_MS), lapsingSince: null, releaseAt: null, restored: false };
  }
  const lapsingSince = claim.lapsingSince ?? now;
  const releaseAt = lapseReleaseAt(lapsingSince);
  if (check.outcome !== 'lookup-failed' && now.getTime() >= releaseAt.getTime()) {
    return {
      status: 'released',
      lastCheck: check,
      nextCheckAt: null,
      releasedAt: now,
      releaseReason: `The TXT record was missing for ${DOMAIN_LAPSE_GRACE_DAYS} days, so ${claim.domain} was released. The last check: ${check.message} Claim it again for a new record.`,
      joinPolicy: 'off',
    };
  }
  // The last re-check lands on the end of the grace period, so a record put back on day 6 still counts.
  const next = Math.min(now.getTime() + MAX_RECHECK_MS, releaseAt.getTime());
  return { status: 'lapsing', lastCheck: check, nextCheckAt: new Date(next), lapsingSince, releaseAt, startedLapsing: claim.lapsingSince === null };
}

export const domainMailIds = {
  /** One mail per recipient per lapse (a lapse starts when a re-check first misses the record). */
  lapsing: (tenantId: string, domain: string, lapsingSinceMs: number, uid: string) => `domain-lapsing-${tenantId}-${domain}-${lapsingSinceMs}-${uid}`,
};

export function domainLapsingMail(
  to: string,
  tenantId: string,
  tenantName: string,
  claim: { domain: string; recordName: string; recordValue: string },
  releaseAt: Date,
  domainsPage: string,
): OutgoingMail {
  const when = releaseAt.toISOString().slice(0, 16).replace('T', ' ');
  const text =
    `The DNS TXT record that proves ${tenantName} controls ${claim.domain} is gone (${claim.recordName}). ` +
    `Put it back by ${when} UTC, or ${claim.domain} is released: its colleagues then no longer join ${tenantName} by their address, and another organisation may claim it. ` +
    `The record: TXT ${claim.recordName} "${claim.recordValue}". The domains page: ${domainsPage}`;
  return {
    to,
    tenantId,
    message: {
      subject: `${claim.domain}: its verification record is missing`,
      text,
      html:
        `<p>The DNS TXT record that proves <strong>${escapeHtml(tenantName)}</strong> controls <strong>${escapeHtml(claim.domain)}</strong> is gone.</p>` +
        `<p>Put it back by ${escapeHtml(when)} UTC, or ${escapeHtml(claim.domain)} is released: colleagues then no longer join by their address, and another organisation may claim it.</p>` +
        `<p>TXT <code>${escapeHtml(claim.recordName)}</code> <code>${escapeHtml(claim.recordValue)}</code></p>` +
        `<p><a href="${escapeHtml(domainsPage)}">The domains page</a></p>`,
    },
  };
}

/** Refuses what no tenant may claim; `verifiedBy` is the tenant holding the domain's verification, if any. */
export function checkClaimable(domain: string, tenantId: string, verifiedBy: string | null): void {
  if (isPublicMailDomain(domain)) {
    throw new DomainError('invalid-argument', `domain: ${domain} is a public mail provider; claim your organisation's own domain`, {
      field: 'domain',
      reason: 'public-mail-domain',
    });
  }
  if (verifiedBy && verifiedBy !== tenantId) {
    throw new DomainError('already-exists', `domain: ${domain} is already verified by another organisation`, { field: 'domain', reason: 'verified-elsewhere' });
  }
}

/** What lookupDomainJoin answers (the signup page reads it too). */
export type DomainJoinOption =
  | { match: null }
  /** Unverified addresses learn only that their domain is managed, not by whom. */
  | { match: { domain: string; joinPolicy: 'suggest' | 'auto'; requiresVerification: true } }
  | {
      match: {
        domain: string;
        joinPolicy: 'suggest' | 'auto';
        requiresVerification: false;
        tenantId: string;
        tenantName: string;
        role: TenantRole;
        alreadyMember: boolean;
        /** false: the tenant is at its seat cap; the person asks an admin for a seat. */
        seatAvailable: boolean;
      };
    };
