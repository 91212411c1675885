// The Stripe API routes the simulator answers. Anything else is Stripe's 404 "Unrecognized request URL".
import type { Handler } from './call';
import * as customers from './customers';
import * as events from './events';
import * as invoices from './invoices';
import * as prices from './prices';
import * as subscriptions from './subscriptions';
import * as clocks from './testClocks';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  handler: Handler;
}

const ID = '([A-Za-z0-9_]+)';
const path = (template: string) => new RegExp(`^${template.replace(/:id/g, ID)}$`);

export const ROUTES: Route[] = [
  { method: 'POST', pattern: path('/v1/customers'), handler: customers.createCustomer },
  { method: 'GET', pattern: path('/v1/customers'), handler: customers.listCustomers },
  { method: 'GET', pattern: path('/v1/customers/:id'), handler: customers.retrieveCustomer },
  { method: 'POST', pattern: path('/v1/customers/:id'), handler: customers.updateCustomer },
  { method: 'DELETE', pattern: path('/v1/customers/:id'), handler: customers.deleteCustomer },
  { method: 'GET', pattern: path('/v1/customers/:id/payment_methods'), handler: customers.listCustomerPaymentMethods },

  { method: 'GET', pattern: path('/v1/payment_methods'), handler: customers.listPaymentMethods },
  { method: 'GET', pattern: path('/v1/payment_methods/:id'), handler: customers.retrievePaymentMethod },
  { method: 'POST', pattern: path('/v1/payment_methods/:id/attach'), handler: customers.attachHandler },
  { method: 'POST', pattern: path('/v1/payment_methods/:id/detach'), handler: customers.detachHandler },

  { method: 'POST', pattern: path('/v1/products'), handler: prices.createProduct },
  { method: 'GET', pattern: path('/v1/products'), handler: prices.listProducts },
  { method: 'GET', pattern: path('/v1/products/:id'), handler: prices.retrieveProduct },
  { method: 'POST', pattern: path('/v1/prices'), handler: prices.createPrice },
  { method: 'GET', pattern: path('/v1/prices'), handler: prices.listPrices },
  { method: 'GET', pattern: path('/v1/prices/:id'), handler: prices.retrievePrice },
  { method: 'POST', pattern: path('/v1/prices/:id'), handler: prices.updatePrice },

  { method: 'POST', pattern: path('/v1/subscriptions'), handler: subscriptions.createSubscription },
  { method: 'GET', pattern: path('/v1/subscriptions'), handler: subscriptions.listSubscriptions },
  { method: 'GET', pattern: path('/v1/subscriptions/:id'), handler: subscriptions.retrieveSubscription },
  { method: 'POST', pattern: path('/v1/subscriptions/:id'), handler: subscriptions.updateSubscription },
  { method: 'DELETE', pattern: path('/v1/subscriptions/:id'), handler: subscriptions.cancelSubscription },
  { method: 'POST', pattern: path('/v1/subscriptions/:id/pause'), handler: subscriptions.pauseSubscription },
  { method: 'POST', pattern: path('/v1/subscriptions/:id/resume'), handler: subscriptions.resumeSubscription },
  { method: 'GET', pattern: path('/v1/subscription_items'), handler: subscriptions.listSubscriptionItems },
  { method: 'GET', pattern: path('/v1/subscription_items/:id'), handler: subscriptions.retrieveSubscriptionItem },
  { method: 'POST', pattern: path('/v1/subscription_items/:id'), handler: subscriptions.updateSubscriptionItem },

  { method: 'GET', pattern: path('/v1/invoices'), handler: invoices.listInvoices },
  { method: 'GET', pattern: path('/v1/invoices/:id'), handler: invoices.retrieveInvoice },
  { method: 'POST', pattern: path('/v1/invoices/:id'), handler: invoices.updateInvoice },
  { method: 'DELETE', pattern: path('/v1/invoices/:id'), handler: invoices.deleteInvoice },
  { method: 'GET', pattern: path('/v1/invoices/:id/lines'), handler: invoices.listInvoiceLines },
  { method: 'POST', pattern: path('/v1/invoices/:id/finalize'), handler: invoices.finalizeInvoiceHandler },
  { method: 'POST', pattern: path('/v1/invoices/:id/pay'), handler: invoices.payInvoice },
  { method: 'POST', pattern: path('/v1/invoices/:id/void'), handler: invoices.voidInvoiceHandler },
  { method: 'POST', pattern: path('/v1/invoices/:id/mark_uncollectible'), handler: invoices.markUncollectibleHandler },
  { method: 'POST', pattern: path('/v1/invoices/:id/send'), handler: invoices.sendInvoice },
  { method: 'GET', pattern: path('/v1/invoiceitems'), handler: invoices.listInvoiceItems },
  { method: 'GET', pattern: path('/v1/invoiceitems/:id'), handler: invoices.retrieveInvoiceItem },
  { method: 'DELETE', pattern: path('/v1/invoiceitems/:id'), handler: invoices.deleteInvoiceItem },
  { method: 'GET', pattern: path('/v1/invoice_payments'), handler: invoices.listInvoicePayments },
  { method: 'GET', pattern: path('/v1/invoice_payments/:id'), handler: invoices.retrieveInvoicePayment },
  { method: 'GET', pattern: path('/v1/payment_intents/:id'), handler: invoices.retrievePaymentIntent },

  { method: 'POST', pattern: path('/v1/test_helpers/test_clocks'), handler: clocks.createTestClock },
  { method: 'GET', pattern: path('/v1/test_helpers/test_clocks'), handler: clocks.listTestClocks },
  { method: 'GET', pattern: path('/v1/test_helpers/test_clocks/:id'), handler: clocks.retrieveTestClock },
  { method: 'DELETE', pattern: path('/v1/test_helpers/test_clocks/:id'), handler: clocks.deleteTestClock },
  { method: 'POST', pattern: path('/v1/test_helpers/test_clocks/:id/advance'), handler: clocks.advanceTestClock },

  { method: 'GET', pattern: path('/v1/events'), handler: events.listEvents },
  { method: 'GET', pattern: path('/v1/events/:id'), handler: events.retrieveEvent },
  { method: 'POST', pattern: path('/v1/webhook_endpoints'), handler: events.createWebhookEndpoint },
  { method: 'GET', pattern: path('/v1/webhook_endpoints'), handler: events.listWebhookEndpoints },
  { method: 'GET', pattern: path('/v1/webhook_endpoints/:id'), handler: events.retrieveWebhookEndpoint },
  { method: 'POST', pattern: path('/v1/webhook_endpoints/:id'), handler: events.updateWebhookEndpoint },
  { method: 'DELETE', pattern: path('/v1/webhook_endpoints/:id'), handler: events.deleteWebhookEndpoint },
];

export function matchRoute(method: string, pathname: string): { handler: Handler; id: string; subId: string } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(pathname);
    if (match) return { handler: route.handler, id: match[1] ?? '', subId: match[2] ?? '' };
  }
  return null;
}
