import { Timestamp, type DocumentData, type DocumentSnapshot, type Firestore, type Transaction } from 'firebase-admin/firestore';
import { COLLECTIONS } from '../adapters/firestore';
import { mailIds } from '../domain/lifecycle';
import { escapeHtml, type OutgoingMail } from '../domain/mail';

/** One reminder document per (tenant, trial end): the sweep and Stripe's trial_will_end write the same one. */
export const reminderRef = (db: Firestore, tenantId: string, trialEndsAtMs: number) =>
  db.collection(COLLECTIONS.mail).doc(mailIds.trialReminder(tenantId, trialEndsAtMs));

/** With the tenant and its reminder already read in `tx`: queues the reminder, or says why not. */
export function queueReminderInTransaction(tx: Transaction, tenant: DocumentSnapshot, mail: DocumentSnapshot, trialEndsAtMs: number): 'queued' | string {
  if (!tenant.exists) return 'the tenant does not exist';
  if (tenant.get('status') !== 'trial') return `the tenant is now '${tenant.get('status')}'`;
  // A sales tenant's trial ends at go-live and is billed by invoice: there is no card to add.
  if (tenant.get('source') === 'sales') return 'billed by invoice: no payment method to add';
  const current = tenant.get('trialEndsAt');
  if (!(current instanceof Timestamp) || current.toMillis() !== trialEndsAtMs) return 'its trial end has changed';
  if (mail.exists) return 'already reminded';
  tx.create(mail.ref, trialReminderMail(tenant.id, tenant.data()!, new Date(trialEndsAtMs)));
  return 'queued';
}

function trialReminderMail(tenantId: string, tenant: DocumentData, trialEndsAt: Date): OutgoingMail {
  const name = String(tenant.name ?? 'your organisation');
  const day = trialEndsAt.toISOString().slice(0, 10);
  return {
    to: tenant.billingEmail,
    tenantId,
    message: {
      subject: `Your ${name} trial ends on ${day}`,
      text: `The trial of ${name} ends on ${day}. Add a payment method to keep working without interruption.`,
      html: `<p>The trial of <strong>${escapeHtml(name)}</strong> ends on ${day}. Add a payment method to keep working without interruption.</p>`,
    },
  };
}
