// Stripe-hosted pages the simulator serves on its own origin, in Stripe's place: the Hosted Invoice
// Page (`hosted_invoice_url`, read-only), Checkout (`session.url`: pay or save a card with a test card)
// and the customer portal (`session.url`: change plan or seats, cancel or renew, replace the card,
// start a paused subscription). Plain HTML forms; every action goes through the simulator's API logic.
import { money } from './billing';
import { completeCheckout, lineItemsOf } from './checkout';
import { newId } from './ids';
import { portalAction, portalContext, type PortalContext } from './portal';
import { runDueEverywhere } from './scheduler';
import type { Account, CheckoutSession, Invoice } from './state';

export interface HostedReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const escape = (text: unknown) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (unix: number) => new Date(unix * 1000).toISOString().slice(0, 10);
const html = (status: number, body: string): HostedReply => ({ status, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body });
const redirect = (location: string): HostedReply => ({ status: 303, headers: { Location: location }, body: '' });

const STYLE = `body{font:15px system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}
table{width:100%;border-collapse:collapse}td{padding:.4rem 0;border-bottom:1px solid #e3e8ee}.n{text-align:right}
.status{display:inline-block;padding:.1rem .5rem;border-radius:4px;background:#e3e8ee}.note{color:#697386;font-size:13px;margin-top:2rem}
.error{color:#c0123c;font-weight:600}.notice{color:#0e6245;font-weight:600}section{border:1px solid #e3e8ee;border-radius:8px;padding:1rem;margin:1rem 0}
button{background:#635bff;color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;font:inherit;cursor:pointer}button.secondary{background:#fff;color:#1a1f36;border:1px solid #c1c9d2}
label{display:block;margin:.3rem 0}input[type=number]{width:5rem}form.inline{display:inline}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><style>${STYLE}</style></head><body>${body}
<p class="note">Local Stripe simulator (fake-stripe): a stand-in for Stripe's hosted page. Test cards only.</p></body></html>`;
}

/** The test cards a hosted page offers: one that pays, and ones that decline. */
const CARDS: Array<{ token: string; label: string }> = [
  { token: 'pm_card_visa', label: 'Visa •••• 4242 (succeeds)' },
  { token: 'pm_card_chargeDeclined', label: 'Visa •••• 0002 (declined)' },
  { token: 'pm_card_chargeCustomerFail', label: 'Visa •••• 0341 (saved, then every charge declined)' },
];
const cardChoices = () =>
  CARDS.map((c, i) => `<label><input type="radio" name="card" value="${c.token}" data-testid="card-${c.token}"${i === 0 ? ' checked' : ''}> ${escape(c.label)}</label>`).join('');

function find<T>(accounts: Iterable<Account>, pick: (account: Account) => T | undefined): { account: Account; found: T } | null {
  for (const account of accounts) {
    const found = pick(account);
    if (found) return { account, found };
  }
  return null;
}

// ---------------------------------------------------------------- invoice

function invoicePage(account: Account, invoice: Invoice): string {
  const customer = account.customers.get(invoice.customer)?.value;
  const rows = invoice.lines.data.map((line) => `<tr><td>${escape(line.description)}</td><td class="n">${escape(money(line.amount, invoice.currency))}</td></tr>`).join('');
  return page(
    `Invoice ${invoice.number ?? invoice.id}`,
    `<h1>Invoice ${escape(invoice.number ?? invoice.id)}</h1>
<p><span class="status">${escape(invoice.status)}</span> · billed to ${escape(customer?.name ?? customer?.email ?? invoice.customer)}</p>
<p>Amount due <strong>${escape(money(invoice.amount_due, invoice.currency))}</strong>${invoice.due_date === null ? '' : ` · due ${day(invoice.due_date)}`} · paid ${escape(money(invoice.amount_paid, invoice.currency))}</p>
<table>${rows}<tr><td><strong>Total</strong></td><td class="n"><strong>${escape(money(invoice.total, invoice.currency))}</strong></td></tr></table>`,
  );
}

// ---------------------------------------------------------------- checkout

