// Stripe-hosted pages the simulator serves on its own origin: the Hosted Invoice Page a finalized
// invoice links to (`hosted_invoice_url`, read-only), Checkout's page of a setup-mode session
// (checkout.ts) and the customer portal (portal.ts). Plain HTML forms, no script.
import { money } from './billing';
import { TEST_CARD_NUMBERS } from './checkout';
import type { portalView } from './portal';
import type { Account, CheckoutSession, Invoice } from './state';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (unix: number) => new Date(unix * 1000).toISOString().slice(0, 10);

export function findInvoice(accounts: Iterable<Account>, id: string): { account: Account; invoice: Invoice } | null {
  for (const account of accounts) {
    const rec = account.invoices.get(id);
    if (rec && rec.value.status !== 'draft') return { account, invoice: rec.value };
  }
  return null;
}

export function hostedInvoicePage(account: Account, invoice: Invoice): string {
  const customer = account.customers.get(invoice.customer)?.value;
  const rows = invoice.lines.data
    .map((line) => `<tr><td>${escape(line.description)}</td><td class="n">${escape(money(line.amount, invoice.currency))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice ${escape(invoice.number ?? invoice.id)}</title>
<style>body{font:15px system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#1a1f36}table{width:100%;border-collapse:collapse}
td{padding:.4rem 0;border-bottom:1px solid #e3e8ee}.n{text-align:right}.status{display:inline-block;padding:.1rem .5rem;border-radius:4px;background:#e3e8ee}
.note{color:#697386;font-size:13px;margin-top:2rem}</style></head>
<body><h1>Invoice ${escape(invoice.number ?? invoice.id)}</h1>
<p><span class="status">${escape(invoice.status)}</span> · billed to ${escape(customer?.name ?? customer?.email ?? invoice.customer)}</p>
<p>Amount due <strong>${escape(money(invoice.amount_due, invoice.currency))}</strong>${invoice.due_date === null ? '' : ` · due ${day(invoice.due_date)}`} · paid ${escape(money(invoice.amount_paid, invoice.currency))}</p>
<table>${rows}<tr><td><strong>Total</strong></td><td class="n"><strong>${escape(money(invoice.total, invoice.currency))}</strong></td></tr></table>
<p class="note">Local Stripe simulator (fake-stripe): a read-only stand-in for Stripe's Hosted Invoice Page.</p>
</body></html>`;
}

// ---------------------------------------------------------------- Checkout (setup mode)

const STYLE = `<style>body{font:15px system-ui,sans-serif;max-width:34rem;margin:2.5rem auto;padding:0 1rem;color:#1a1f36}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,select{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;border:1px solid #c1c9d2;border-radius:6px}
.row{display:flex;gap:.6rem}.row>div{flex:1}button{font:inherit;margin-top:1rem;padding:.6rem 1rem;border:0;border-radius:6px;background:#635bff;color:#fff;cursor:pointer}
button.secondary{background:#e3e8ee;color:#1a1f36}button.danger{background:#df1b41}.box{border:1px solid #e3e8ee;border-radius:8px;padding:1rem;margin:1rem 0}
.error{background:#fde8ec;color:#a41c34;padding:.6rem .8rem;border-radius:6px}.ok{background:#e6f6ea;color:#1d6b34;padding:.6rem .8rem;border-radius:6px}
.muted{color:#697386;font-size:13px}table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem 0;border-bottom:1px solid #e3e8ee}
.note{color:#697386;font-size:12px;margin-top:2rem;border-top:1px solid #e3e8ee;padding-top:.6rem}a{color:#635bff}</style>`;

const page = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escape(title)}</title>${STYLE}</head><body>${body}
<p class="note">Local Stripe simulator (fake-stripe): a stand-in for a Stripe-hosted page. Test cards only; nothing leaves this machine.</p></body></html>`;

const TEST_CARD_HINT = Object.entries(TEST_CARD_NUMBERS)
  .map(([number, card]) => `<li><code>${number.replace(/(\d{4})(?=\d)/g, '$1 ')}</code>: ${escape(card.label)}</li>`)
  .join('');

function cardFields(): string {
  return `<label for="card_number">Card number</label><input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234" required>
