/**
 * The plan catalog: data, so a product edits one table to change its offer. Each plan's Stripe price is
 * found by its `lookup_key` (adapters/prices.ts): Stripe makes price ids, so none is written here.
 */
export const PLANS = {
  starter: { label: 'Starter', stripeLookupKey: 'starter_monthly', trialDays: 14, seatCap: 5, pendingInviteLimit: 10, inviteExpiryDays: 7, selfServe: true },
  team: { label: 'Team', stripeLookupKey: 'team_monthly', trialDays: 14, seatCap: 25, pendingInviteLimit: 50, inviteExpiryDays: 7, selfServe: true },
  enterprise: { label: 'Enterprise', stripeLookupKey: 'enterprise_annual', trialDays: 30, seatCap: 250, pendingInviteLimit: 500, inviteExpiryDays: 14, selfServe: false },
} as const;

export type PlanId = keyof typeof PLANS;
export type Plan = (typeof PLANS)[PlanId];
export const PLAN_IDS = Object.keys(PLANS) as [PlanId, ...PlanId[]];
export const SELF_SERVE_PLAN_IDS = PLAN_IDS.filter((id) => PLANS[id].selfServe);

export const MAX_SEAT_CAP = 10_000;

/** Where a person gets more seats or changes plan (the workspace's billing page): every seat-limit message points there. */
export const billingPath = (tenantKey: string) => `/app/${encodeURIComponent(tenantKey)}/billing`;
/** Sales tenants are billed by invoice; unless the contract says otherwise, each is due this many days after it is sent. */
export const DEFAULT_DAYS_UNTIL_DUE = 30;

/** Stripe refuses a subscription trial_end more than two years ahead. (Here, not in provisioning.ts, so the web app can import it.) */
export const MAX_TRIAL_AHEAD_DAYS = 730;