function checkoutPage(account: Account, session: CheckoutSession, rec: Parameters<typeof lineItemsOf>[1], error?: string): string {
  const title = session.mode === 'setup' ? 'Save a card' : 'Subscribe';
  if (session.status !== 'open') return page(title, `<h1>${title}</h1><p class="error" data-testid="error">This Checkout Session is ${escape(session.status)}.</p>`);
  const customer = session.customer ? account.customers.get(session.customer)?.value : undefined;
  const items = (lineItemsOf(account, rec) as { data: Array<{ description: string; quantity: number; amount_total: number; currency: string; price: { recurring: { interval: string } | null } }> }).data;
  const rows = items
    .map((i) => `<tr><td>${escape(i.description)} × ${i.quantity}</td><td class="n">${escape(money(i.amount_total, i.currency))} / ${escape(i.price.recurring?.interval ?? 'month')}</td></tr>`)
    .join('');
  const data = rec.meta.subscriptionData as { trial_period_days?: string; trial_end?: string };
  const trial = data.trial_period_days ? `${data.trial_period_days} days free` : data.trial_end ? `Free until ${day(Number(data.trial_end))}` : '';
  const email = customer?.email ?? session.customer_email;
  return page(
    title,
    `<h1>${title}</h1>
${session.mode === 'subscription' ? `<table data-testid="line-items">${rows}</table>${trial ? `<p data-testid="trial">${escape(trial)}, then billed as above.</p>` : ''}<p>Due today <strong data-testid="due">${escape(money(Number(session.amount_total), String(session.currency)))}</strong></p>` : '<p>Save a card for future payments.</p>'}
${error ? `<p class="error" data-testid="error">${escape(error)}</p>` : ''}
<form method="post">
<label>Email <input name="email" type="email" value="${escape(email ?? '')}"${email ? ' readonly' : ''} required></label>
<fieldset><legend>Card</legend>${cardChoices()}</fieldset>
<p><button type="submit" data-testid="pay">${session.mode === 'setup' ? 'Save card' : 'Subscribe'}</button>${session.cancel_url ? ` <a href="${escape(session.cancel_url)}" data-testid="cancel">Cancel</a>` : ''}</p>
</form>`,
  );
}

// ---------------------------------------------------------------- portal

