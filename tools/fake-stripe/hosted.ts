// Stripe-hosted pages the simulator serves on its own origin. Today: the Hosted Invoice Page a
// finalized invoice links to (`hosted_invoice_url`), read-only. Checkout and the customer portal
// (issue 12) belong here too, over the account's checkoutSessions / billingPortalSessions.
import { money } from './billing';
import type { Account, Invoice } from './state';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const day = (unix: number | null) => (unix === null ? '—' : new Date(unix * 1000).toISOString().slice(0, 10));

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
<p>Amount due <strong>${escape(money(invoice.amount_due, invoice.currency))}</strong> · due ${day(invoice.due_date)} · paid ${escape(money(invoice.amount_paid, invoice.currency))}</p>
<table>${rows}<tr><td><strong>Total</strong></td><td class="n"><strong>${escape(money(invoice.total, invoice.currency))}</strong></td></tr></table>
<p class="note">Local Stripe simulator (fake-stripe): a read-only stand-in for Stripe's Hosted Invoice Page.</p>
</body></html>`;
}
