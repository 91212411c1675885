// Starts the fake Stripe on its own: `node --import tsx tools/fake-stripe/cli.ts [--port 12111] [--host 127.0.0.1]`.
import { parseArgs } from 'node:util';
import { startFakeStripe } from './server';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '12111' }, host: { type: 'string', default: '127.0.0.1' } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fake-stripe: invalid --port ${values.port}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const fake = await startFakeStripe({ port, host: values.host });
  console.log(`fake-stripe listening on ${fake.url}`);

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
