/** Tenant statuses of CONTRACT.md; the lifecycle transitions between them live beside this. */
export const TENANT_STATUSES = [
  'provisioning',
  'trial',
  'trial_expired',
  'active',
  'past_due',
  'suspended',
  'cancelled',
  'failed',
] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'compensating', 'rolled_back'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TENANT_ROLES = ['owner', 'admin', 'manager', 'member', 'viewer'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const PLATFORM_ROLES = ['super_admin', 'sales'] as const;
export type PlatformRole = (typeof PLATFORM_ROLES)[number];

export const TENANT_SOURCES = ['self_serve', 'sales'] as const;
export type TenantSource = (typeof TENANT_SOURCES)[number];
