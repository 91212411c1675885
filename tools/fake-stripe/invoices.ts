// Invoices through the API: retrieve and list, finalize, pay (with a card or out of band), void,
// mark uncollectible, send; their lines, pending invoice items, PaymentIntents and invoice payments.
import { attemptPayment, chargeError, finalizeInvoice, markPaid, markUncollectible, voidInvoice, type InvoiceRec } from './billing';
import { ctxOf, type Handler } from './call';
import { invalidParam, noSuch, stateError } from './errors';
import { allowOnly, applyMetadata, expandList, optBoolean, optEnum, optNullableString, optRange, optString } from './params';
import { emit, emitUpdated, type Account } from './state';
import { expand, paginate } from './views';

function findInvoice(account: Account, id: string): InvoiceRec {
  const rec = account.invoices.get(id);
  if (!rec) throw noSuch('invoice', id);
  return rec;
}

export const retrieveInvoice: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  return expand(call.account, findInvoice(call.account, id).value, expandList(call.params));
};

export const listInvoices: Handler = (call) => {
  const { params, account } = call;
  allowOnly(params, ['customer', 'subscription', 'status', 'collection_method', 'created', 'due_date', 'limit', 'starting_after', 'ending_before', 'expand']);
  const paths = expandList(params).map((p) => p.replace(/^data\./, ''));
  const customer = optString(params, 'customer');
  const subscription = optString(params, 'subscription');
  const status = optEnum(params, 'status', ['draft', 'open', 'paid', 'uncollectible', 'void'] as const);
  const collection = optEnum(params, 'collection_method', ['charge_automatically', 'send_invoice'] as const);
  const created = optRange(params, 'created');
  const due = optRange(params, 'due_date');
  const page = paginate(
    account.invoices.values(),
    (inv, rec) =>
      (customer === undefined || inv.customer === customer) &&
      (subscription === undefined || (rec.meta as InvoiceRec['meta']).subscription === subscription) &&
      (status === undefined || inv.status === status) &&
      (collection === undefined || inv.collection_method === collection) &&
      (created === undefined || created(inv.created)) &&
      (due === undefined || (inv.due_date !== null && due(inv.due_date))),
    params,
    '/v1/invoices',
    'invoice',
  );
  return { ...page, data: page.data.map((inv) => expand(account, inv, paths)) };
};

/** Drafts may change more; a finalized invoice only its metadata, auto_advance and default payment method. */
export const updateInvoice: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['metadata', 'auto_advance', 'description', 'default_payment_method', 'days_until_due', 'expand']);
  const paths = expandList(params);
  const autoAdvance = optBoolean(params, 'auto_advance');
  const description = optNullableString(params, 'description');
  const defaultPm = optNullableString(params, 'default_payment_method');
  const rec = findInvoice(account, id);
  const invoice = rec.value;
  if (['paid', 'void', 'uncollectible'].includes(invoice.status) && Object.keys(params).some((k) => !['metadata', 'expand'].includes(k))) {
    throw stateError(`You can only update the metadata of a ${invoice.status} invoice.`, undefined, 'invoice_not_editable');
  }
  if (params.days_until_due !== undefined) throw invalidParam('days_until_due', 'fake-stripe does not change the due date of an existing invoice.');
  if (defaultPm) {
    const pm = account.paymentMethods.get(defaultPm);
    if (!pm || pm.value.customer !== invoice.customer) throw stateError(`No such PaymentMethod: '${defaultPm}'`, 'default_payment_method', 'resource_missing');
  }
  const ctx = ctxOf(call, invoice.test_clock);
  const before = structuredClone(invoice);
  invoice.metadata = applyMetadata(invoice.metadata, params.metadata);
  if (description !== undefined) invoice.description = description;
  if (defaultPm !== undefined) invoice.default_payment_method = defaultPm;
  if (autoAdvance !== undefined) {
    invoice.auto_advance = autoAdvance;
    // A draft left for Stripe finalizes in about an hour; an open one is collected again on its schedule.
    if (invoice.status === 'draft') invoice.automatically_finalizes_at = autoAdvance ? ctx.now + account.settings.finalizeAfterSeconds : null;
    if (invoice.status === 'open' && autoAdvance && invoice.collection_method === 'charge_automatically' && invoice.next_payment_attempt === null) rec.meta.attemptAt = ctx.now;
    if (!autoAdvance) {
      invoice.next_payment_attempt = null;
      rec.meta.attemptAt = null;
    }
  }
  emitUpdated(ctx, 'invoice.updated', before, invoice);
  return expand(account, invoice, paths);
};

