// The one place the web app connects to Firebase.
//
// At startup the app reads /emulators.json. The emulators build (npm start, npm test) ships
// web/emulators.local.json there:
//   { "projectId": "demo-...", "auth": "http://HOST:PORT", "firestore": { "host", "port" }, "functions": { "host", "port" } }
// and connects to those emulators. A production build ships web/public/emulators.json, and fails
// unless it says "useEmulators": false (web/vite.config.ts):
//   { "useEmulators": false }                       -> the config Firebase Hosting serves at /__/firebase/init.json
//   { "useEmulators": false, "firebase": { ... } }  -> that web config (apiKey, authDomain, projectId, appId)
// plus "appCheckSiteKey": the reCAPTCHA Enterprise key App Check attests the app with (appCheck.ts).
//
// Only the app and Auth load with every page (the top bar shows who is signed in). Firestore
// (firestore.ts) and Functions (functions.ts) come with the route modules that use them, so the
// signup route does not download the Firestore SDK before the form is sent.
import { initializeApp, type FirebaseApp, type FirebaseOptions } from 'firebase/app';
import { browserLocalPersistence, connectAuthEmulator, initializeAuth, type Auth } from 'firebase/auth';

interface HostPort {
  host: string;
  port: number;
}

export type StartupConfig =
  | { useEmulators?: true; projectId: string; auth: string; firestore: HostPort; functions: HostPort; appCheckDebugToken?: string }
  | { useEmulators: false; firebase?: FirebaseOptions; appCheckSiteKey?: string };

export interface Connection {
  app: FirebaseApp;
  auth: Auth;
  config: StartupConfig;
}

let connection: Connection | undefined;

async function fetchJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

export async function initFirebase(): Promise<Connection> {
  const config = await fetchJson<StartupConfig>('/emulators.json');
  const options =
    config.useEmulators === false
      ? (config.firebase ?? (await fetchJson<FirebaseOptions>('/__/firebase/init.json')))
      : { projectId: config.projectId, apiKey: 'demo-key', authDomain: `${config.projectId}.firebaseapp.com` };
  const app = initializeApp(options);
  // No popup/redirect sign-in: initializeAuth without a resolver keeps that code out of every page.
  const auth = initializeAuth(app, { persistence: browserLocalPersistence });
  if (config.useEmulators !== false) connectAuthEmulator(auth, config.auth, { disableWarnings: true });
  connection = { app, auth, config };
  return connection;
}

/** The connected app; main.tsx renders nothing until initFirebase() has resolved. */
export function firebase(): Connection {
  if (!connection) throw new Error('initFirebase() has not finished');
  return connection;
}
