// A local stand-in for the Trigger Email extension (firebase/firestore-send-email): it watches the
// `mail` collection and sends each document through SMTP (to MailDev locally), honouring the
// extension's delivery contract on the document, so what the product writes is what a person reads.
//
//   delivery: { state, attempts, startTime, endTime, leaseExpireTime, error, info }
//   no delivery -> PENDING -> PROCESSING (leased 60 s) -> SUCCESS (info) | ERROR (error)
//   RETRY is treated like PENDING (set it by hand to send again); a PROCESSING document whose lease
//   expired becomes ERROR "Message processing lease expired.", as in the extension.
import { FieldValue, Timestamp, type DocumentReference, type Firestore } from 'firebase-admin/firestore';
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailWorkerOptions {
  db: Firestore;
  /** SMTP server (MailDev under `npm start` and the tests). */
  smtp: { host: string; port: number };
  collection?: string;
  /** The extension's DEFAULT_FROM. */
  from?: string;
  leaseMs?: number;
  log?: (line: string) => void;
}

export interface MailWorker {
  /** Resolves once every document seen so far has reached SUCCESS or ERROR. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

interface MailDoc {
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  from?: string;
  replyTo?: string;
  headers?: Record<string, string>;
  message?: { subject?: string; text?: string; html?: string };
  delivery?: { state: string; leaseExpireTime?: Timestamp | null };
}

const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export function startMailWorker(options: MailWorkerOptions): MailWorker {
  const { db, smtp, collection = 'mail', from = 'Tenancy <no-reply@tenancy.local>', leaseMs = 60_000, log = () => {} } = options;
  const transport: Transporter = nodemailer.createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true });
  const inFlight = new Set<Promise<void>>();

  const track = (work: Promise<void>) => {
    inFlight.add(work);
    work.catch((error) => log(`mail worker: ${error instanceof Error ? error.message : String(error)}`)).finally(() => inFlight.delete(work));
  };

  // The extension's onWrite: each write of a document moves it one state on, in a transaction.
  async function processWrite(ref: DocumentReference): Promise<void> {
    const deliver = await db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      if (!snap.exists) return false;
      const mail = snap.data() as MailDoc;
      if (typeof mail.message !== 'object') return false;
      if (!mail.delivery) {
        tx.update(ref, { delivery: { startTime: Timestamp.now(), state: 'PENDING', attempts: 0, error: null } });
        return false;
      }
      switch (mail.delivery.state) {
        case 'PENDING':
        case 'RETRY':
          tx.update(ref, { 'delivery.state': 'PROCESSING', 'delivery.leaseExpireTime': Timestamp.fromMillis(Date.now() + leaseMs) });
          return true;
        case 'PROCESSING':
          if ((mail.delivery.leaseExpireTime?.toMillis() ?? 0) < Date.now()) {
            tx.update(ref, { 'delivery.state': 'ERROR', 'delivery.error': 'Message processing lease expired.' });
          }
          return false;
        default:
          return false; // SUCCESS and ERROR are final
      }
    });
    if (deliver) await send(ref);
  }

  async function send(ref: DocumentReference): Promise<void> {
    const mail = (await ref.get()).data() as MailDoc | undefined;
    if (!mail || mail.delivery?.state !== 'PROCESSING') return;
    const update: Record<string, unknown> = {
      'delivery.attempts': FieldValue.increment(1),
      'delivery.endTime': FieldValue.serverTimestamp(),
      'delivery.error': null,
      'delivery.leaseExpireTime': null,
    };
    try {
      const [to, cc, bcc] = [list(mail.to), list(mail.cc), list(mail.bcc)];
      if (!to.length && !cc.length && !bcc.length) throw new Error('Failed to deliver email. Expected at least 1 recipient.');
      const result = await transport.sendMail({
        from: mail.from ?? from,
        replyTo: mail.replyTo,
        to,
        cc,
        bcc,
        headers: mail.headers ?? {},
        subject: mail.message?.subject,
        text: mail.message?.text,
        html: mail.message?.html,
      });
      update['delivery.state'] = 'SUCCESS';
      update['delivery.info'] = {
        messageId: result.messageId ?? null,
        accepted: result.accepted ?? [],
        rejected: result.rejected ?? [],
        pending: (result as { pending?: string[] }).pending ?? [],
        response: result.response ?? null,
      };
      log(`mail ${ref.id} → ${to.join(', ')}: ${mail.message?.subject ?? ''}`);
    } catch (error) {
      update['delivery.state'] = 'ERROR';
      update['delivery.error'] = String(error);
      log(`mail ${ref.id} failed: ${String(error)}`);
    }
    await ref.update(update);
  }

  const unsubscribe = db.collection(collection).onSnapshot(
    (snapshot) => {
      for (const change of snapshot.docChanges()) {
        if (change.type !== 'removed') track(processWrite(change.doc.ref));
      }
    },
    (error) => log(`mail worker: listening to ${collection} failed: ${error.message}`),
  );

  return {
    async idle() {
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
    async stop() {
      unsubscribe();
      await this.idle();
      transport.close();
    },
  };
}
