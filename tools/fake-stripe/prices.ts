// Products and prices: seeded from the catalog (as a sandbox whose prices were made in the
// Dashboard) and creatable through the API. A subscription may only use a price that exists.
import type { Handler } from './call';
import { catalogPriceId, type CatalogPrice } from './catalog';
import { invalidParam, missingParam, noSuch } from './errors';
import type { FormObject } from './form';
import { newId } from './ids';
import { allowOnly, applyMetadata, expandList, optArray, optBoolean, optEnum, optHash, optInteger, optNullableString, optString, requiredString } from './params';
import { emit, emitUpdated, type Account, type Interval, type Price, type Product } from './state';
import { expand, paginate } from './views';

function productObject(id: string, name: string, created: number): Product {
  return {
    id,
    object: 'product',
    active: true,
    created,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: created,
    url: null,
  };
}

function priceObject(id: string, spec: { product: string; currency: string; unit_amount: number; interval: Interval; interval_count: number; lookup_key: string | null; nickname: string | null }, created: number): Price {
  return {
    id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created,
    currency: spec.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: spec.lookup_key,
    metadata: {},
    nickname: spec.nickname,
    product: spec.product,
    recurring: { interval: spec.interval, interval_count: spec.interval_count, meter: null, trial_period_days: null, usage_type: 'licensed' },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: spec.unit_amount,
    unit_amount_decimal: String(spec.unit_amount),
  };
}

/** A fresh account's products and prices: there before any request, so they make no events. */
export function seedCatalog(account: Account, catalog: CatalogPrice[]): void {
  const created = account.env.realNow();
  for (const entry of catalog) {
    if (!account.products.has(entry.product.id)) account.add(account.products, productObject(entry.product.id, entry.product.name, created), {});
    account.add(
      account.prices,
      priceObject(catalogPriceId(account.apiKey, entry.lookup_key), { product: entry.product.id, currency: entry.currency, unit_amount: entry.unit_amount, interval: entry.interval, interval_count: entry.interval_count ?? 1, lookup_key: entry.lookup_key, nickname: null }, created),
      {},
    );
  }
}

export function findPrice(account: Account, id: string, param: string): Price {
  const price = account.prices.get(id);
  if (!price) throw noSuch('price', id, param, 400);
  if (!price.value.active) throw invalidParam(param, `The price specified is inactive. This field only accepts active prices.`);
  return price.value;
}

const ctxOfRequest = (call: Parameters<Handler>[0]) => ({ account: call.account, now: call.account.env.realNow(), origin: { id: call.requestId, idempotency_key: call.idempotencyKey } });

export const createProduct: Handler = (call) => {
  allowOnly(call.params, ['id', 'name', 'metadata', 'active', 'description', 'expand']);
  const id = optString(call.params, 'id') ?? newId('prod');
  const name = requiredString(call.params, 'name');
  if (call.account.products.has(id)) throw invalidParam('id', `Product already exists.`, 'resource_already_exists');
  const ctx = ctxOfRequest(call);
  const product = productObject(id, name, ctx.now);
  product.metadata = applyMetadata({}, call.params.metadata);
  product.active = optBoolean(call.params, 'active') ?? true;
  product.description = optNullableString(call.params, 'description') ?? null;
  call.account.add(call.account.products, product, {});
  emit(ctx, 'product.created', product);
  return product;
};

export const retrieveProduct: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const product = call.account.products.get(id);
  if (!product) throw noSuch('product', id);
  return product.value;
};

export const listProducts: Handler = (call) => {
  allowOnly(call.params, ['active', 'limit', 'starting_after', 'ending_before', 'expand']);
  const active = optBoolean(call.params, 'active');
  return paginate(call.account.products.values(), (p) => active === undefined || p.active === active, call.params, '/v1/products', 'product');
};

