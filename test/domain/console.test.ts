// The admin console's pure rules: the tenants table's search fields, who may retry a provisioning and
// when, and the field errors a form shows next to its fields.
import { describe, expect, it } from 'vitest';
import {
  checkRetryable,
  PROVISIONING_ACTION_ROLES,
  requirePlatformRole,
  RetryProvisioningSchema,
  searchKeyFor,
  tenantSearchFields,
} from '../../functions/src/domain/console';
import { DomainError } from '../../functions/src/domain/errors';
import { ProvisioningRequestSchema, storedRequest, type ProvisioningRequest } from '../../functions/src/domain/provisioning';
import { parseOrThrow } from '../../functions/src/domain/validation';

function refusalOf(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  expect.fail('expected a refusal');
}

describe('tenant search fields', () => {
  const { searchKeys, nameSort } = tenantSearchFields('Émile & Söhne Robotics', 'emile-robotics');

  it('finds a tenant by any prefix of its name, of a word of it, of its slug or of a slug part, whatever the case and accents', () => {
    for (const typed of ['E', 'emile', 'Émile & S', 'söhne', 'SOH', 'robo', 'emile-rob', 'robotics']) {
      expect(searchKeys, typed).toContain(searchKeyFor(typed));
    }
  });

  it('does not find it by a word that is not a prefix', () => {
    for (const typed of ['botics', 'hne', 'mile', 'acme', 'emile robotics']) expect(searchKeys, typed).not.toContain(searchKeyFor(typed));
  });

  it('sorts by the lower-case, accent-free name', () => {
    expect(nameSort).toBe('emile & sohne robotics');
    expect(tenantSearchFields('alpha', 'alpha').nameSort < tenantSearchFields('Beta', 'beta').nameSort).toBe(true);
  });

  it('keeps prefixes to 24 characters, so a long name costs a bounded number of keys', () => {
    const long = tenantSearchFields('A'.repeat(100), 'a'.repeat(40));
    expect(Math.max(...long.searchKeys.map((k) => k.length))).toBe(24);
    expect(long.searchKeys.length).toBe(24);
    expect(searchKeyFor('a'.repeat(60))).toBe('a'.repeat(24));
  });

  it('looks nothing up for a blank search', () => {
    expect(searchKeyFor('   ')).toBe('');
  });
});

describe('retrying a provisioning', () => {
  it('is allowed after a clean rollback, or a failure with nothing left to undo', () => {
    expect(() => checkRetryable({ status: 'rolled_back' })).not.toThrow();
    expect(() => checkRetryable({ status: 'failed', undoErrors: [] })).not.toThrow();
  });

  it('is refused while a failed undo is left, and for a job that is running or done', () => {
    expect(refusalOf(() => checkRetryable({ status: 'failed', undoErrors: [{ step: 'createStripeCustomer' }] })).message).toMatch(/finish the failed undo/);
    for (const status of ['pending', 'running', 'compensating', 'completed'] as const) {
      const refusal = refusalOf(() => checkRetryable({ status }));
      expect([refusal.code, refusal.details?.status]).toEqual(['failed-precondition', status]);
    }
  });

  it('is for sales and super_admin; finishing a failed undo for super_admin only', () => {
    expect(requirePlatformRole('sales', PROVISIONING_ACTION_ROLES.retry, 'retry')).toBe('sales');
    expect(requirePlatformRole('super_admin', PROVISIONING_ACTION_ROLES.finishRollback, 'finish')).toBe('super_admin');
    const refusal = refusalOf(() => requirePlatformRole('sales', PROVISIONING_ACTION_ROLES.finishRollback, 'finish a provisioning rollback'));
    expect([refusal.code, refusal.message]).toEqual(['permission-denied', 'Only platform super_admin staff can finish a provisioning rollback']);
    expect(refusalOf(() => requirePlatformRole(undefined, PROVISIONING_ACTION_ROLES.retry, 'retry')).code).toBe('permission-denied');
  });

  it('needs a job id, the attempt that failed and a reason, each named with what is wrong', () => {
    const refusal = refusalOf(() => parseOrThrow(RetryProvisioningSchema, { jobId: 'tenant-1', attempt: 0, reason: ' x ' }));
    expect(refusal.code).toBe('invalid-argument');
    expect(refusal.details?.fieldErrors).toEqual({
      jobId: 'a provisioning job id (job_ and 40 hex digits)',
      attempt: 'at least 1',
      reason: 'at least 3 characters: say why, for the history',
    });
  });

  it('keeps the request on the job without the per-attempt reason or unset fields, and it validates again as it was', () => {
    const request: ProvisioningRequest = {
      idempotencyKey: 'deal-00000042',
      source: 'sales',
      owner: { email: 'alice@umbrella.test', displayName: 'Alice' },
      companyName: 'Umbrella',
      plan: 'enterprise',
      goLiveAt: new Date('2027-03-01T00:00:00Z'),
      requestedBy: 'sales-1',
      reason: 'first attempt',
    };
    const stored = storedRequest(request);
    expect(stored).toEqual({
      idempotencyKey: 'deal-00000042',
      source: 'sales',
      owner: { email: 'alice@umbrella.test', displayName: 'Alice' },
      companyName: 'Umbrella',
      plan: 'enterprise',
      goLiveAt: new Date('2027-03-01T00:00:00Z'),
      requestedBy: 'sales-1',
    });
    expect(parseOrThrow(ProvisioningRequestSchema, stored)).toEqual(stored);
  });
});

describe('field errors', () => {
  it('name each bad field once, with its first problem, beside the message naming them all', () => {
    const refusal = refusalOf(() => parseOrThrow(ProvisioningRequestSchema, { source: 'self_serve', companyName: 'A', plan: 'gold' }));
    const fieldErrors = refusal.details?.fieldErrors as Record<string, string>;
    expect(fieldErrors.companyName).toBe('at least 2 characters');
    expect(fieldErrors.plan).toBe('one of starter, team, enterprise');
    expect(Object.keys(fieldErrors).sort()).toEqual([...new Set(refusal.details?.fields as string[])].sort());
    for (const [field, message] of Object.entries(fieldErrors)) expect(refusal.message).toContain(`${field}: ${message}`);
  });
});
