// Connects tests to the emulator suite that `npm test` started (emulators:exec sets the env vars).
import { getApps, initializeApp as initializeAdminApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';
import { deleteApp, initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth as getClientAuth, signInWithEmailAndPassword } from 'firebase/auth';
import { connectFunctionsEmulator, getFunctions, httpsCallable, type HttpsCallable } from 'firebase/functions';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\`, which starts the emulators`);
  return value;
}

export const projectId = process.env.GCLOUD_PROJECT ?? required('GCLOUD_PROJECT');
const firestoreHost = required('FIRESTORE_EMULATOR_HOST');
const authHost = required('FIREBASE_AUTH_EMULATOR_HOST');
const hub = required('FIREBASE_EMULATOR_HUB');

const adminApp = getApps()[0] ?? initializeAdminApp({ projectId });
export const db: Firestore = getFirestore(adminApp);
export const auth = getAuth(adminApp);
/** For tests of the routine alone: the saga is not started (its own tests drive it), and the job says so. */
export const deps = {
  db,
  auth,
  startSaga: async (jobId: string) => void (await db.doc(`provisioningJobs/${jobId}`).update({ sagaHeldByTest: true })),
};

/** Lets sagas started by the previous test finish, so that they cannot write into the next one. */
async function quiesce(): Promise<void> {
  const running = async () => {
    const unsettled = await db.collection('provisioningJobs').where('status', 'in', ['pending', 'running', 'compensating']).get();
    return unsettled.docs.filter((job) => !job.get('sagaHeldByTest')).length === 0;
  };
  await eventually(running, 'sagas on the task queue to finish', 60_000);
}

export async function clearEmulators(): Promise<void> {
  await quiesce();
  const cleared = await Promise.all([
    fetch(`http://${firestoreHost}/emulator/v1/projects/${projectId}/databases/(default)/documents`, { method: 'DELETE' }),
    fetch(`http://${authHost}/emulator/v1/projects/${projectId}/accounts`, { method: 'DELETE' }),
  ]);
  for (const response of cleared) if (!response.ok) throw new Error(`clearing emulators: HTTP ${response.status}`);
}

/** Every document path in the database, for asserting exactly what a call wrote (or that it wrote nothing). */
export async function allDocumentPaths(): Promise<string[]> {
  const paths: string[] = [];
  const walk = async (collections: FirebaseFirestore.CollectionReference[]) => {
    for (const collection of collections) {
      for (const doc of await collection.listDocuments()) {
        const snap = await doc.get();
        if (snap.exists) paths.push(doc.path);
        await walk(await doc.listCollections());
      }
    }
  };
  await walk(await db.listCollections());
  return paths.sort();
}

export async function authUserEmails(): Promise<string[]> {
  const { users } = await auth.listUsers();
  return users.map((u) => u.email ?? '').sort();
}

export async function functionsOrigin(): Promise<{ host: string; port: number }> {
  const response = await fetch(`http://${hub}/emulators`);
  const emulators = (await response.json()) as Record<string, { host: string; port: number }>;
  if (!emulators.functions) throw new Error('the Functions emulator is not running');
  return emulators.functions;
}

export type Caller = { call: <T = unknown>(name: string, data: unknown) => Promise<T>; uid: string; close: () => Promise<void> };

/**
 * A signed-in web client (real firebase JS SDK) for `email`, created with `claims` if new.
 * `emailVerified`: the account's address is confirmed (set with the Admin SDK, as if its link was
 * followed), for tests whose subject is not the confirmation: self-serve signup waits for one (M5).
 */
export async function signedInClient(email: string, claims: Record<string, unknown> = {}, options: { emailVerified?: boolean } = {}): Promise<Caller> {
  const password = 'password-123';
  let uid: string;
  try {
    uid = (await auth.createUser({ email, password, displayName: email.split('@')[0], emailVerified: options.emailVerified ?? false })).uid;
  } catch {
    uid = (await auth.getUserByEmail(email)).uid;
    if (options.emailVerified) await auth.updateUser(uid, { emailVerified: true });
  }
  if (Object.keys(claims).length) await auth.setCustomUserClaims(uid, claims);
  const app = initializeApp({ projectId, apiKey: 'demo-key', authDomain: `${projectId}.firebaseapp.com` }, `client-${email}-${Math.random()}`);
  const clientAuth = getClientAuth(app);
  connectAuthEmulator(clientAuth, `http://${authHost}`, { disableWarnings: true });
  await signInWithEmailAndPassword(clientAuth, email, password);
  return { uid, ...(await callerFor(app)), close: () => deleteApp(app) };
}

/** A web client that is not signed in. */
export async function anonymousClient(): Promise<Caller> {
  const app = initializeApp({ projectId, apiKey: 'demo-key' }, `anon-${Math.random()}`);
  return { uid: '', ...(await callerFor(app)), close: () => deleteApp(app) };
}

async function callerFor(app: ReturnType<typeof initializeApp>) {
  const functions = getFunctions(app);
  const origin = await functionsOrigin();
  connectFunctionsEmulator(functions, origin.host, origin.port);
  return {
    call: async <T>(name: string, data: unknown) => {
      const callable: HttpsCallable<unknown, T> = httpsCallable(functions, name, { timeout: 150_000 });
      return (await callable(data)).data;
    },
  };
}

/** An Auth account whose address is confirmed, for calling the self-serve functions directly. */
export async function verifiedAccount(uid: string, email: string): Promise<{ uid: string; email: string }> {
  await auth.createUser({ uid, email, emailVerified: true });
  return { uid, email };
}

/**
 * Follows an email-confirmation link as the app's /auth/action page does (the Auth REST call behind
 * the web SDK's applyActionCode), for tests that are not in a browser.
 */
export async function followConfirmationLink(link: string): Promise<void> {
  const oobCode = new URL(link).searchParams.get('oobCode');
  const response = await fetch(`http://${authHost}/identitytoolkit.googleapis.com/v1/accounts:update?key=demo-key`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ oobCode }),
  });
  if (!response.ok) throw new Error(`applying the confirmation code: HTTP ${response.status} ${await response.text()}`);
}

/** Polls until `probe` returns a value, for effects of triggers that run asynchronously. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until a provisioning job's saga has finished, one way or the other. */
export async function settledJob(jobId: string): Promise<FirebaseFirestore.DocumentData> {
  return eventually(async () => {
    const job = (await db.doc(`provisioningJobs/${jobId}`).get()).data();
    return job && ['completed', 'rolled_back', 'failed'].includes(job.status) ? job : null;
  }, `job ${jobId} to settle`);
}

export async function countDocs(collectionPath: string): Promise<number> {
  return (await db.collection(collectionPath).count().get()).data().count;
}

export async function countGroup(collectionId: string): Promise<number> {
  return (await db.collectionGroup(collectionId).count().get()).data().count;
}
