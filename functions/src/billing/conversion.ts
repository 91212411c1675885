import type { DocumentSnapshot } from 'firebase-admin/firestore';
import { logger } from 'firebase-functions';
import Stripe from 'stripe';
import { planPriceId } from '../adapters/prices';
import { billingKeys, CheckoutMetadataSchema, conversionStep, type CheckoutChoice, type ConversionStep } from '../domain/checkout';
import type { CardOnFile, StripeSubscriptionStatus } from '../domain/billing';

/** What a completed Checkout did to the tenant's subscription in Stripe. */
export type ConversionResult =
  | {
      outcome: 'converted';
      step: ConversionStep;
      choice: CheckoutChoice;
      /** The tenant's subscription afterwards: the same one, or a new one when the old had ended. */
      subscriptionId: string;
      card: CardOnFile | null;
    }
  /** The card was saved by Checkout but declined when charged: everything was put back as it was. */
  | { outcome: 'declined'; step: ConversionStep; choice: CheckoutChoice; message: string; declineCode: string | null; card: CardOnFile | null }
  /** Not a session this product made for this tenant, or not complete: nothing was done. */
  | { outcome: 'unusable'; reason: string };

class Declined extends Error {
  constructor(
    message: string,
    readonly declineCode: string | null,
  ) {
    super(message);
  }
}

const isCardError = (error: unknown): error is Stripe.errors.StripeCardError => error instanceof Stripe.errors.StripeCardError;

/**
 * A completed setup-mode Checkout for `tenant`: the saved card becomes the customer's default and
 * the tenant's one subscription is converted to the chosen plan and seats (domain/checkout.ts
 * `conversionStep`), each change charged in the request that makes it. A decline puts everything
 * back: the previous default card, the items, and the saved card is detached; nothing is charged.
 * Every Stripe request carries an idempotency key derived from the session, so a redelivered event
 * (or a second event for the same session) replays the same answers and changes nothing twice.
 */
