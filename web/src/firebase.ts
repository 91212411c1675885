// The one place the web app connects to Firebase.
//
// At startup the app reads /emulators.json (web/public/emulators.json, copied into web/dist):
//   { "projectId": "demo-...", "auth": "http://HOST:PORT", "firestore": { "host", "port" }, "functions": { "host", "port" } }
// connects to those emulators. A real deployment replaces the file with
//   { "useEmulators": false }                       -> the config Firebase Hosting serves at /__/firebase/init.json
//   { "useEmulators": false, "firebase": { ... } }  -> that web config (apiKey, authDomain, projectId, appId)
import { initializeApp, type FirebaseOptions } from 'firebase/app';
import { connectAuthEmulator, getAuth, type Auth } from 'firebase/auth';
import { connectFirestoreEmulator, getFirestore, type Firestore } from 'firebase/firestore';
import { connectFunctionsEmulator, getFunctions, type Functions } from 'firebase/functions';

interface HostPort {
  host: string;
  port: number;
}

type StartupConfig =
  | { useEmulators?: true; projectId: string; auth: string; firestore: HostPort; functions: HostPort }
  | { useEmulators: false; firebase?: FirebaseOptions };

export interface Services {
  auth: Auth;
  db: Firestore;
  functions: Functions;
}

let services: Services | undefined;

async function fetchJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export async function initFirebase(): Promise<Services> {
  const config = await fetchJson<StartupConfig>('/emulators.json');
  if (config.useEmulators === false) {
    const options = config.firebase ?? (await fetchJson<FirebaseOptions>('/__/firebase/init.json'));
    const app = initializeApp(options);
    services = { auth: getAuth(app), db: getFirestore(app), functions: getFunctions(app) };
    return services;
  }
  const app = initializeApp({ projectId: config.projectId, apiKey: 'demo-key', authDomain: `${config.projectId}.firebaseapp.com` });
  const auth = getAuth(app);
  connectAuthEmulator(auth, config.auth, { disableWarnings: true });
  const db = getFirestore(app);
  connectFirestoreEmulator(db, config.firestore.host, config.firestore.port);
  const functions = getFunctions(app);
  connectFunctionsEmulator(functions, config.functions.host, config.functions.port);
  services = { auth, db, functions };
  return services;
}

/** The connected services; main.tsx renders nothing until initFirebase() has resolved. */
export function firebase(): Services {
  if (!services) throw new Error('initFirebase() has not finished');
  return services;
}
