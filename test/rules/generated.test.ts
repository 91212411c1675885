// firestore.rules cannot drift from the policy table: its generated block must be exactly what the
// generator renders now, and the hand-written rest names no status or role of its own.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POLICY } from '../../functions/src/domain/policy';
import { TENANT_ROLES, TENANT_STATUSES } from '../../functions/src/domain/status';
import { BEGIN_MARKER, END_MARKER, renderGenerated, renderRules, RULES_PATH } from '../../scripts/generate-rules';

const rules = readFileSync(RULES_PATH, 'utf8');

describe('firestore.rules is generated from functions/src/domain/policy.ts', () => {
  it('the committed rules equal what scripts/generate-rules.ts renders (run it after editing the table)', () => {
    expect(rules).toBe(renderRules(rules));
  });

  it('a stale generated block is detected', () => {
    const stale = rules.replace("function statusAllowsRead(tenant) { return tenant.status in ['trial',", "function statusAllowsRead(tenant) { return tenant.status in ['suspended', 'trial',");
    expect(stale).not.toBe(rules);
    expect(stale).not.toBe(renderRules(stale));
    expect(renderRules(stale)).toBe(rules);
  });

  it('outside the generated block the rules name no status and no role but owner', () => {
    const handWritten = rules.slice(0, rules.indexOf(BEGIN_MARKER)) + rules.slice(rules.indexOf(END_MARKER));
    for (const name of [...TENANT_STATUSES, ...TENANT_ROLES.filter((role) => role !== 'owner'), 'super_admin', 'sales']) {
      expect(!handWritten.includes(`'${name}'`), `hand-written rules mention '${name}': move it into the policy table`).toBeTruthy();
    }
  });

  it('the generator refuses a grant the hand-written rules cannot enforce, and renders once it is gone', () => {
    const original = POLICY.invites.operations.create;
    try {
      POLICY.invites.operations.create = { roles: { owner: 'any' } };
      expect(() => renderGenerated()).toThrow(/invites\.create: 'roles' grants cannot be enforced/);
      POLICY.invites.operations.create = { staff: ['super_admin'] };
      expect(() => renderGenerated()).toThrow(/invites\.create: 'staff'/);
    } finally {
      POLICY.invites.operations.create = original;
    }
    expect(() => renderGenerated()).not.toThrow();
  });

  it('the generator refuses to give a client write to members or domain claims back (the seat ledger is the functions’)', () => {
    for (const collection of ['members', 'domains'] as const) {
      const original = POLICY[collection].operations.create;
      try {
        POLICY[collection].operations.create = { roles: { owner: 'any', admin: 'any' } };
        expect(() => renderGenerated()).toThrow(new RegExp(`${collection}\\.create: 'roles' grants cannot be enforced`));
      } finally {
        POLICY[collection].operations.create = original;
      }
    }
  });
});