<div class="row"><div><label for="expiry">Expiry (MM / YY)</label><input id="expiry" name="expiry" value="12 / 34" required></div><div><label for="cvc">CVC</label><input id="cvc" name="cvc" value="123" required></div></div>
<details class="muted"><summary>Test cards</summary><ul>${TEST_CARD_HINT}</ul></details>`;
}

/** The Stripe-hosted Checkout page of a setup-mode session: the card form, or why the session is closed. */
export function checkoutPage(account: Account, session: CheckoutSession, error: string | null): string {
  const customer = account.customers.get(session.customer)?.value;
  const title = `Set up payment · ${customer?.name ?? 'your account'}`;
  if (session.status !== 'open') {
    const back = session.cancel_url ? `<p><a href="${escape(session.cancel_url)}">Return to the site</a></p>` : '';
    return page(title, `<h1>This checkout ${session.status === 'complete' ? 'is complete' : 'has expired'}</h1>${back}`);
  }
  const submit = (session.custom_text as { submit?: { message: string } | null } | undefined)?.submit;
  const back = session.cancel_url ? `<p><a href="${escape(session.cancel_url)}" data-testid="checkout-back">← Back</a></p>` : '';
  return page(
    title,
    `${back}<h1>Save a card for ${escape(customer?.name ?? 'your account')}</h1>
<p class="muted">Email: ${escape(customer?.email ?? '—')}</p>
${submit ? `<div class="box" data-testid="checkout-terms">${escape(submit.message)}</div>` : ''}
${error ? `<p class="error" role="alert" data-testid="checkout-error">${escape(error)}</p>` : ''}
<form method="post" aria-label="Card details">${cardFields()}<button type="submit">Save card</button></form>`,
  );
}

// ---------------------------------------------------------------- customer portal

const dateOf = (unix: number | null) => (unix === null ? '—' : new Date(unix * 1000).toISOString().slice(0, 10));

/** The Stripe-hosted customer portal: a confirm flow, or the homepage with what the configuration allows. */
export function portalPage(account: Account, view: ReturnType<typeof portalView>): string {
  const { session, configuration, customer, subscriptions, card, invoices, notice, flowDone } = view;
  const { features } = configuration;
  const back = session.return_url ? `<p><a href="${escape(session.return_url)}" data-testid="portal-return">← Return to ${escape(String((configuration.business_profile as { headline?: string | null })?.headline ?? 'the site'))}</a></p>` : '';
  const noticeHtml = notice ? `<p class="${notice.tone}" role="${notice.tone === 'error' ? 'alert' : 'status'}" data-testid="portal-notice">${escape(notice.text)}</p>` : '';
  const priceName = (priceId: string) => {
    const price = account.prices.get(priceId)?.value;
    return price ? `${account.products.get(price.product)?.value.name ?? price.product} (${money(price.unit_amount, price.currency)} per seat / ${price.recurring?.interval ?? 'month'})` : priceId;
  };

  const confirm = session.flow?.subscription_update_confirm as { subscription: string; items: Array<{ id: string; price?: string; quantity?: number }> } | null | undefined;
  if (confirm && !flowDone) {
    const sub = account.subscriptions.get(confirm.subscription)?.value;
    const item = sub?.items.data.find((i) => i.id === confirm.items[0].id);
    const newPrice = confirm.items[0].price ?? item?.price.id ?? '';
    const newQuantity = confirm.items[0].quantity ?? item?.quantity ?? 1;
    const unit = account.prices.get(newPrice)?.value;
    const proration = features.subscription_update.proration_behavior;
    const how =
      sub?.status === 'trialing'
        ? 'You are in a trial: nothing is charged until it ends.'
        : proration === 'none'
          ? 'The change applies from your next invoice; nothing is prorated.'
          : proration === 'always_invoice'
            ? 'The prorated difference is invoiced and charged now.'
            : 'The prorated difference for the rest of this period is added to your next invoice.';
    return page(
      'Confirm your update',
      `${back}<h1>Confirm your update</h1>${noticeHtml}