export async function completeCheckout(stripe: Stripe, tenant: DocumentSnapshot, sessionId: string): Promise<ConversionResult> {
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['setup_intent.payment_method', 'customer'] });
  const parsed = CheckoutMetadataSchema.safeParse(session.metadata ?? {});
  if (session.mode !== 'setup' || session.status !== 'complete') return { outcome: 'unusable', reason: `session ${session.mode} ${session.status}` };
  if (!parsed.success || parsed.data.tenantId !== tenant.id) return { outcome: 'unusable', reason: 'session not made for this tenant by startCheckout' };
  const choice = parsed.data;
  const intent = session.setup_intent as Stripe.SetupIntent | null;
  const pm = intent?.payment_method as Stripe.PaymentMethod | null | undefined;
  if (!pm || intent?.status !== 'succeeded') return { outcome: 'unusable', reason: 'no card was saved' };
  const customer = session.customer as Stripe.Customer;
  const previousDefault = (customer.invoice_settings?.default_payment_method as string | null | undefined) ?? null;
  const card = pm.card ? { brand: pm.card.brand, last4: pm.card.last4 } : null;
  const key = (what: string) => ({ idempotencyKey: billingKeys.conversion(session.id, what) });
  const price = await planPriceId(stripe, choice.plan);

  const currentId = tenant.get('stripeSubscriptionId') as string | null | undefined;
  const current = currentId ? await stripe.subscriptions.retrieve(currentId) : null;
  const step = conversionStep((current?.status ?? 'canceled') as StripeSubscriptionStatus);
  const item = current?.items.data[0];
  const itemsChange = item ? [{ id: item.id, price, quantity: choice.seats }] : [];
  const sameItems = item?.price.id === price && item.quantity === choice.seats;

  await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } }, key('default-card'));
  try {
    let subscriptionId = current?.id ?? '';
    switch (step) {
      case 'end_trial':
        // One request: the new items and the trial's end, charged at once; a decline (402) changes nothing.
        await stripe.subscriptions.update(
          current!.id,
          { items: itemsChange, trial_end: 'now', proration_behavior: 'none', payment_behavior: 'error_if_incomplete' },
          key('end-trial'),
        );
        break;
      case 'resume': {
        // Paused at trial end: no prorations while paused, so the items change first, then the resume charges a full period.
        if (!sameItems) await stripe.subscriptions.update(current!.id, { items: itemsChange, proration_behavior: 'none' }, key('items'));
        const resumed = await stripe.subscriptions.resume(current!.id, { billing_cycle_anchor: { type: 'now' }, payment_behavior: 'resume_on_payment_success' }, key('resume'));
        if (resumed.status !== 'active') {
          const failure = await paymentFailure(stripe, resumed);
          await undoResume(stripe, resumed, item!, sameItems, key);
          throw new Declined(failure.message, failure.declineCode);
        }
        break;
      }
      case 'pay_open_invoice': {
        const invoiceId = typeof current!.latest_invoice === 'string' ? current!.latest_invoice : current!.latest_invoice?.id;
        const invoice = invoiceId ? await stripe.invoices.retrieve(invoiceId) : null;
        if (invoice?.status === 'open') await stripe.invoices.pay(invoice.id, { payment_method: pm.id }, key('pay'));
        if (!sameItems) await stripe.subscriptions.update(current!.id, { items: itemsChange, proration_behavior: 'create_prorations' }, key('items'));
        break;
      }
      case 'subscribe': {
        // The old subscription has ended, so a new one keeps the tenant at one live subscription; nothing is made if the charge fails.
        const made = await stripe.subscriptions.create(
          { customer: customer.id, items: [{ price, quantity: choice.seats }], payment_behavior: 'error_if_incomplete', metadata: { tenantId: tenant.id, checkoutSession: session.id } },
          key('subscribe'),
        );
        subscriptionId = made.id;
        break;
      }
      case 'save_card':
        break;
    }
    return { outcome: 'converted', step, choice, subscriptionId, card };
  } catch (error) {
    if (!isCardError(error) && !(error instanceof Declined)) throw error;
    const declineCode = error instanceof Declined ? error.declineCode : (error.decline_code ?? error.code ?? null);
    // Put the card back as it was: the previous default, and the declined card no longer saved.
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: previousDefault ?? '' } }, key('restore-default-card'));
    await stripe.paymentMethods.detach(pm.id, undefined, key('detach-declined-card')).catch((detachError: unknown) => {
      logger.warn('completeCheckout: could not detach the declined card', { pm: pm.id, error: String(detachError) });
    });
    return { outcome: 'declined', step, choice, message: error.message, declineCode, card };
  }
}

/** Why the resume's charge failed, from its invoice's payment. */
async function paymentFailure(stripe: Stripe, subscription: Stripe.Subscription): Promise<{ message: string; declineCode: string | null }> {
  const invoiceId = typeof subscription.latest_invoice === 'string' ? subscription.latest_invoice : subscription.latest_invoice?.id;
  const fallback = { message: 'Your card was declined.', declineCode: null };
  if (!invoiceId) return fallback;
  const invoice = await stripe.invoices.retrieve(invoiceId, { expand: ['payments.data.payment.payment_intent'] });
  const intent = invoice.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent | string | undefined;
  const error = typeof intent === 'object' ? intent.last_payment_error : null;
  return error ? { message: error.message ?? fallback.message, declineCode: error.decline_code ?? error.code ?? null } : fallback;
}

/** A resume whose charge failed stays paused with an open invoice Stripe would retry: void it, and restore the items. */
async function undoResume(
  stripe: Stripe,
  subscription: Stripe.Subscription,
  item: Stripe.SubscriptionItem,
  sameItems: boolean,
  key: (what: string) => { idempotencyKey: string },
): Promise<void> {
  const invoiceId = typeof subscription.latest_invoice === 'string' ? subscription.latest_invoice : subscription.latest_invoice?.id;
  if (invoiceId) {
    const invoice = await stripe.invoices.retrieve(invoiceId);
    if (invoice.status === 'open') await stripe.invoices.voidInvoice(invoiceId, undefined, key('void-resume-invoice'));
  }
  if (!sameItems) {
    await stripe.subscriptions.update(subscription.id, { items: [{ id: item.id, price: item.price.id, quantity: item.quantity }], proration_behavior: 'none' }, key('restore-items'));
  }
}