function portalPage(account: Account, context: PortalContext, notice?: string, error?: string): string {
  const { session, config, subscriptions } = context;
  const features = config.features;
  const customer = account.customers.get(session.customer)?.value;
  const base = `/portal/${session.id}`;
  const prices = features.subscription_update.products.flatMap((p) => p.prices.map((id) => account.prices.get(id)?.value).filter((x) => x !== undefined));
  const subs = subscriptions
    .map((sub) => {
      const [item] = sub.items.data;
      const status = sub.status === 'trialing' ? `trial until ${day(sub.trial_end!)}` : sub.cancel_at ? `ends ${day(sub.cancel_at)}` : `renews ${day(item.current_period_end)}`;
      const update = features.subscription_update.enabled
        ? `<form method="post" action="${base}/update/${sub.id}" data-testid="update-form">
<label>Plan <select name="price" data-testid="price">${prices.map((p) => `<option value="${p.id}"${p.id === item.price.id ? ' selected' : ''}>${escape(account.products.get(p.product)?.value.name ?? p.product)} (${escape(money(p.unit_amount, p.currency))} / ${escape(p.recurring?.interval)})</option>`).join('')}</select></label>
<label>Seats <input type="number" min="1" name="quantity" value="${item.quantity}" data-testid="quantity"></label>
<button type="submit" data-testid="update">Update subscription</button></form>`
        : '';
      const cancel =
        sub.cancel_at !== null
          ? `<form class="inline" method="post" action="${base}/renew/${sub.id}"><button type="submit" class="secondary" data-testid="renew">Renew subscription</button></form>`
          : features.subscription_cancel.enabled && sub.status !== 'paused'
            ? `<form class="inline" method="post" action="${base}/cancel/${sub.id}"><button type="submit" class="secondary" data-testid="cancel">Cancel subscription</button></form>`
            : '';
      const start =
        sub.status === 'paused'
          ? `<form method="post" action="${base}/start/${sub.id}" data-testid="start-form"><p>Your trial ended. Add a card to start your subscription.</p>${cardChoices()}<button type="submit" data-testid="start">Start subscription</button></form>`
          : '';
      return `<section data-testid="subscription-${sub.id}"><h2>${escape(account.products.get(item.price.product)?.value.name ?? item.price.product)} × ${item.quantity}</h2>
<p><span class="status" data-testid="status">${escape(sub.status)}</span> · ${escape(status)}</p>${start}${sub.status === 'paused' ? '' : update}<p>${cancel}</p></section>`;
    })
    .join('');
  // The card charged: the customer's default, or a subscription's own (Checkout sets that one).
  const cardId = customer?.invoice_settings.default_payment_method ?? subscriptions.find((s) => s.default_payment_method)?.default_payment_method ?? null;
  const card = cardId ? account.paymentMethods.get(cardId)?.value.card : undefined;
  const paymentMethod = features.payment_method_update.enabled
    ? `<section><h2>Payment method</h2><p data-testid="current-card">${card ? `${escape(card.brand)} •••• ${escape(card.last4)}` : 'None'}</p>
<form method="post" action="${base}/payment_method">${cardChoices()}<button type="submit" data-testid="save-card">Use this card</button></form></section>`
    : '';
  const invoices = features.invoice_history.enabled
    ? `<section><h2>Invoices</h2><table>${[...account.invoices.values()]
        .map((i) => i.value)
        .filter((i) => i.customer === session.customer && i.status !== 'draft')
        .reverse()
        .map((i) => `<tr><td><a href="${escape(i.hosted_invoice_url)}">${escape(i.number)}</a></td><td>${escape(i.status)}</td><td class="n">${escape(money(i.total, i.currency))}</td></tr>`)
        .join('')}</table></section>`
    : '';
  return page(
    'Billing',
    `<h1>Billing for ${escape(customer?.name ?? customer?.email ?? session.customer)}</h1>
${notice ? `<p class="notice" data-testid="notice">${escape(notice)}</p>` : ''}${error ? `<p class="error" data-testid="error">${escape(error)}</p>` : ''}
${subs || '<p>No active subscription.</p>'}${paymentMethod}${invoices}
<p><a href="${escape(session.return_url)}" data-testid="return">Return</a></p>`,
  );
}

/** A hosted page request, or null when the path is not one. `form` is the decoded body of a POST. */
export function hostedRequest(accounts: Iterable<Account>, method: string, url: URL, form: Record<string, string>): HostedReply | null {
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] === 'hosted' && parts[1] === 'invoices' && parts.length === 3 && method === 'GET') {
    const hit = find(accounts, (a) => a.invoices.get(parts[2]));
    return hit && hit.found.value.status !== 'draft' ? html(200, invoicePage(hit.account, hit.found.value)) : html(404, page('Not found', '<p>No such invoice.</p>'));
  }
  if (parts[0] === 'checkout' && parts.length === 2) {
    const hit = find(accounts, (a) => a.checkoutSessions.get(parts[1]));
    if (!hit) return html(404, page('Not found', '<p>No such Checkout Session.</p>'));
    const { account, found: rec } = hit;
    if (method === 'GET') return html(200, checkoutPage(account, rec.value, rec));
    if (method !== 'POST') return null;
    const result = completeCheckout(account, rec, { card: form.card || null, email: form.email || null }, newId('req'));
    runDueEverywhere(account);
    return result.ok ? redirect(result.redirect) : html(402, checkoutPage(account, rec.value, rec, result.message));
  }
  if (parts[0] === 'portal' && parts.length >= 2) {
    const hit = find(accounts, (a) => portalContext(a, parts[1]) ?? undefined);
    if (!hit) return html(404, page('Not found', '<p>No such portal session.</p>'));
    const { account, found: context } = hit;
    if (method === 'GET' && parts.length === 2) return html(200, portalPage(account, context, url.searchParams.get('notice') ?? undefined));
    if (method !== 'POST' || parts.length < 3) return null;
    const result = portalAction(account, context, parts[2], parts[3], form, newId('req'));
    runDueEverywhere(account);
    if (!result.ok) return html(400, portalPage(account, portalContext(account, parts[1])!, undefined, result.message));
    return redirect(result.redirect ?? `/portal/${parts[1]}?notice=${encodeURIComponent(result.notice)}`);
  }
  return null;
}
