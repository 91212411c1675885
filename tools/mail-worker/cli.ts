// `node --import tsx tools/mail-worker/cli.ts --smtp 127.0.0.1:1025`: delivers the `mail` collection of the
// Firestore emulator named by FIRESTORE_EMULATOR_HOST and GCLOUD_PROJECT (scripts/emulators.mjs sets both).
import { getApps, initializeApp } from 'firebase-admin/app';
import { getFirestore } from 'firebase-admin/firestore';
import { startMailWorker } from './worker';

const arg = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const smtp = arg('smtp') ?? '127.0.0.1:1025';
const [host, port] = [smtp.slice(0, smtp.lastIndexOf(':')), Number(smtp.slice(smtp.lastIndexOf(':') + 1))];
const projectId = process.env.GCLOUD_PROJECT;
if (!projectId || !process.env.FIRESTORE_EMULATOR_HOST) {
  console.error('mail worker: set FIRESTORE_EMULATOR_HOST and GCLOUD_PROJECT (scripts/emulators.mjs does)');
  process.exit(1);
}
const db = getFirestore(getApps()[0] ?? initializeApp({ projectId }));
const worker = startMailWorker({ db, smtp: { host, port }, log: (line) => (process.env.MAIL_WORKER_QUIET ? undefined : console.log(line)) });
console.log(`mail worker delivering ${projectId}/mail to smtp://${host}:${port}`);
const stop = () => void worker.stop().finally(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
