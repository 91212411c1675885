// Starts the Stripe simulator on its own:
//   node --import tsx tools/fake-stripe/cli.ts [--port 12111] [--host 127.0.0.1]
//     [--webhook-url URL --webhook-secret whsec_... [--webhook-api-key sk_test_...]]
//     [--default-test-clock [--account sk_test_...]] [--log-deliveries]
// With --default-test-clock, customers created without a test_clock join their account's local clock;
// --account makes that clock at start and prints its id.
import { parseArgs } from 'node:util';
import { startFakeStripe, type WebhookTarget } from './server';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '12111' },
    host: { type: 'string', default: '127.0.0.1' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'webhook-api-key': { type: 'string' },
    'default-test-clock': { type: 'boolean', default: false },
    account: { type: 'string' },
    'log-deliveries': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fake-stripe: invalid --port ${values.port}`);
  process.exit(2);
}
if (Boolean(values['webhook-url']) !== Boolean(values['webhook-secret'])) {
  console.error('fake-stripe: --webhook-url and --webhook-secret go together (the secret the endpoint verifies signatures with)');
  process.exit(2);
}

async function main(): Promise<void> {
  const webhooks: WebhookTarget[] = values['webhook-url']
    ? [{ url: values['webhook-url'], secret: values['webhook-secret']!, ...(values['webhook-api-key'] ? { apiKey: values['webhook-api-key'] } : {}) }]
    : [];
  const fake = await startFakeStripe({
    port,
    host: values.host,
    webhooks,
    defaultTestClock: values['default-test-clock'],
    onDelivery: values['log-deliveries']
      ? (d) => console.log(`fake-stripe: ${d.type} ${d.eventId} → ${d.status ?? d.error}${d.attempt > 1 ? ` (attempt ${d.attempt})` : ''}${d.duplicate ? ' (duplicate)' : ''}`)
      : undefined,
  });
  console.log(`fake-stripe listening on ${fake.url}`);
  if (webhooks.length) console.log(`fake-stripe delivers signed events to ${webhooks[0].url}`);
  if (values['default-test-clock'] && values.account) {
    const clock = fake.defaultTestClock(values.account);
    console.log(`fake-stripe local test clock ${clock.id} at ${new Date(clock.frozen_time * 1000).toISOString()} (advance: POST /v1/test_helpers/test_clocks/${clock.id}/advance)`);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    fake.close().then(
      () => {
        console.log(`fake-stripe stopped (${signal})`);
        process.exit(0);
      },
      (error: Error) => {
        console.error(`fake-stripe: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`fake-stripe: ${error.message}`);
  process.exit(1);
});