export const createPrice: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['currency', 'unit_amount', 'product', 'product_data', 'recurring', 'lookup_key', 'nickname', 'metadata', 'active', 'expand']);
  const paths = expandList(params);
  const currency = requiredString(params, 'currency').toLowerCase();
  const unitAmount = optInteger(params, 'unit_amount', { min: 0 });
  if (unitAmount === undefined) throw missingParam('unit_amount');
  const recurring = optHash(params, 'recurring');
  if (!recurring) throw invalidParam('recurring', 'fake-stripe models recurring prices only: pass recurring[interval].');
  allowOnly(recurring, ['interval', 'interval_count'], 'recurring');
  const interval = optEnum(recurring, 'interval', ['day', 'week', 'month', 'year'] as const, 'recurring[interval]');
  if (!interval) throw missingParam('recurring[interval]');
  const intervalCount = optInteger(recurring, 'interval_count', { min: 1, max: 12 }, 'recurring[interval_count]') ?? 1;
  const productId = optString(params, 'product');
  const productData = optHash(params, 'product_data');
  if (!productId && !productData) throw missingParam('product');
  const lookupKey = optString(params, 'lookup_key') ?? null;
  const ctx = ctxOfRequest(call);
  let product = productId;
  if (productId) {
    if (!account.products.has(productId)) throw noSuch('product', productId, 'product', 400);
  } else {
    allowOnly(productData as FormObject, ['name'], 'product_data');
    const created = productObject(newId('prod'), requiredString(productData as FormObject, 'name', 'product_data[name]'), ctx.now);
    account.add(account.products, created, {});
    emit(ctx, 'product.created', created);
    product = created.id;
  }
  if (lookupKey && [...account.prices.values()].some((p) => p.value.lookup_key === lookupKey)) {
    throw invalidParam('lookup_key', `A price (\`${lookupKey}\`) already uses that lookup key.`);
  }
  const price = priceObject(newId('price', 24), { product: product!, currency, unit_amount: unitAmount, interval, interval_count: intervalCount, lookup_key: lookupKey, nickname: optString(params, 'nickname') ?? null }, ctx.now);
  price.metadata = applyMetadata({}, params.metadata);
  price.active = optBoolean(params, 'active') ?? true;
  account.add(account.prices, price, {});
  emit(ctx, 'price.created', price);
  return expand(account, price, paths);
};

export const retrievePrice: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const price = call.account.prices.get(id);
  if (!price) throw noSuch('price', id);
  return expand(call.account, price.value, expandList(call.params));
};

export const updatePrice: Handler = (call, id) => {
  allowOnly(call.params, ['active', 'metadata', 'nickname', 'lookup_key', 'expand']);
  const price = call.account.prices.get(id);
  if (!price) throw noSuch('price', id);
  const before = structuredClone(price.value);
  const active = optBoolean(call.params, 'active');
  if (active !== undefined) price.value.active = active;
  price.value.metadata = applyMetadata(price.value.metadata as Record<string, string>, call.params.metadata);
  const nickname = optNullableString(call.params, 'nickname');
  if (nickname !== undefined) price.value.nickname = nickname;
  const lookupKey = optNullableString(call.params, 'lookup_key');
  if (lookupKey !== undefined) price.value.lookup_key = lookupKey;
  emitUpdated(ctxOfRequest(call), 'price.updated', before, price.value);
  return price.value;
};

export const listPrices: Handler = (call) => {
  allowOnly(call.params, ['active', 'product', 'lookup_keys', 'limit', 'starting_after', 'ending_before', 'expand', 'type']);
  const paths = expandList(call.params).map((p) => p.replace(/^data\./, ''));
  const active = optBoolean(call.params, 'active');
  const product = optString(call.params, 'product');
  const lookupKeys = optArray(call.params, 'lookup_keys') as string[] | undefined;
  const page = paginate(
    call.account.prices.values(),
    (p) => (active === undefined || p.active === active) && (product === undefined || p.product === product) && (lookupKeys === undefined || (p.lookup_key !== null && lookupKeys.includes(p.lookup_key))),
    call.params,
    '/v1/prices',
    'price',
  );
  return { ...page, data: page.data.map((p) => expand(call.account, p, paths)) };
};

