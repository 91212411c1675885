// The simulator's objects and routes, re-exported under the module name older callers import.
export { Account, type Customer, type Invoice, type StripeEvent, type Subscription, type SubscriptionStatus } from './state';
export { addMonth } from './time';
export { newId } from './ids';
export { matchRoute, ROUTES } from './routes';
