/**
 * What the admin console (platform staff) may do beyond status changes, and the tenant fields its
 * tenants table searches and sorts on. Pure: no firebase import.
 */
import { z } from 'zod';
import { DomainError } from './errors';
import type { JobStatus, PlatformRole } from './status';

/** Staff actions on a provisioning job, and who may take them (the console shows each only to these roles). */
export const PROVISIONING_ACTIONS = ['retry', 'finishRollback'] as const;
export type ProvisioningAction = (typeof PROVISIONING_ACTIONS)[number];
export const PROVISIONING_ACTION_ROLES: Record<ProvisioningAction, readonly PlatformRole[]> = {
  // Sales provisions tenants, so sales may start a clean attempt of one that rolled back.
  retry: ['super_admin', 'sales'],
  // Re-running a failed undo touches Stripe and the tenant's remains: operators only (finishProvisioningRollback).
  finishRollback: ['super_admin'],
};

/** The local clock moves every tenant's time: only super_admin, and only on the emulators. */
export const LOCAL_CLOCK_ROLES: readonly PlatformRole[] = ['super_admin'];

export function requirePlatformRole(role: unknown, allowed: readonly PlatformRole[], what: string): PlatformRole {
  if (typeof role !== 'string' || !allowed.includes(role as PlatformRole)) {
    throw new DomainError('permission-denied', `Only platform ${allowed.join(' or ')} staff can ${what}`);
  }
  return role as PlatformRole;
}

export const StaffReasonSchema = z.string().trim().min(3, 'at least 3 characters: say why, for the history').max(500, 'at most 500 characters');
const TenantIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a tenant id (letters, digits, _ and -)');

export const RetryProvisioningSchema = z
  .object({
    jobId: z.string().regex(/^job_[0-9a-f]{40}$/, 'a provisioning job id (job_ and 40 hex digits)'),
    /** The attempt the caller saw fail: a second click, or a colleague's, finds it retried already and gets that retry's result. */
    attempt: z.number({ message: 'the attempt number shown on the job' }).int('a whole number').min(1, 'at least 1'),
    reason: StaffReasonSchema,
  })
  .strict();

export const TenantHistoryQuerySchema = z
  .object({
    tenantId: TenantIdSchema,
    limit: z.number().int('a whole number').min(1, 'at least 1').max(200, 'at most 200').default(50),
  })
  .strict();

export const AdvanceClockSchema = z
  .object({
    to: z
      .string()
      .refine((value) => /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)), 'a date such as 2027-01-31 (or an ISO time)')
      .transform((value) => new Date(value)),
  })
  .strict();

/**
 * Whether a job may start a clean attempt: rolled back, or failed with every undo done. A failed undo
 * must be finished first, or the new attempt would run beside what the old one left behind.
 */
export function checkRetryable(job: { status: JobStatus; undoErrors?: unknown[] }): void {
  if (job.status === 'rolled_back' || (job.status === 'failed' && !job.undoErrors?.length)) return;
  if (job.status === 'failed') {
    throw new DomainError('failed-precondition', 'An undo of this provisioning failed: finish the failed undo before a retry', { status: job.status });
  }
  throw new DomainError('failed-precondition', `This provisioning is '${job.status}': only a rolled-back or failed provisioning can be retried`, {
    status: job.status,
  });
}

/** Lower case, no accents, single spaces: what search keys and the name sort are made of. */
export function normaliseForSearch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const MAX_PREFIX = 24;

/**
 * The tenants table searches by prefix with one `array-contains` on `searchKeys`, so a search combines
 * with the status, plan and source filters, any sort and cursor paging: every prefix of the whole name,
 * of each word of it, and of the slug and its parts. `nameSort` orders by name without regard to case.
 */
export function tenantSearchFields(name: string, slug: string): { searchKeys: string[]; nameSort: string } {
  const whole = normaliseForSearch(name);
  const terms = [whole, ...whole.split(/[^a-z0-9]+/), slug, ...slug.split('-')].filter(Boolean);
  const keys = new Set<string>();
  for (const term of terms) for (let n = 1; n <= Math.min(term.length, MAX_PREFIX); n++) keys.add(term.slice(0, n));
  return { searchKeys: [...keys].sort(), nameSort: whole };
}

/** A typed search as the key it looks up (keys are at most MAX_PREFIX long). */
export function searchKeyFor(query: string): string {
  return normaliseForSearch(query).slice(0, MAX_PREFIX);
}