/** Finalize now; with auto_advance an automatic charge follows right after the request. */
export const finalizeInvoiceHandler: Handler = (call, id) => {
  allowOnly(call.params, ['auto_advance', 'expand']);
  const paths = expandList(call.params);
  const autoAdvance = optBoolean(call.params, 'auto_advance');
  const rec = findInvoice(call.account, id);
  if (autoAdvance !== undefined) rec.value.auto_advance = autoAdvance;
  const ctx = ctxOf(call, rec.value.test_clock);
  finalizeInvoice(ctx, rec);
  if (rec.value.status === 'open' && rec.value.auto_advance && rec.value.collection_method === 'charge_automatically') rec.meta.attemptAt = ctx.now;
  return expand(call.account, rec.value, paths);
};

/**
 * Pay now: with the default (or given) payment method, or `paid_out_of_band` (invoice.paid without
 * invoice.payment_succeeded). A draft is finalized first. A decline is a 402 the caller sees.
 */
export const payInvoice: Handler = (call, id) => {
  const { params, account } = call;
  allowOnly(params, ['payment_method', 'paid_out_of_band', 'off_session', 'forgive', 'expand']);
  const paths = expandList(params);
  const pmId = optString(params, 'payment_method');
  const outOfBand = optBoolean(params, 'paid_out_of_band') ?? false;
  optBoolean(params, 'off_session');
  optBoolean(params, 'forgive');
  const rec = findInvoice(account, id);
  const invoice = rec.value;
  const ctx = ctxOf(call, invoice.test_clock);
  if (pmId) {
    const pm = account.paymentMethods.get(pmId);
    if (!pm || pm.value.customer !== invoice.customer) throw stateError(`No such PaymentMethod: '${pmId}'`, 'payment_method', 'resource_missing');
  }
  if (invoice.status === 'draft') finalizeInvoice(ctx, rec);
  if (invoice.status === 'paid') throw stateError('Invoice is already paid', undefined, 'invoice_already_paid' as string);
  if (invoice.status !== 'open') throw stateError(`You can only pay open invoices. This invoice is ${invoice.status}.`, undefined, 'invoice_not_open');
  if (outOfBand) {
    markPaid(ctx, rec, { outOfBand: true, zero: false });
    return expand(account, invoice, paths);
  }
  const failure = attemptPayment(ctx, rec, { automatic: false, paymentMethod: pmId });
  if (failure) throw chargeError(failure, account, rec);
  return expand(account, invoice, paths);
};

export const voidInvoiceHandler: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = findInvoice(call.account, id);
  voidInvoice(ctxOf(call, rec.value.test_clock), rec);
  return expand(call.account, rec.value, expandList(call.params));
};

export const markUncollectibleHandler: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = findInvoice(call.account, id);
  markUncollectible(ctxOf(call, rec.value.test_clock), rec);
  return expand(call.account, rec.value, expandList(call.params));
};

