// Shared set-up for the simulator's behaviour tests: an in-process simulator, the real stripe SDK
// pointed at it, a test clock per test, and a webhook receiver that verifies signatures as the app does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { catalogPriceId } from '../../tools/fake-stripe/catalog';
import { advanceClock } from '../../tools/fake-stripe/control';
import { startFakeStripe, type FakeStripe, type FakeStripeOptions } from '../../tools/fake-stripe/server';

export const DAY = 86_400;
export const HOUR = 3_600;
/** A fixed start for test clocks: 2027-03-01T00:00:00Z (a month of 31 days ahead). */
export const T0 = Date.UTC(2027, 2, 1) / 1000;

/** The catalog's prices in the account of sdk()'s default key: ids the simulator made, as Stripe makes them (catalog.ts). */
export const PRICE = {
  starter: catalogPriceId('sk_test_simulator', 'starter_monthly'),
  team: catalogPriceId('sk_test_simulator', 'team_monthly'),
  enterprise: catalogPriceId('sk_test_simulator', 'enterprise_annual'),
};

export function sdk(fake: FakeStripe, key = 'sk_test_simulator'): Stripe {
  return new Stripe(key, { host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
}

export async function startSimulator(options: FakeStripeOptions = {}): Promise<{ fake: FakeStripe; stripe: Stripe }> {
  const fake = await startFakeStripe({ port: 0, ...options });
  return { fake, stripe: sdk(fake) };
}

/** What a behaviour file drives: its simulator, the SDK on it, and this test's clock. */
export interface Simulator {
  readonly fake: FakeStripe;
  readonly stripe: Stripe;
  /** A fresh test clock at T0, started before each test (unless `clockPerTest: false`). */
  readonly clock: Clock;
}

/**
 * The set-up every behaviour file shares: one simulator for the file (closed after it), reset before
 * each test (`reset`, as FakeStripe.reset takes it), and a new test clock for each test.
 */
export function useSimulator(setup: { options?: FakeStripeOptions; reset?: { all?: boolean }; clockPerTest?: boolean } = {}): Simulator {
  let started: { fake: FakeStripe; stripe: Stripe } | undefined;
  let clock: Clock | undefined;
  beforeAll(async () => {
    started = await startSimulator(setup.options);
  });
  afterAll(() => started?.fake.close());
  beforeEach(async () => {
    started!.fake.reset(setup.reset ?? { all: true });
    if (setup.clockPerTest !== false) clock = await Clock.start(started!.stripe);
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the simulator's ${what} is set up in beforeAll/beforeEach: use it inside a test`);
    return value;
  };
  return {
    get fake() {
      return ready(started, 'server').fake;
    },
    get stripe() {
      return ready(started, 'SDK').stripe;
    },
    get clock() {
      return ready(clock, 'clock');
    },
  };
}

/** A test clock and what lives on it; `advance` walks it forward and waits for `ready`. */
export class Clock {
  private constructor(
    readonly stripe: Stripe,
    readonly id: string,
    public now: number,
  ) {}

  static async start(stripe: Stripe, frozenTime = T0): Promise<Clock> {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozenTime, name: 'behaviour test' });
    return new Clock(stripe, clock.id, frozenTime);
  }

  /** A driver for an existing clock (the simulator's default local clock, say). */
  static attach(stripe: Stripe, id: string, now: number): Clock {
    return new Clock(stripe, id, now);
  }

  async advanceTo(time: number): Promise<void> {
    await advanceClock(this.stripe, this.id, time);
    this.now = time;
  }

  advanceBy(seconds: number): Promise<void> {
    return this.advanceTo(this.now + seconds);
  }

  /** A customer on this clock, optionally with a default card (a Stripe test token such as pm_card_visa). */
  customer(card?: string, extra: Stripe.CustomerCreateParams = {}): Promise<Stripe.Customer> {
    return this.stripe.customers.create({
      email: 'billing@acme.test',
      name: 'Acme',
      test_clock: this.id,
      ...(card ? { payment_method: card, invoice_settings: { default_payment_method: card } } : {}),
      ...extra,
    });
  }
}

/** Event types of the account, oldest first (optionally only those after `since`, an event id). */
export async function eventTypes(stripe: Stripe, filter: (e: Stripe.Event) => boolean = () => true): Promise<string[]> {
  const events = await stripe.events.list({ limit: 100 });
  return events.data.reverse().filter(filter).map((e) => e.type);
}

export async function eventsOf(stripe: Stripe, type: string): Promise<Stripe.Event[]> {
  return (await stripe.events.list({ type, limit: 100 })).data.reverse();
}

export async function latestInvoice(stripe: Stripe, subscriptionId: string): Promise<Stripe.Invoice> {
  const sub = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['latest_invoice'] });
  return sub.latest_invoice as Stripe.Invoice;
}

export interface Received {
  event: Stripe.Event;
  signature: string;
  body: string;
}

/** An HTTP endpoint that verifies each delivery with stripe.webhooks.constructEvent, as the app does. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  readonly refused: string[] = [];
  /** Answers this status to the next N deliveries instead of 200. */
  failures: Array<{ status: number; times: number }> = [];
  /** How long the receiver takes to answer each delivery. */
  delayMs = 0;
  /** Deliveries being answered now, and the most at once so far. */
  inFlight = 0;
  maxInFlight = 0;
  private server!: Server;
  url = '';

  constructor(readonly secret = 'whsec_behaviour_tests') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('finish', () => (this.inFlight -= 1));
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => setTimeout(() => {
        const signature = String(req.headers['stripe-signature'] ?? '');
        const failure = this.failures.find((f) => f.times > 0);
        if (failure) {
          failure.times -= 1;
          res.writeHead(failure.status).end('{"error":"injected"}');
          return;
        }
        try {
          const event = Stripe.webhooks.constructEvent(body, signature, this.secret);
          this.received.push({ event, signature, body });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
        } catch (error) {
          this.refused.push((error as Error).message);
          res.writeHead(400).end();
        }
      }, this.delayMs));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/stripeWebhook`;
    return this;
  }

  types(): string[] {
    return this.received.map((r) => r.event.type);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Expects a promise to reject with a StripeError of this class and fields; returns the error. */
export async function rejection(promise: Promise<unknown>, type: string, fields: { statusCode?: number; code?: string; param?: string; message?: RegExp } = {}): Promise<Stripe.errors.StripeError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected a ${type}, but the request succeeded`);
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Stripe.errors.StripeError);
  const stripeError = error as Stripe.errors.StripeError;
  expect(stripeError.type).toBe(type);
  if (fields.statusCode !== undefined) expect(stripeError.statusCode).toBe(fields.statusCode);
  if (fields.code !== undefined) expect(stripeError.code).toBe(fields.code);
  if (fields.param !== undefined) expect(stripeError.param).toBe(fields.param);
  if (fields.message) expect(stripeError.message).toMatch(fields.message);
  return stripeError;
}