<div class="box" data-testid="portal-confirm"><p>${escape(priceName(item?.price.id ?? ''))}: <strong>${item?.quantity ?? '—'}</strong> seats now</p>
<p>New: ${escape(priceName(newPrice))}: <strong data-testid="portal-new-quantity">${newQuantity}</strong> seats${unit ? `, ${escape(money(unit.unit_amount * newQuantity, unit.currency))} per ${unit.recurring?.interval ?? 'month'}` : ''}</p>
<p class="muted">${escape(how)}</p></div>
<form method="post"><input type="hidden" name="action" value="confirm_update"><button type="submit">Confirm</button></form>`,
    );
  }

  const update = features.subscription_update;
  const planOptions = update.products.flatMap((p) => p.prices);
  const subs = subscriptions
    .map(({ sub, periodEnd }) => {
      const item = sub.items.data[0];
      const ends = sub.cancel_at !== null;
      const state =
        sub.status === 'trialing'
          ? `Trial ends ${dateOf(sub.trial_end)}`
          : sub.status === 'paused'
            ? 'Paused'
            : sub.status === 'past_due'
              ? 'Payment failed: update your payment method'
              : `Renews ${dateOf(periodEnd)}`;
      const planForm =
        update.enabled && update.default_allowed_updates.includes('price') && !ends
          ? `<form method="post" aria-label="Change plan"><input type="hidden" name="action" value="update_plan"><input type="hidden" name="subscription" value="${sub.id}">
<label for="price-${sub.id}">Plan</label><select id="price-${sub.id}" name="price">${planOptions.map((p) => `<option value="${p}"${p === item.price.id ? ' selected' : ''}>${escape(priceName(p))}</option>`).join('')}</select>
<button type="submit" class="secondary">Update plan</button></form>`
          : '';
      const quantityForm =
        update.enabled && update.default_allowed_updates.includes('quantity') && !ends
          ? `<form method="post" aria-label="Change quantity"><input type="hidden" name="action" value="update_quantity"><input type="hidden" name="subscription" value="${sub.id}">
<label for="quantity-${sub.id}">Quantity</label><input id="quantity-${sub.id}" name="quantity" type="number" min="1" value="${item.quantity}"><button type="submit" class="secondary">Update quantity</button></form>`
          : '';
      const cancelForm = !features.subscription_cancel.enabled
        ? ''
        : ends
          ? `<p data-testid="portal-cancels">Cancels on <strong>${dateOf(sub.cancel_at)}</strong>.</p><form method="post"><input type="hidden" name="action" value="renew"><input type="hidden" name="subscription" value="${sub.id}"><button type="submit">Renew plan</button></form>`
          : `<form method="post" aria-label="Cancel plan"><input type="hidden" name="action" value="cancel"><input type="hidden" name="subscription" value="${sub.id}"><button type="submit" class="danger">Cancel plan</button></form>`;
      return `<div class="box" data-testid="portal-subscription"><h2>${escape(priceName(item.price.id))}</h2>
<p><strong data-testid="portal-quantity">${item.quantity}</strong> seats · ${escape(state)}</p>${planForm}${quantityForm}${cancelForm}</div>`;
    })
    .join('');
  const cardHtml = features.payment_method_update.enabled
    ? `<div class="box"><h2>Payment method</h2><p data-testid="portal-card">${card ? `${escape(String(card.brand))} ending in ${escape(String(card.last4))}` : 'No card on file'}</p>
<form method="post" aria-label="Update payment method"><input type="hidden" name="action" value="update_card">${cardFields()}<button type="submit" class="secondary">Update payment method</button></form></div>`
    : '';
  const invoiceHtml = features.invoice_history.enabled
    ? `<div class="box"><h2>Invoice history</h2><table><tr><th>Date</th><th>Amount</th><th>Status</th></tr>${invoices
        .map((i) => `<tr><td><a href="${escape(i.hosted_invoice_url ?? '#')}">${dateOf(i.created)}</a></td><td>${escape(money(i.total, i.currency))}</td><td>${escape(i.status)}</td></tr>`)
        .join('')}</table></div>`
    : '';
  return page(
    `Billing · ${customer.name ?? customer.email ?? ''}`,
    `${back}<h1>${escape(customer.name ?? 'Billing')}</h1><p class="muted">${escape(customer.email ?? '')}</p>${noticeHtml}
${subs || '<p>No active subscription.</p>'}${cardHtml}${invoiceHtml}`,
  );
}
