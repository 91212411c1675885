// What a fresh account holds before any API call, as a sandbox whose products and prices were made in
// the Dashboard: the products and prices of the plan catalog (functions/src/domain/plans.ts names
// these price ids; a test checks that every plan's price exists here). And Stripe's test cards.
import type { CardBehavior, Interval } from './state';

export interface CatalogPrice {
  id: string;
  product: { id: string; name: string };
  unit_amount: number;
  currency: string;
  interval: Interval;
  interval_count?: number;
  lookup_key?: string;
}

/** Per-seat prices (quantity = seats). Real Stripe makes price ids itself; a live catalog maps its own. */
export const DEFAULT_CATALOG: CatalogPrice[] = [
  { id: 'price_starter_monthly', product: { id: 'prod_starter', name: 'Starter' }, unit_amount: 900, currency: 'usd', interval: 'month', lookup_key: 'starter_monthly' },
  { id: 'price_team_monthly', product: { id: 'prod_team', name: 'Team' }, unit_amount: 1900, currency: 'usd', interval: 'month', lookup_key: 'team_monthly' },
  { id: 'price_enterprise_annual', product: { id: 'prod_enterprise', name: 'Enterprise' }, unit_amount: 24000, currency: 'usd', interval: 'year', lookup_key: 'enterprise_annual' },
];

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
