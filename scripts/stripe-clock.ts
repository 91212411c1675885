// `npm run stripe:clock -- --to 2027-01-01` (or `--by 15d`): advances the local Stripe simulator's test
// clock, to which every customer the app makes under `npm start` belongs, and prints what happened to
// each subscription. Stripe walks every renewal, retry and trial end on the way and delivers the
// events to the local stripeWebhook. Without arguments it prints the clock.
import Stripe from 'stripe';
import { advanceClock, FakeStripeControl } from '../tools/fake-stripe/control';

const base = process.env.STRIPE_API_BASE ?? 'http://127.0.0.1:12111';
const key = process.env.STRIPE_SECRET_KEY ?? 'sk_test_local_placeholder';
const DAY = 86_400;

function target(argv: string[], now: number): number | null {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const to = value('--to');
  const by = value('--by');
  if (to) {
    const at = Date.parse(to);
    if (Number.isNaN(at)) throw new Error(`--to: '${to}' is not a date (use ISO 8601, e.g. 2027-01-01)`);
    return Math.floor(at / 1000);
  }
  if (by) {
    const match = /^(\d+)([dh])$/.exec(by);
    if (!match) throw new Error(`--by: '${by}' must be a number of days or hours, e.g. 15d or 36h`);
    return now + Number(match[1]) * (match[2] === 'd' ? DAY : 3600);
  }
  return null;
}

const iso = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

async function main(): Promise<number> {
  const url = new URL(base);
  const stripe = new Stripe(key, { host: url.hostname, port: Number(url.port), protocol: url.protocol === 'https:' ? 'https' : 'http', maxNetworkRetries: 0, telemetry: false });
  let clock: { id: string; frozen_time: number } = await new FakeStripeControl(base).defaultTestClock(key);
  const to = target(process.argv.slice(2), clock.frozen_time);
  console.log(`Local Stripe clock ${clock.id} at ${iso(clock.frozen_time)} (${base})`);
  if (to === null) return 0;
  if (to <= clock.frozen_time) throw new Error(`the clock is at ${iso(clock.frozen_time)}: time only moves forward`);
  const statuses = async () => new Map((await stripe.subscriptions.list({ test_clock: clock.id, status: 'all', limit: 100 })).data.map((s) => [s.id, s]));
  const before = await statuses();
  // Stripe lets a clock move at most two intervals of its shortest subscription at once: go in steps.
  let step = to - clock.frozen_time;
  while (clock.frozen_time < to) {
    const next = Math.min(to, clock.frozen_time + step);
    try {
      clock = await advanceClock(stripe, clock.id, next);
      console.log(`  → ${iso(clock.frozen_time)}`);
    } catch (error) {
      if (!(error instanceof Stripe.errors.StripeInvalidRequestError) || error.param !== 'frozen_time' || step <= DAY) throw error;
      step = Math.max(DAY, Math.min(Math.floor(step / 2), 28 * DAY));
    }
  }
  const after = await statuses();
  for (const [id, sub] of after) {
    const was = before.get(id)?.status;
    const customer = typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
    const tenant = sub.metadata.tenantId ? ` tenant ${sub.metadata.tenantId}` : '';
    console.log(`  ${id}${tenant} (${customer}): ${was && was !== sub.status ? `${was} → ${sub.status}` : sub.status}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`stripe:clock: ${error.message}`);
    process.exit(1);
  },
);
