import { Resolver } from 'node:dns/promises';
import { DNS_SERVERS } from '../config';
import type { TxtAnswer } from '../domain/domains';

/** Looks up the TXT records at a name. Injected, so tests point it at a DNS server on loopback. */
export type TxtResolver = (name: string) => Promise<TxtAnswer>;

/** "No such name" and "no TXT there" both mean: the record is not (yet) there. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * A resolver that asks `servers` (`host:port`), or the system's name servers when none are given.
 * Lookups are bounded (timeout × tries) so a callable never hangs on DNS.
 */
export function dnsResolver(servers: string[] = [], options: { timeoutMs?: number; tries?: number } = {}): TxtResolver {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (servers.length) resolver.setServers(servers);
  return async (name) => {
    try {
      return { records: await resolver.resolveTxt(name) };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      return ABSENT.has(code) ? { records: [] } : { error: code };
    }
  };
}

/** The `DNS_SERVERS` param (comma-separated `host:port`, set by the local launcher to its loopback DNS server) or the system's. */
export function resolverFromEnv(): TxtResolver {
  const servers = DNS_SERVERS.value().split(',').map((s) => s.trim()).filter(Boolean);
  return dnsResolver(servers);
}
