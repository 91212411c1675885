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
// No SDK loads with the entry chunk. This module (the app and Auth) is a chunk of its own, loaded at startup
// through connect() (connection.ts) beside the first render: the signup form shows and takes input before
// Auth's code is downloaded and parsed. Route modules other than signup load only once it is connected
// (routes.tsx), so they may call firebase(). Firestore (firestore.ts) and Functions (functions.ts) come with
// the route modules that use them, so the signup route does not download them before the form is sent.
import { initializeApp, type FirebaseApp, type FirebaseOptions } from 'firebase/app';
import {
  browserLocalPersistence,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  initializeAuth,
  onAuthStateChanged,
  signOut,
  type Auth,
} from 'firebase/auth';

interface HostPort {
  host: string;
  port: number;
}

export type StartupConfig =
  | { useEmulators?: true; projectId: string; auth: string; firestore: HostPort; functions: HostPort; appCheckDebugToken?: string }
  | { useEmulators: false; firebase?: FirebaseOptions; appCheckSiteKey?: string };

/** The Auth calls of the shell and the signup form, which may reach Auth only through connect(). */
const shellAuth = { createUserWithEmailAndPassword, onAuthStateChanged, signOut };
type ShellAuth = typeof shellAuth;

export interface Connection extends ShellAuth {
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
  connection = { app, auth, config, ...shellAuth };
  return connection;
}

/** The connected app, for the route modules that routes.tsx loads only once connect() has resolved. */
export function firebase(): Connection {
  if (!connection) throw new Error('initFirebase() has not finished');
  return connection;
}
