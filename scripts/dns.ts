// `npm run dns -- <command>`: the records of the local DNS server that `npm start` runs (port 8053),
// standing in for your DNS provider when you verify a domain locally.
//   npm run dns -- set _tenancy-challenge.acme.test "tenancy-domain-verification=..."
//   npm run dns -- list
//   npm run dns -- delete _tenancy-challenge.acme.test
const control = process.env.LOCAL_DNS_CONTROL ?? 'http://127.0.0.1:8054';

async function main(): Promise<number> {
  const [command, name, ...values] = process.argv.slice(2);
  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${control}${path}`, { method, body: body ? JSON.stringify(body) : undefined }).catch(() => null);
    if (!response) throw new Error(`The local DNS server is not running at ${control}: start the product with \`npm start\` first`);
    const json = await response.json();
    if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
    return json as Record<string, string[][]>;
  };
  let records: Record<string, string[][]>;
  if (command === 'set' && name && values.length) records = await request('PUT', `/txt/${encodeURIComponent(name)}`, { records: values });
  else if (command === 'delete' && name) records = await request('DELETE', `/txt/${encodeURIComponent(name)}`);
  else if (command === 'list' || !command) records = await request('GET', '/txt');
  else {
    console.error('usage: npm run dns -- set <name> <value> [<value>...] | delete <name> | list');
    return 2;
  }
  const names = Object.keys(records);
  if (!names.length) console.log('No TXT records.');
  for (const n of names) console.log(`${n}\tTXT\t${records[n].map((r) => JSON.stringify(r.join(''))).join(' ')}`);
  return 0;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
