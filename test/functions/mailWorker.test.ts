// Issue 9, part 4: mail a person can read locally. The local mail worker (started by scripts/emulators.mjs
// beside the emulators, as under `npm start`) delivers mail/ documents to the local inbox (MailDev) and
// writes the Trigger Email extension's delivery contract back on each document.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Timestamp } from 'firebase-admin/firestore';
import { createServer } from 'node:net';
import { startMailWorker } from '../../tools/mail-worker/worker';
import { clearEmulators, db, eventually } from '../helpers/emulators';
import { clearInbox, inbox, mailTo } from '../helpers/inbox';

beforeEach(async () => {
  await clearEmulators();
  await clearInbox();
});

const delivery = async (id: string, states: string[]) =>
  eventually(async () => {
    const data = (await db.doc(`mail/${id}`).get()).get('delivery');
    return data && states.includes(data.state) ? data : null;
  }, `mail/${id} to reach ${states.join(' or ')}`);

describe('the local mail worker', () => {
  it('delivers a mail document to the inbox: PENDING → PROCESSING → SUCCESS, with attempts and info', async () => {
    await db.doc('mail/hello').set({ to: 'ada@acme.test', message: { subject: 'Hello Ada', text: 'Plain words', html: '<p>Rich <b>words</b></p>' } });
    const done = await delivery('hello', ['SUCCESS', 'ERROR']);
    expect(done).toMatchObject({ state: 'SUCCESS', attempts: 1, error: null, leaseExpireTime: null });
    expect(done.info.accepted).toEqual(['ada@acme.test']);
    expect(done.info.messageId).toMatch(/^<.+>$/);
    expect(done.startTime).toBeInstanceOf(Timestamp);
    expect(done.endTime).toBeInstanceOf(Timestamp);
    const mail = await mailTo('ada@acme.test', /^Hello Ada$/);
    expect([mail.text.trim(), mail.html]).toEqual(['Plain words', '<p>Rich <b>words</b></p>']);
    expect(mail.from[0].address).toBe('no-reply@tenancy.local');
  });

  it('sends to every recipient of to, cc and bcc, and once only', async () => {
    await db.doc('mail/team').set({ to: ['a@x.test', 'b@x.test'], cc: 'c@x.test', bcc: ['d@x.test'], message: { subject: 'Team', text: 't', html: '<p>t</p>' } });
    expect((await delivery('team', ['SUCCESS'])).info.accepted.sort()).toEqual(['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await inbox()).filter((m) => m.subject === 'Team')).toHaveLength(1);
  });

  it('ends in ERROR, sending nothing, for a document without recipients; RETRY sends it once it has one', async () => {
    await db.doc('mail/nobody').set({ message: { subject: 'Lost', text: 'x', html: '<p>x</p>' } });
    const failed = await delivery('nobody', ['SUCCESS', 'ERROR']);
    expect(failed).toMatchObject({ state: 'ERROR', attempts: 1 });
    expect(failed.error).toMatch(/Expected at least 1 recipient/);
    expect(await inbox()).toEqual([]);

    await db.doc('mail/nobody').update({ to: 'found@x.test', 'delivery.state': 'RETRY' });
    const retried = await delivery('nobody', ['SUCCESS']);
    expect([retried.attempts, retried.error]).toEqual([2, null]);
    await mailTo('found@x.test', /^Lost$/);
  });

  it('leaves a document without a message alone', async () => {
    await db.doc('mail/empty').set({ to: 'x@x.test' });
    await db.doc('mail/marker').set({ to: 'marker@x.test', message: { subject: 'Marker', text: 'm', html: '<p>m</p>' } });
    await delivery('marker', ['SUCCESS']);
    expect((await db.doc('mail/empty').get()).get('delivery')).toBeUndefined();
  });

  it('marks a document ERROR whose processing lease expired (a sender that died mid-send), without sending it', async () => {
    await db.doc('mail/orphaned').set({
      to: 'late@x.test',
      message: { subject: 'Late', text: 'l', html: '<p>l</p>' },
      delivery: { state: 'PROCESSING', attempts: 0, startTime: Timestamp.now(), leaseExpireTime: Timestamp.fromMillis(Date.now() - 1000), error: null },
    });
    const expired = await delivery('orphaned', ['ERROR']);
    expect(expired.error).toBe('Message processing lease expired.');
    expect((await inbox()).filter((m) => m.subject === 'Late')).toHaveLength(0);
  });
});

describe('a mail worker whose SMTP server is down', () => {
  let closedPort: number;
  const worker = (async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closedPort = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    return startMailWorker({ db, smtp: { host: '127.0.0.1', port: closedPort }, collection: 'mailWhileSmtpDown' });
  })();
  afterAll(async () => (await worker).stop());

  it('records the SMTP error on the document as ERROR', async () => {
    await worker;
    await db.doc('mailWhileSmtpDown/m1').set({ to: 'x@x.test', message: { subject: 'S', text: 's', html: '<p>s</p>' } });
    const failed = await eventually(async () => {
      const data = (await db.doc('mailWhileSmtpDown/m1').get()).get('delivery');
      return data?.state === 'ERROR' ? data : null;
    }, 'the SMTP failure to be recorded');
    expect(failed.attempts).toBe(1);
    expect(failed.error).toMatch(/ECONNREFUSED/);
  });
});
