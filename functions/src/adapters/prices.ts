import type Stripe from 'stripe';
import { PLAN_IDS, PLANS, type PlanId } from '../domain/plans';

/** A plan's per-seat price as this Stripe account has it: the id Stripe made, and its product. */
export interface PlanPrice {
  id: string;
  product: string;
}

/** How long an instance trusts what it looked up: a price re-made under the same lookup key is picked up after this. */
const CACHE_MS = 10 * 60_000;
let cached: { at: number; prices: Record<PlanId, PlanPrice> } | undefined;

/**
 * Every plan's price, found by its `lookup_key` (PLANS[plan].stripeLookupKey) in one `prices.list` and
 * kept per instance: Stripe makes price ids itself, so they are never in code or configuration (README,
 * Deploying: create the prices with these lookup keys). A missing one throws, naming the lookup key.
 */
export async function planPrices(stripe: Stripe, now = Date.now()): Promise<Record<PlanId, PlanPrice>> {
  if (cached && now - cached.at < CACHE_MS) return cached.prices;
  const keys = PLAN_IDS.map((plan) => PLANS[plan].stripeLookupKey);
  const found = (await stripe.prices.list({ lookup_keys: keys, active: true, limit: 100 })).data;
  const prices = {} as Record<PlanId, PlanPrice>;
  for (const plan of PLAN_IDS) {
    const price = found.find((p) => p.lookup_key === PLANS[plan].stripeLookupKey);
    if (!price) throw new Error(`Stripe has no active price with lookup_key '${PLANS[plan].stripeLookupKey}' (plan ${plan}): create it (README, Deploying)`);
    prices[plan] = { id: price.id, product: typeof price.product === 'string' ? price.product : price.product.id };
  }
  cached = { at: now, prices };
  return prices;
}

export async function planPriceId(stripe: Stripe, plan: PlanId): Promise<string> {
  return (await planPrices(stripe))[plan].id;
}
