// The local inbox (MailDev, started by scripts/emulators.mjs beside the local mail worker): what the
// product's mail documents became once delivered through SMTP, read over MailDev's REST API.
import { eventually } from './emulators';

export interface DeliveredMail {
  id: string;
  subject: string;
  text: string;
  html: string;
  to: { address: string }[];
  from: { address: string; name: string }[];
}

function inboxUrl(): string {
  const url = process.env.MAIL_INBOX_URL;
  if (!url) throw new Error('MAIL_INBOX_URL is not set: run the tests with `npm test`, which starts the mail catcher');
  return url;
}

export async function inbox(): Promise<DeliveredMail[]> {
  const response = await fetch(`${inboxUrl()}/api/email`);
  if (!response.ok) throw new Error(`reading the inbox: HTTP ${response.status}`);
  return (await response.json()) as DeliveredMail[];
}

export async function clearInbox(): Promise<void> {
  const response = await fetch(`${inboxUrl()}/api/email/all`, { method: 'DELETE' });
  if (!response.ok) throw new Error(`clearing the inbox: HTTP ${response.status}`);
}

/** Waits for the mail to `to` whose subject matches, as a person waits for it in their inbox. */
export async function mailTo(to: string, subject: RegExp, limitMs = 60_000): Promise<DeliveredMail> {
  return eventually(
    async () => (await inbox()).find((mail) => mail.to.some((r) => r.address === to) && subject.test(mail.subject)),
    `mail to ${to} matching ${subject}`,
    limitMs,
  );
}

/** The links of a mail's HTML part, decoded as a browser would follow them. */
export function linksIn(mail: DeliveredMail): { text: string; href: string }[] {
  const decode = (s: string) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
  return [...mail.html.matchAll(/<a href="([^"]+)">([^<]*)<\/a>/g)].map(([, href, text]) => ({ href: decode(href), text: decode(text) }));
}