/** Sends the invoice mail (none in test mode) and `invoice.sent`. */
export const sendInvoice: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = findInvoice(call.account, id);
  if (rec.value.collection_method !== 'send_invoice') throw stateError('You can only manually send an invoice if its collection method is send_invoice.');
  if (rec.value.status !== 'open') throw stateError(`You can only send open invoices. This invoice is ${rec.value.status}.`, undefined, 'invoice_not_open');
  emit(ctxOf(call, rec.value.test_clock), 'invoice.sent', rec.value);
  return expand(call.account, rec.value, expandList(call.params));
};

/** Subscription invoices cannot be deleted, only voided (drafts of other invoices could be). */
export const deleteInvoice: Handler = (call, id) => {
  allowOnly(call.params, []);
  const rec = findInvoice(call.account, id);
  if (rec.meta.subscription) throw stateError("You can't delete invoices created by subscriptions.", undefined, 'invoice_not_editable');
  if (rec.value.status !== 'draft') throw stateError('You can only delete draft invoices.', undefined, 'invoice_not_editable');
  call.account.invoices.delete(id);
  emit(ctxOf(call, rec.value.test_clock), 'invoice.deleted', rec.value);
  return { id, object: 'invoice', deleted: true };
};

export const listInvoiceLines: Handler = (call, id) => {
  allowOnly(call.params, ['limit', 'starting_after', 'ending_before', 'expand']);
  const rec = findInvoice(call.account, id);
  const lines = rec.value.lines.data.map((value, i) => ({ seq: rec.value.lines.data.length - i, value, meta: {} }));
  return paginate(lines, () => true, call.params, `/v1/invoices/${id}/lines`, 'line_item');
};

export const listInvoiceItems: Handler = (call) => {
  allowOnly(call.params, ['customer', 'pending', 'invoice', 'limit', 'starting_after', 'ending_before', 'expand']);
  const customer = optString(call.params, 'customer');
  const pending = optBoolean(call.params, 'pending');
  const invoice = optString(call.params, 'invoice');
  return paginate(
    call.account.invoiceItems.values(),
    (ii) => (customer === undefined || ii.customer === customer) && (pending === undefined || (ii.invoice === null) === pending) && (invoice === undefined || ii.invoice === invoice),
    call.params,
    '/v1/invoiceitems',
    'invoiceitem',
  );
};

export const retrieveInvoiceItem: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = call.account.invoiceItems.get(id);
  if (!rec) throw noSuch('invoiceitem', id);
  return expand(call.account, rec.value, expandList(call.params));
};

export const deleteInvoiceItem: Handler = (call, id) => {
  allowOnly(call.params, []);
  const rec = call.account.invoiceItems.get(id);
  if (!rec) throw noSuch('invoiceitem', id);
  if (rec.value.invoice !== null) throw stateError('You can only delete pending invoice items (not yet on an invoice).', undefined, 'invoice_not_editable');
  call.account.invoiceItems.delete(id);
  emit(ctxOf(call, (rec.value.test_clock as string | null) ?? null), 'invoiceitem.deleted', { id, object: 'invoiceitem', deleted: true });
  return { id, object: 'invoiceitem', deleted: true };
};

export const retrievePaymentIntent: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = call.account.paymentIntents.get(id);
  if (!rec) throw noSuch('payment_intent', id);
  return expand(call.account, rec.value, expandList(call.params));
};

export const listInvoicePayments: Handler = (call) => {
  allowOnly(call.params, ['invoice', 'limit', 'starting_after', 'ending_before', 'expand', 'status']);
  const invoice = optString(call.params, 'invoice');
  const status = optString(call.params, 'status');
  return paginate(call.account.invoicePayments.values(), (p) => (invoice === undefined || p.invoice === invoice) && (status === undefined || p.status === status), call.params, '/v1/invoice_payments', 'invoice_payment');
};

export const retrieveInvoicePayment: Handler = (call, id) => {
  allowOnly(call.params, ['expand']);
  const rec = call.account.invoicePayments.get(id);
  if (!rec) throw noSuch('invoice_payment', id);
  return expand(call.account, rec.value, expandList(call.params));
};
