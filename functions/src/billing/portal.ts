import Stripe from 'stripe';
import { planPrices } from '../adapters/prices';
import { checkSeatsCoverUse, OpenBillingPortalSchema, portalFeatures, portalRefusal, PORTAL_CONFIGURATION_VERSION, type PortalKind } from '../domain/checkout';
import { DomainError } from '../domain/errors';
import { SELF_SERVE_PLAN_IDS } from '../domain/plans';
import { parseOrThrow } from '../domain/validation';
import { billingPageUrl, billingTenantOf, readTenantAndRole, seatsInUse, type BillingCallableDeps } from './access';

/**
 * `openBillingPortal` (the owner): a Stripe customer portal session to replace the card, change plan,
 * see invoices or cancel; with `seats`, a deep link that only asks to confirm that many seats (their
 * lower bound, the members and pending invites, is checked here, before Stripe). Every change made
 * there reaches the tenant through the webhook. Nothing is written on our side.
 */
export async function openBillingPortal(deps: BillingCallableDeps, caller: { uid: string }, input: unknown): Promise<{ url: string }> {
  const request = parseOrThrow(OpenBillingPortalSchema, input);
  const { db } = deps;
  const tenant = await db.runTransaction(
    async (tx) => {
      const { tenant, role } = await readTenantAndRole(tx, db, request.tenantId, caller.uid);
      const view = billingTenantOf(tenant);
      const refusal = portalRefusal({ role, emailVerified: true }, view, request.seats);
      if (refusal) throw refusal;
      if (request.seats !== undefined) checkSeatsCoverUse(view.name, request.seats, await seatsInUse(tx, tenant));
      return tenant;
    },
    { readOnly: true },
  );
  const view = billingTenantOf(tenant);
  const stripe = deps.stripe();
  const kind: PortalKind = view.invoiceBilled ? 'invoiced' : request.seats !== undefined ? 'seat_change' : 'self_serve';
  let flow: Stripe.BillingPortal.SessionCreateParams.FlowData | undefined;
  if (request.seats !== undefined) {
    const subscription = view.stripeSubscriptionId ? await stripe.subscriptions.retrieve(view.stripeSubscriptionId) : null;
    const item = subscription?.items.data[0];
    if (!subscription || !item || !['trialing', 'active', 'past_due'].includes(subscription.status)) {
      throw new DomainError('failed-precondition', `${view.name} has no plan in force to change the seats of: choose a plan first.`, { reason: 'no-subscription' });
    }
    flow = {
      type: 'subscription_update_confirm',
      subscription_update_confirm: { subscription: subscription.id, items: [{ id: item.id, quantity: request.seats }] },
      after_completion: { type: 'redirect', redirect: { return_url: billingPageUrl(deps.appUrl, tenant, '?portal=seats') } },
    };
  }
  const create = async (configuration: string) =>
    stripe.billingPortal.sessions.create({ customer: view.stripeCustomerId!, configuration, return_url: billingPageUrl(deps.appUrl, tenant), ...(flow ? { flow_data: flow } : {}) });
  try {
    return { url: (await create(await portalConfiguration(stripe, kind))).url };
  } catch (error) {
    // A configuration remembered from before (deleted, or another Stripe account): find or make it again, once.
    if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.param !== 'configuration') throw error;
    configurations.delete(kind);
    return { url: (await create(await portalConfiguration(stripe, kind))).url };
  }
}

/** The portal configuration of each kind, per process: found by its metadata, made once when missing. */
const configurations = new Map<PortalKind, string>();

/**
 * The product's portal configuration (domain/checkout.ts `portalFeatures`), made through the API so
 * that it is the same everywhere (a Dashboard-saved default could allow anything): found by its
 * metadata, else created (with a key, so instances racing make one).
 */
async function portalConfiguration(stripe: Stripe, kind: PortalKind): Promise<string> {
  const known = configurations.get(kind);
  if (known) return known;
  for await (const configuration of stripe.billingPortal.configurations.list({ active: true, limit: 100 })) {
    if (configuration.metadata?.tenancyPortal === kind && configuration.metadata?.version === PORTAL_CONFIGURATION_VERSION) {
      configurations.set(kind, configuration.id);
      return configuration.id;
    }
  }
  const prices = await planPrices(stripe);
  const products = SELF_SERVE_PLAN_IDS.map((plan) => ({ product: prices[plan].product, prices: [prices[plan].id] }));
  const created = await stripe.billingPortal.configurations.create(
    {
      business_profile: { headline: 'Your organisation’s billing' },
      features: portalFeatures(kind, products) as Stripe.BillingPortal.ConfigurationCreateParams.Features,
      metadata: { tenancyPortal: kind, version: PORTAL_CONFIGURATION_VERSION },
    },
    { idempotencyKey: `portal-configuration:${kind}:v${PORTAL_CONFIGURATION_VERSION}` },
  );
  configurations.set(kind, created.id);
  return created.id;
}
