/**
 * Who may read and write what from a client: the one source of truth for `firestore.rules`
 * (rendered from this table by scripts/generate-rules.ts), for the rules tests (generated from it)
 * and for functions' own checks (`canAccess`). Pure data and pure functions: no firebase import.
 */
import { TENANT_ROLES, type PlatformRole, type TenantRole, type TenantStatus } from './status';

export const OPERATIONS = ['get', 'list', 'create', 'update', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];
export const READ_OPERATIONS: readonly Operation[] = ['get', 'list'];
export const isRead = (operation: Operation) => READ_OPERATIONS.includes(operation);

/**
 * The collections a client can name. `tenant` is the tenant document itself; `mail` stands for
 * every server-only collection (mail, signups, slugs, Stripe events, history, anything unnamed):
 * it has no grants, and the rules have no `match` for it, so it is denied by default.
 */
export const POLICY_COLLECTIONS = ['tenant', 'members', 'invites', 'domains', 'records', 'provisioningJobs', 'mail'] as const;
export type PolicyCollection = (typeof POLICY_COLLECTIONS)[number];

/** `any`: every document of the collection; `own`: only documents whose author field names the caller. */
export type Grant = 'any' | 'own';

export interface OperationGrants {
  /** Tenant roles (from the caller's membership document), subject to the status table. */
  roles?: Partial<Record<TenantRole, Grant>>;
  /** Platform staff (custom claim `platform`); reads only, in every status (support needs failed tenants too). */
  staff?: readonly PlatformRole[];
  /** provisioningJobs: the uid in the job's `requestedBy` (for `list`, a query filtered on it). */
  requester?: boolean;
  /** provisioningJobs: the `ownerUid` of the tenant named by the job's `tenantId` (single documents only). */
  tenantOwner?: boolean;
  /** members: any signed-in caller reads membership documents whose `uid` is theirs, in every status. */
  self?: boolean;
}

export interface CollectionPolicy {
  /** Where its documents live, for the docs. */
  path: string;
  /** Tenant data: the status table applies to role grants. */
  tenantData: boolean;
  /** The field that makes a document the caller's own (`own` grants, `requester`, `self`). */
  authorField?: string;
  operations: Record<Operation, OperationGrants>;
}

const ALL_ROLES = Object.fromEntries(TENANT_ROLES.map((role) => [role, 'any'])) as Record<TenantRole, Grant>;
const NONE: OperationGrants = {};

export const POLICY: Record<PolicyCollection, CollectionPolicy> = {
  tenant: {
    path: 'tenants/{tenantId}',
    tenantData: true,
    operations: {
      get: { roles: ALL_ROLES, staff: ['super_admin', 'sales'] },
      // Members open their tenant by id (found through their memberships); only staff browse all tenants.
      list: { staff: ['super_admin', 'sales'] },
      create: NONE,
      // Only the fields in TENANT_CLIENT_FIELDS (a rename); everything else is server-owned.
      update: { roles: { owner: 'any', admin: 'any' } },
      delete: NONE,
    },
  },
  members: {
    path: 'tenants/{tenantId}/members/{uid}',
    tenantData: true,
    authorField: 'uid',
    operations: {
      get: { roles: ALL_ROLES, staff: ['super_admin'], self: true },
      list: { roles: ALL_ROLES, staff: ['super_admin'], self: true },
      // Written by functions only, in one transaction with the seat ledger (functions/src/team/).
      create: NONE,
      update: NONE,
      delete: NONE,
    },
  },
  invites: {
    path: 'tenants/{tenantId}/invites/{inviteId}',
    tenantData: true,
    operations: {
      get: { roles: { owner: 'any', admin: 'any' }, staff: ['super_admin'] },
      list: { roles: { owner: 'any', admin: 'any' }, staff: ['super_admin'] },
      // Written by functions only (seat cap, pending-invite limit, mail).
      create: NONE,
      update: NONE,
      delete: NONE,
    },
  },
  domains: {
    path: 'tenants/{tenantId}/domains/{domain}',
    tenantData: true,
    operations: {
      // The TXT record to add, the claim's status and what the last check saw: the domain page.
      get: { roles: { owner: 'any', admin: 'any' }, staff: ['super_admin'] },
      list: { roles: { owner: 'any', admin: 'any' }, staff: ['super_admin'] },
      // Written by functions only (the DNS check decides; one domain per tenant).
      create: NONE,
      update: NONE,
      delete: NONE,
    },
  },
  records: {
    path: 'tenants/{tenantId}/records/{recordId}',
    tenantData: true,
    authorField: 'createdBy',
    operations: {
      get: { roles: ALL_ROLES, staff: ['super_admin'] },
      list: { roles: ALL_ROLES, staff: ['super_admin'] },
      create: { roles: { owner: 'any', admin: 'any', manager: 'any', member: 'own' } },
      update: { roles: { owner: 'any', admin: 'any', manager: 'any', member: 'own' } },
      delete: { roles: { owner: 'any', admin: 'any', manager: 'any' } },
    },
  },
  provisioningJobs: {
    path: 'provisioningJobs/{jobId}',
    tenantData: false,
    authorField: 'requestedBy',
    operations: {
      get: { staff: ['super_admin', 'sales'], requester: true, tenantOwner: true },
      list: { staff: ['super_admin', 'sales'], requester: true },
      create: NONE,
      update: NONE,
      delete: NONE,
    },
  },
  mail: {
    path: 'mail/{id} (and every collection not named above)',
    tenantData: false,
    operations: { get: NONE, list: NONE, create: NONE, update: NONE, delete: NONE },
  },
};

