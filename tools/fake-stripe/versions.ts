// Events rendered at a webhook endpoint's API version, as Stripe renders them (STRIPE.md §11: an
// event's `api_version` is the version its `data` was rendered at; §0: what basil moved). The
// simulator keeps its objects in the pinned version's shape; an endpoint created with an older
// `api_version` gets them in that version's shape.
import type { Json } from './params';
import type { StripeEvent } from './state';

/** `2025-03-31.basil`: an invoice's subscription moved under `parent`, a subscription's period onto its items. */
export const BASIL = '2025-03-31.basil';

/** Stripe's versions are dated: the date orders them. */
export function isBefore(version: string, other: string): boolean {
  return version.slice(0, 10) < other.slice(0, 10);
}

/** The event as an endpoint on `version` receives it; the same event when that is the version it was made at. */
export function renderEventAt(event: StripeEvent, version: string): StripeEvent {
  if (version === event.api_version) return event;
  const data = structuredClone(event.data);
  if (isBefore(version, BASIL)) data.object = preBasil(data.object);
  return { ...event, api_version: version, data };
}

function preBasil(object: Json): Json {
  if (object.object === 'invoice') return invoiceBeforeBasil(object);
  if (object.object === 'subscription') return subscriptionBeforeBasil(object);
  return object;
}

type Details = { subscription?: string; metadata?: Json | null; subscription_proration_date?: number } | null | undefined;

/** Before basil: `subscription`, `subscription_details` and `quote` at the top level, no `parent`; `paid` beside `status`. */
function invoiceBeforeBasil(invoice: Json): Json {
  const { parent, lines, ...rest } = invoice as Json & { parent?: { subscription_details?: Details; quote_details?: { quote?: string } | null } | null; lines?: Json };
  const details = parent?.subscription_details ?? null;
  const data = ((lines as { data?: Json[] } | undefined)?.data ?? []).map(lineBeforeBasil);
  return {
    ...rest,
    subscription: details?.subscription ?? null,
    subscription_details: details ? { metadata: details.metadata ?? null } : null,
    subscription_proration_date: details?.subscription_proration_date ?? null,
    quote: parent?.quote_details?.quote ?? null,
    paid: invoice.status === 'paid',
    ...(lines ? { lines: { ...lines, data } } : {}),
  };
}

/** Before basil a line named its subscription, item and proration itself. */
function lineBeforeBasil(line: Json): Json {
  const { parent, ...rest } = line as Json & { parent?: { subscription_item_details?: { subscription?: string; subscription_item?: string; proration?: boolean } | null } | null };
  const item = parent?.subscription_item_details;
  if (!parent) return line;
  return { ...rest, type: item ? 'subscription' : 'invoiceitem', subscription: item?.subscription ?? null, subscription_item: item?.subscription_item ?? null, proration: item?.proration ?? false };
}

/** Before basil the billing period was the subscription's, not its items'. */
function subscriptionBeforeBasil(subscription: Json): Json {
  const items = subscription.items as { data?: Array<Json & { current_period_start?: number; current_period_end?: number }> } | undefined;
  const first = items?.data?.[0];
  const data = (items?.data ?? []).map(({ current_period_start: _start, current_period_end: _end, ...item }) => item);
  return {
    ...subscription,
    current_period_start: first?.current_period_start ?? null,
    current_period_end: first?.current_period_end ?? null,
    ...(items ? { items: { ...items, data } } : {}),
  };
}
