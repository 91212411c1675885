// Renders the policy-dependent part of firestore.rules from functions/src/domain/policy.ts.
//   node --import tsx scripts/generate-rules.ts          rewrite the generated block in place
//   node --import tsx scripts/generate-rules.ts --check  exit 1 if firestore.rules is stale
//
// Only the block between the GENERATED markers is rendered: helper functions that list, for the
// current request.method, which roles, staff claims and relations are granted, plus the status table.
// The match blocks stay hand-written because they also validate document shapes, which read better
// as rules than as strings in a script. They apply every helper uniformly, so a change to the table
// needs no edit of them; where the table asks for something they cannot express (a client write
// with no shape check, a grant on a query that rules cannot prove), this script refuses to render.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ASSIGNABLE_ROLES,
  BILLING_VIEW,
  OPERATIONS,
  POLICY,
  POLICY_COLLECTIONS,
  STATUS_ACCESS,
  TENANT_CLIENT_FIELDS,
  WRITE_BLOCKING_RETRIES,
  type Operation,
  type OperationGrants,
  type PolicyCollection,
} from '../functions/src/domain/policy';
import { TENANT_ROLES, TENANT_STATUSES } from '../functions/src/domain/status';

export const RULES_PATH = 'firestore.rules';
export const BEGIN_MARKER = '// BEGIN GENERATED';
export const END_MARKER = '// END GENERATED';

type GrantKind = 'roles' | 'ownRoles' | 'staff' | 'self' | 'requester' | 'tenantOwner';

/** What the hand-written match blocks can enforce: grant kind -> operations, per collection. */
const EXPRESSIBLE: Record<PolicyCollection, Partial<Record<GrantKind, readonly Operation[]>>> = {
  // A tenant list has no single tenant to look a role up in; create and delete are functions' job.
  tenant: { roles: ['get', 'update'], staff: ['get', 'list'] },
  // Memberships, invites and domain claims move the seat ledger, send mail or decide by DNS: written by
  // functions only, so the rules have no client shape check for them.
  members: { roles: ['get', 'list'], staff: ['get', 'list'], self: ['get', 'list'] },
  invites: { roles: ['get', 'list'], staff: ['get', 'list'] },
  domains: { roles: ['get', 'list'], staff: ['get', 'list'] },
  records: { roles: OPERATIONS, ownRoles: OPERATIONS, staff: ['get', 'list'] },
  // The tenant owner is found through a get() keyed by the job's own field: single documents only.
  provisioningJobs: { staff: ['get', 'list'], requester: ['get', 'list'], tenantOwner: ['get'] },
  mail: {},
};

/** The helper functions each collection needs in the rules, whether or not the table uses them today. */
const RENDERED: Record<PolicyCollection, readonly GrantKind[]> = {
  tenant: ['roles', 'staff'],
  members: ['roles', 'staff', 'self'],
  invites: ['roles', 'staff'],
  domains: ['roles', 'staff'],
  records: ['roles', 'ownRoles', 'staff'],
  provisioningJobs: ['staff', 'requester', 'tenantOwner'],
  mail: [],
};

const VALIDATED_TENANT_FIELDS = ['name'];

function granted(grants: OperationGrants, kind: GrantKind): string[] {
  const roles = Object.entries(grants.roles ?? {});
  switch (kind) {
    case 'roles':
      return TENANT_ROLES.filter((role) => roles.some(([r, g]) => r === role && g === 'any'));
    case 'ownRoles':
      return TENANT_ROLES.filter((role) => roles.some(([r, g]) => r === role && g === 'own'));
    case 'staff':
      return [...(grants.staff ?? [])];
    default:
      return grants[kind] ? ['yes'] : [];
  }
}

/** Throws when the table grants something the hand-written rules could not enforce. */
export function assertExpressible(): void {
  const problems: string[] = [];
  for (const collection of POLICY_COLLECTIONS) {
    for (const operation of OPERATIONS) {
      const grants = POLICY[collection].operations[operation];
      for (const kind of ['roles', 'ownRoles', 'staff', 'self', 'requester', 'tenantOwner'] as const) {
        if (granted(grants, kind).length && !(EXPRESSIBLE[collection][kind] ?? []).includes(operation)) {
          problems.push(`${collection}.${operation}: '${kind}' grants cannot be enforced by firestore.rules as written`);
        }
      }
    }
  }
  const fields = TENANT_CLIENT_FIELDS.filter((field) => !VALIDATED_TENANT_FIELDS.includes(field));
  if (fields.length) problems.push(`TENANT_CLIENT_FIELDS: no validation in firestore.rules for ${fields.join(', ')}`);
  if (BILLING_VIEW.collection !== 'tenant' || BILLING_VIEW.operations.some((op) => op !== 'get')) {
    problems.push('BILLING_VIEW: firestore.rules implements it for the tenant document get only');
  }
  for (const [role, assignable] of Object.entries(ASSIGNABLE_ROLES)) {
    if (assignable.includes('owner')) problems.push(`ASSIGNABLE_ROLES.${role}: 'owner' changes hands only by an ownership transfer`);
  }
  if (problems.length) throw new Error(`The policy table asks for what the rules cannot enforce:\n- ${problems.join('\n- ')}`);
}

const list = (items: readonly string[]) => `[${items.map((item) => `'${item}'`).join(', ')}]`;

