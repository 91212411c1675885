// Issue 9: only the provisioning saga moves a tenant out of `provisioning`, and a rollback can only
// ever close a tenant that never opened. The lifecycle table, checked as data.
import { describe, expect, it } from 'vitest';
import { isAllowed, LIFECYCLE, LIFECYCLE_EVENTS, openingEvent, transition } from '../../functions/src/domain/lifecycle';
import { TENANT_STATUSES } from '../../functions/src/domain/status';

describe('leaving provisioning', () => {
  it('allows only the saga its events from provisioning: open in trial, open active, or roll back', () => {
    expect(LIFECYCLE_EVENTS.filter((event) => isAllowed('provisioning', event))).toEqual(['opened_trial', 'opened_active', 'provisioning_rolled_back']);
  });

  it('opens to trial or active, and rolls back to failed, from provisioning only', () => {
    expect(transition('provisioning', 'opened_trial')).toEqual({ to: 'trial', effects: [] });
    expect(transition('provisioning', 'opened_active')).toEqual({ to: 'active', effects: [] });
    // A rolled-back tenant gives back any domain it held (domain/domains.ts DOMAIN_RELEASING_STATUSES).
    expect(transition('provisioning', 'provisioning_rolled_back')).toEqual({ to: 'failed', effects: [{ type: 'releaseDomains' }] });
    for (const event of ['opened_trial', 'opened_active', 'provisioning_rolled_back'] as const) {
      expect(LIFECYCLE[event].from).toEqual(['provisioning']);
    }
  });

  it('refuses to roll back a tenant that opened, whatever status it is in now', () => {
    for (const status of TENANT_STATUSES.filter((s) => s !== 'provisioning')) {
      expect(() => transition(status, 'provisioning_rolled_back'), status).toThrow(expect.objectContaining({ code: 'failed-precondition' }));
    }
  });

  it('opens a tenant with a trial end in trial, and one without (a sales tenant live at go-live) active', () => {
    expect(openingEvent(new Date('2030-01-01'))).toBe('opened_trial');
    expect(openingEvent(null)).toBe('opened_active');
  });
});
