// The local DNS server as a process, for `npm start` and `npm test` (scripts/emulators.mjs):
//   node --import tsx tools/local-dns/cli.ts --port 8053 --control-port 8054
import { startDnsControl, startLocalDns } from './server';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

async function main() {
  const dns = await startLocalDns({ port: arg('--port', 8053) });
  const control = await startDnsControl(dns, { port: arg('--control-port', 8054) });
  console.log(`local DNS listening on ${dns.address} (control ${control.url})`);
  const stop = async () => {
    await Promise.all([dns.close(), control.close()]);
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