/** `request.method in [...] ? [...] : ... : []`, grouping the operations that share a value. */
function byMethod(valueOf: (operation: Operation) => string[]): string {
  const groups = new Map<string, Operation[]>();
  for (const operation of OPERATIONS) {
    const value = valueOf(operation);
    if (!value.length) continue;
    const key = list(value);
    groups.set(key, [...(groups.get(key) ?? []), operation]);
  }
  return [...groups].map(([value, ops]) => `request.method in ${list(ops)} ? ${value}\n    : `).join('') + '[]';
}

function methodsWith(valueOf: (operation: Operation) => boolean): string {
  const ops = OPERATIONS.filter(valueOf);
  return ops.length ? `request.method in ${list(ops)}` : 'false';
}

const FUNCTION_SUFFIX: Record<GrantKind, string> = {
  roles: 'Roles',
  ownRoles: 'OwnRoles',
  staff: 'Staff',
  self: 'Self',
  requester: 'Requester',
  tenantOwner: 'TenantOwner',
};

const KIND_COMMENT: Record<GrantKind, string> = {
  roles: 'tenant roles granted every document',
  ownRoles: 'tenant roles granted only documents they authored',
  staff: "platform staff (claim 'platform')",
  self: 'methods open to a caller on documents naming them (uid)',
  requester: 'methods open to the requester (requestedBy)',
  tenantOwner: "methods open to the owner (ownerUid) of the job's tenant (tenantId)",
};

export function renderGenerated(indent = '    '): string {
  assertExpressible();
  const statuses = (pick: (s: (typeof TENANT_STATUSES)[number]) => boolean) => list(TENANT_STATUSES.filter(pick));
  const lines: string[] = [
    `${BEGIN_MARKER} from functions/src/domain/policy.ts by scripts/generate-rules.ts: edit the table, then run`,
    '// `node --import tsx scripts/generate-rules.ts`; a test fails when this block is stale.',
    '',
    '// Status table (CONTRACT.md): what a tenant in each status leaves its members. `tenant` is its data.',
    `function statusAllowsRead(tenant) { return tenant.status in ${statuses((s) => STATUS_ACCESS[s].read === 'role')}; }`,
    `function statusAllowsBillingView(tenant) { return tenant.status in ${statuses((s) => STATUS_ACCESS[s].read === 'billingView')}; }`,
    'function statusAllowsWrite(tenant) {',
    `  return tenant.status in ${statuses((s) => STATUS_ACCESS[s].write === 'role')}`,
    `    || (tenant.status in ${statuses((s) => STATUS_ACCESS[s].write === 'untilFailedRetry')} && tenant.get('failedPaymentRetries', 0) < ${WRITE_BLOCKING_RETRIES});`,
    '}',
    `// The roles that keep ${list(BILLING_VIEW.operations)} on the tenant document in billing-view statuses.`,
    `function billingViewRoles() { return ${methodsWith((op) => (BILLING_VIEW.operations as readonly Operation[]).includes(op))} ? ${list(BILLING_VIEW.roles)} : []; }`,
    `// The tenant fields a client may change; every other field is server-owned.`,
    `function tenantClientFields() { return ${list(TENANT_CLIENT_FIELDS)}; }`,
  ];
  for (const collection of POLICY_COLLECTIONS) {
    const kinds = RENDERED[collection];
    if (!kinds.length) continue;
    lines.push('', `// ${POLICY[collection].path}: grants for the current request.method.`);
    for (const kind of kinds) {
      const name = `${collection}${FUNCTION_SUFFIX[kind]}`;
      const grantsOf = (op: Operation) => POLICY[collection].operations[op];
      const body = ['roles', 'ownRoles', 'staff'].includes(kind)
        ? byMethod((op) => granted(grantsOf(op), kind))
        : methodsWith((op) => granted(grantsOf(op), kind).length > 0);
      lines.push(`// ${KIND_COMMENT[kind]}`, `function ${name}() {`, `  return ${body};`, '}');
    }
  }
  lines.push(END_MARKER);
  return lines.map((line) => (line ? `${indent}${line.replace(/\n/g, `\n${indent}`)}` : '')).join('\n');
}

/** `current` with its generated block replaced by a fresh rendering. */
export function renderRules(current: string): string {
  const begin = current.indexOf(BEGIN_MARKER);
  const end = current.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${RULES_PATH} lacks the '${BEGIN_MARKER}' ... '${END_MARKER}' block`);
  const lineStart = current.lastIndexOf('\n', begin) + 1;
  const indent = current.slice(lineStart, begin);
  return current.slice(0, lineStart) + renderGenerated(indent) + current.slice(end + END_MARKER.length);
}

function main() {
  const path = join(process.cwd(), RULES_PATH);
  const current = readFileSync(path, 'utf8');
  const rendered = renderRules(current);
  if (process.argv.includes('--check')) {
    if (rendered !== current) {
      console.error(`${RULES_PATH} is stale: run \`node --import tsx scripts/generate-rules.ts\``);
      process.exit(1);
    }
    console.log(`${RULES_PATH} matches the policy table`);
    return;
  }
  if (rendered !== current) writeFileSync(path, rendered);
  console.log(rendered === current ? `${RULES_PATH} already up to date` : `${RULES_PATH} regenerated`);
}

if (/generate-rules\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) main();
