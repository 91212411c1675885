/** Mail in the Trigger Email extension's format (`mail/{id}`): one builder for every message the product sends. */
export interface OutgoingMail {
  to: string;
  tenantId: string;
  message: { subject: string; text: string; html: string };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
