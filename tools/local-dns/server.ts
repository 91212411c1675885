// A real DNS server on loopback (dns2, UDP and TCP) that answers TXT queries from records set at run
// time: the stand-in for a customer's DNS provider, for domain capture on `npm start` and in tests.
// It answers as an authoritative server does: NXDOMAIN for an unknown name (a resolver's ENOTFOUND),
// an empty answer for a known name without TXT (ENODATA), SERVFAIL where a test asks for a failure.
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import dns2, { type DnsHandler } from 'dns2';

const { Packet } = dns2;

export interface LocalDns {
  /** `host:port` for a resolver's setServers(). */
  address: string;
  /** Replaces the TXT records at `name`; each record is one string or its character-strings. */
  setTxt(name: string, records: Array<string | string[]>): void;
  /** Removes the records at `name`, or every record. */
  clear(name?: string): void;
  /** Back to a fresh server: no records, no failures, no queries seen. */
  reset(): void;
  /** Makes lookups of `name` answer SERVFAIL (a provider outage), until turned off. */
  failLookups(name: string, failing: boolean): void;
  records(): Record<string, string[][]>;
  /** Names queried so far, in order (lower case). */
  queries: string[];
  close(): Promise<void>;
}

const key = (name: string) => name.toLowerCase().replace(/\.$/, '');

export async function startLocalDns(options: { port?: number; host?: string } = {}): Promise<LocalDns> {
  const host = options.host ?? '127.0.0.1';
  const txt = new Map<string, string[][]>();
  const failing = new Set<string>();
  const queries: string[] = [];
  const handle: DnsHandler = (request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const [question] = request.questions;
    const name = key(question?.name ?? '');
    queries.push(name);
    if (failing.has(name)) {
      response.header.rcode = Packet.RCODE.SERVFAIL;
    } else if (!txt.has(name)) {
      response.header.rcode = Packet.RCODE.NXDOMAIN;
    } else if (question.type === Packet.TYPE.TXT || question.type === Packet.TYPE.ANY) {
      for (const record of txt.get(name)!) {
        response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: record } as never);
      }
    }
    send(response);
  };
  // UDP and TCP on one port, as DNS does: a resolver retries over TCP when a UDP answer is truncated.
  const udp = dns2.createUDPServer(handle);
  const port = await new Promise<number>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.port ?? 0, host, () => resolve(udp.address().port));
  });
  const tcp = dns2.createTCPServer(handle);
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve());
  });
  return {
    address: `${host}:${port}`,
    setTxt: (name, records) => void txt.set(key(name), records.map((r) => (Array.isArray(r) ? r : [r]))),
    clear: (name) => (name ? void txt.delete(key(name)) : txt.clear()),
    reset: () => {
      txt.clear();
      failing.clear();
      queries.length = 0;
    },
    failLookups: (name, on) => void (on ? failing.add(key(name)) : failing.delete(key(name))),
    records: () => Object.fromEntries(txt),
    queries,
    close: () => Promise.all([new Promise<void>((done) => udp.close(() => done())), new Promise<void>((done) => tcp.close(() => done()))]).then(() => undefined),
  };
}

/**
 * An HTTP control for a LocalDns running in another process (the launcher's): `GET /txt` lists,
 * `PUT /txt/<name>` with `{"records": ["value", ...]}` sets, `DELETE /txt/<name>` removes.
 */
export async function startDnsControl(dns: LocalDns, options: { port?: number; host?: string } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const match = /^\/txt(?:\/([^/]+))?$/.exec(url.pathname);
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (!match) return reply(404, { error: 'use /txt or /txt/<name>' });
    const name = match[1] ? decodeURIComponent(match[1]) : null;
    if (req.method === 'GET') return reply(200, dns.records());
    if (!name) return reply(400, { error: 'name the record: /txt/<name>' });
    if (req.method === 'DELETE') {
      dns.clear(name);
      return reply(200, dns.records());
    }
    if (req.method === 'PUT') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const records = (JSON.parse(body || '{}') as { records?: unknown }).records;
      if (!Array.isArray(records) || !records.every((r) => typeof r === 'string')) return reply(400, { error: 'body: {"records": ["value", ...]}' });
      dns.setTxt(name, records as string[]);
      return reply(200, dns.records());
    }
    return reply(405, { error: 'GET, PUT or DELETE' });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${options.host ?? '127.0.0.1'}:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}
