// What the API returns: lists with Stripe's pagination, and `expand[]` resolved over stored objects.
import { invalidParam, noSuch } from './errors';
import type { FormObject } from './form';
import { optString, parseInteger, type Json } from './params';
import type { Account, Rec } from './state';

export interface List<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/** Newest first, with `limit`, `starting_after` and `ending_before`, as Stripe paginates. */
export function paginate<T extends { id: string }>(
  all: Iterable<Rec<T, unknown>>,
  wanted: (value: T, rec: Rec<T, unknown>) => boolean,
  params: FormObject,
  url: string,
  kind: string,
): List<T> {
  const entries = [...all];
  const limit = parseInteger(params.limit, 'limit') ?? 10;
  if (limit < 1 || limit > 100) throw invalidParam('limit', 'This value must be between 1 and 100.', 'parameter_invalid_integer');
  const startingAfter = optString(params, 'starting_after');
  const endingBefore = optString(params, 'ending_before');
  const seqOf = (id: string, param: string) => {
    const found = entries.find((e) => e.value.id === id);
    if (!found) throw noSuch(kind, id, param, 400);
    return found.seq;
  };
  let matching = entries.filter((e) => wanted(e.value, e)).sort((a, b) => b.seq - a.seq);
  if (startingAfter !== undefined) {
    const seq = seqOf(startingAfter, 'starting_after');
    matching = matching.filter((e) => e.seq < seq);
  } else if (endingBefore !== undefined) {
    // The page just before the cursor, still listed newest first.
    const seq = seqOf(endingBefore, 'ending_before');
    const before = matching.filter((e) => e.seq > seq);
    const page = before.slice(Math.max(0, before.length - limit));
    return { object: 'list', data: page.map((e) => e.value), has_more: before.length > limit, url };
  }
  return { object: 'list', data: matching.slice(0, limit).map((e) => e.value), has_more: matching.length > limit, url };
}

/** Finds any stored object by its id's prefix, as expansion does. */
export function lookup(account: Account, id: string): Json | undefined {
  const prefix = id.slice(0, id.indexOf('_') + 1);
  switch (prefix) {
    case 'cus_': {
      const rec = account.customers.get(id);
      return rec && (rec.meta.deleted ? { id, object: 'customer', deleted: true } : rec.value);
    }
    case 'sub_':
      return account.subscriptions.get(id)?.value;
    case 'in_':
      return account.invoices.get(id)?.value;
    case 'pm_':
      return account.paymentMethods.get(id)?.value;
    case 'price_':
      return account.prices.get(id)?.value;
    case 'prod_':
      return account.products.get(id)?.value;
    case 'clock_':
      return account.testClocks.get(id)?.value;
    case 'pi_':
      return account.paymentIntents.get(id)?.value;
    case 'ii_':
      return account.invoiceItems.get(id)?.value;
    case 'si_':
      for (const sub of account.subscriptions.values()) {
        const item = sub.value.items.data.find((i) => i.id === id);
        if (item) return item;
      }
      return undefined;
    default:
      return account.prices.get(id)?.value ?? account.products.get(id)?.value;
  }
}

const cannotExpand = (path: string) => invalidParam('expand', `This property cannot be expanded (${path}).`);

/** Replaces the id at `path` (`customer`, `latest_invoice.payments`, `data.customer`, `items.data.price.product`) by its object. */
function expandPath(account: Account, value: unknown, path: string[], full: string): unknown {
  if (value === null || value === undefined) return value;
  if (path.length === 0) {
    if (typeof value === 'string') {
      const found = lookup(account, value);
      if (!found) throw cannotExpand(full);
      return found;
    }
    if (typeof value === 'object') return value; // already an object
    throw cannotExpand(full);
  }
  if (typeof value === 'string') return expandPath(account, lookup(account, value) ?? null, path, full);
  if (Array.isArray(value)) return value.map((v) => expandPath(account, v, path, full));
  if (typeof value !== 'object') throw cannotExpand(full);
  const record = value as Json;
  const [key, ...rest] = path;
  if (record.object === 'list' && key === 'data') return { ...record, data: (record.data as unknown[]).map((v) => expandPath(account, v, rest, full)) };
  const includable = includables(account, record, key);
  if (includable !== undefined) return { ...record, [key]: rest.length ? expandPath(account, includable, rest, full) : includable };
  if (!(key in record)) throw cannotExpand(full);
  return { ...record, [key]: expandPath(account, record[key], rest, full) };
}

/** Fields Stripe leaves out unless asked for (`expand[]=payments` on an invoice). */
function includables(account: Account, record: Json, key: string): unknown {
  if (record.object !== 'invoice') return undefined;
  if (key === 'payments') {
    const data = [...account.invoicePayments.values()].filter((p) => p.value.invoice === record.id).map((p) => p.value);
    return { object: 'list', data, has_more: false, url: `/v1/invoice_payments?invoice=${String(record.id)}` };
  }
  if (key === 'confirmation_secret') {
    const meta = account.invoices.get(String(record.id))?.meta;
    const intent = meta?.paymentIntent ? account.paymentIntents.get(meta.paymentIntent)?.value : undefined;
    return intent && record.status === 'open' ? { client_secret: intent.client_secret, type: 'payment_intent' } : null;
  }
  return undefined;
}

export function expand(account: Account, value: Json, paths: string[]): Json {
  let view = value;
  for (const path of paths) view = expandPath(account, view, path.split('.'), path) as Json;
  return view;
}
