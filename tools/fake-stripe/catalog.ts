// What a fresh account holds before any API call, as a sandbox whose products and prices were made in
// the Dashboard: the products and prices of the plan catalog, found by their lookup keys
// (functions/src/domain/plans.ts names them; a test checks that every plan's price exists here). Stripe
// makes a price's id itself (the Prices API takes a lookup_key, never an id), so the simulator does too.
// And Stripe's test cards.
import { createHash } from 'node:crypto';
import type { CardBehavior, Interval } from './state';

export interface CatalogPrice {
  product: { id: string; name: string };
  unit_amount: number;
  currency: string;
  interval: Interval;
  interval_count?: number;
  lookup_key: string;
}

/** Per-seat prices (quantity = seats). Products may carry ids of one's choosing; prices may not. */
export const DEFAULT_CATALOG: CatalogPrice[] = [
  { product: { id: 'prod_starter', name: 'Starter' }, unit_amount: 900, currency: 'usd', interval: 'month', lookup_key: 'starter_monthly' },
  { product: { id: 'prod_team', name: 'Team' }, unit_amount: 1900, currency: 'usd', interval: 'month', lookup_key: 'team_monthly' },
  { product: { id: 'prod_enterprise', name: 'Enterprise' }, unit_amount: 24000, currency: 'usd', interval: 'year', lookup_key: 'enterprise_annual' },
];

/**
 * The id a catalog price gets in an account: made like Stripe's (`price_` and 24 letters and digits, nothing
 * the code could guess from the plan), the same for a key each time, so an account reset keeps its ids.
 * Product code finds prices by lookup key; only the simulator's own tests use this.
 */
export function catalogPriceId(apiKey: string, lookupKey: string): string {
  const digest = createHash('sha256').update(`${apiKey}\u0000${lookupKey}`).digest('base64').replace(/[^A-Za-z0-9]/g, '');
  return `price_1${digest.slice(0, 23)}`;
}

const declined = (decline_code: string, message = 'Your card was declined.', code = 'card_declined') => ({ code, decline_code, message });

export interface TestCard {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit';
  behavior: CardBehavior;
}

/**
 * Stripe's test PaymentMethod tokens (docs.stripe.com/testing). Attaching a token makes a new `pm_…`
 * with the card's behaviour. The declining cards are refused when attached (Stripe validates a card it
 * saves); `pm_card_chargeCustomerFail` ("decline after attaching") attaches and then declines every charge.
 */
export const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit', behavior: { attach: 'succeed', charge: 'succeed' } },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', funding: 'debit', behavior: { attach: 'succeed', charge: 'succeed' } },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit', behavior: { attach: 'succeed', charge: 'succeed' } },
  pm_card_amex: { brand: 'amex', last4: '8431', funding: 'credit', behavior: { attach: 'succeed', charge: 'succeed' } },
  pm_card_chargeCustomerFail: { brand: 'visa', last4: '0341', funding: 'credit', behavior: { attach: 'succeed', charge: declined('generic_decline') } },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3184',
    funding: 'credit',
    behavior: {
      attach: 'succeed',
      charge: { ...declined('authentication_required', 'Your card was declined. This transaction requires authentication.', 'authentication_required'), requires_action: true },
    },
  },
  pm_card_chargeDeclined: { brand: 'visa', last4: '0002', funding: 'credit', behavior: { attach: declined('generic_decline'), charge: declined('generic_decline') } },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    funding: 'credit',
    behavior: { attach: declined('insufficient_funds', 'Your card has insufficient funds.'), charge: declined('insufficient_funds', 'Your card has insufficient funds.') },
  },
  pm_card_chargeDeclinedLostCard: { brand: 'visa', last4: '9987', funding: 'credit', behavior: { attach: declined('lost_card'), charge: declined('lost_card') } },
  pm_card_chargeDeclinedStolenCard: { brand: 'visa', last4: '9979', funding: 'credit', behavior: { attach: declined('stolen_card'), charge: declined('stolen_card') } },
  pm_card_chargeDeclinedExpiredCard: {
    brand: 'visa',
    last4: '0069',
    funding: 'credit',
    behavior: { attach: declined('expired_card', 'Your card has expired.', 'expired_card'), charge: declined('expired_card', 'Your card has expired.', 'expired_card') },
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    funding: 'credit',
    behavior: {
      attach: declined('processing_error', 'An error occurred while processing your card. Try again in a little bit.', 'processing_error'),
      charge: declined('processing_error', 'An error occurred while processing your card. Try again in a little bit.', 'processing_error'),
    },
  },
};