/** What a tenant status allows its members (CONTRACT.md, "Access by state"). */
export interface StatusAccess {
  /** `role`: by role; `billingView`: only BILLING_VIEW; `none`: nothing. */
  read: 'role' | 'billingView' | 'none';
  /** `role`: by role; `untilFailedRetry`: by role while `failedPaymentRetries` < WRITE_BLOCKING_RETRIES. */
  write: 'role' | 'untilFailedRetry' | 'none';
}

export const STATUS_ACCESS: Record<TenantStatus, StatusAccess> = {
  provisioning: { read: 'none', write: 'none' },
  trial: { read: 'role', write: 'role' },
  trial_expired: { read: 'role', write: 'none' },
  active: { read: 'role', write: 'role' },
  past_due: { read: 'role', write: 'untilFailedRetry' },
  suspended: { read: 'billingView', write: 'none' },
  cancelled: { read: 'billingView', write: 'none' },
  failed: { read: 'none', write: 'none' },
};

/** past_due writes stop at the first failed payment retry (tenant field `failedPaymentRetries`). */
export const WRITE_BLOCKING_RETRIES = 1;

/** In `billingView` statuses, these roles keep these operations, so the owner can see why and pay. */
export const BILLING_VIEW = { roles: ['owner'], collection: 'tenant', operations: ['get'] } as const satisfies {
  roles: readonly TenantRole[];
  collection: PolicyCollection;
  operations: readonly Operation[];
};

/** The tenant fields a client may change (with a role that may update the tenant); the rest is server-owned. */
export const TENANT_CLIENT_FIELDS = ['name'] as const;

/**
 * The roles each role may give (by invite or role change, both functions). Nobody gives above their
 * own rank, only the owner gives admin, and `owner` moves only by transferOwnership.
 */
export const ASSIGNABLE_ROLES: Record<TenantRole, readonly TenantRole[]> = {
  owner: ['admin', 'manager', 'member', 'viewer'],
  admin: ['manager', 'member', 'viewer'],
  manager: [],
  member: [],
  viewer: [],
};

/** Rank by rights, 0 = most (TENANT_ROLES is ordered owner > admin > manager > member > viewer). */
export const roleRank = (role: TenantRole) => TENANT_ROLES.indexOf(role);

export interface Principal {
  /** null: not signed in. */
  uid: string | null;
  platformRole?: PlatformRole | null;
  /** The role on the caller's membership of the tenant concerned, if any. */
  tenantRole?: TenantRole | null;
}

export interface AccessContext {
  /** The tenant's `failedPaymentRetries` (matters in past_due). */
  failedPaymentRetries?: number;
  /** The document's author field names the caller (for `list`: the query is filtered on it). */
  ownDocument?: boolean;
  /** provisioningJobs: the caller is the `ownerUid` of the job's tenant. */
  tenantOwner?: boolean;
}

export function statusAllowsRead(status: TenantStatus): boolean {
  return STATUS_ACCESS[status].read === 'role';
}

export function statusAllowsWrite(status: TenantStatus, failedPaymentRetries = 0): boolean {
  const { write } = STATUS_ACCESS[status];
  return write === 'role' || (write === 'untilFailedRetry' && failedPaymentRetries < WRITE_BLOCKING_RETRIES);
}

/**
 * May `principal` perform `operation` on a document of `collection` of a tenant in `status`?
 * Document-shape checks (record validation, the tenant's client fields) come on top: see
 * TENANT_CLIENT_FIELDS. Membership changes are functions' own checks (domain/team.ts).
 */
export function canAccess(
  principal: Principal,
  status: TenantStatus,
  collection: PolicyCollection,
  operation: Operation,
  context: AccessContext = {},
): boolean {
  if (!principal.uid) return false;
  const policy = POLICY[collection];
  const grants = policy.operations[operation];
  if (principal.platformRole && grants.staff?.includes(principal.platformRole)) return true;
  if (grants.self && context.ownDocument) return true;
  if (grants.requester && context.ownDocument) return true;
  if (grants.tenantOwner && context.tenantOwner) return true;
  const role = principal.tenantRole;
  if (!role) return false;
  const grant = grants.roles?.[role];
  const statusAllows = isRead(operation)
    ? statusAllowsRead(status)
    : statusAllowsWrite(status, context.failedPaymentRetries ?? 0);
  if (statusAllows && (grant === 'any' || (grant === 'own' && context.ownDocument === true))) return true;
  return (
    STATUS_ACCESS[status].read === 'billingView' &&
    collection === BILLING_VIEW.collection &&
    (BILLING_VIEW.operations as readonly Operation[]).includes(operation) &&
    (BILLING_VIEW.roles as readonly TenantRole[]).includes(role)
  );
}
