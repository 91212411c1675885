// A person's own Firestore client (real web SDK, signed in through the Auth emulator): what the
// security rules let them read and write, as the web app would.
import { deleteApp, initializeApp } from 'firebase/app';
import { connectAuthEmulator, getAuth, signInWithEmailAndPassword } from 'firebase/auth';
import { connectFirestoreEmulator, getFirestore, type Firestore } from 'firebase/firestore';
import { projectId } from './emulators';

export async function signedInFirestore(email: string, password: string): Promise<{ db: Firestore; uid: string; close: () => Promise<void> }> {
  const app = initializeApp({ projectId, apiKey: 'demo-key', authDomain: `${projectId}.firebaseapp.com` }, `firestore-${email}-${Math.random()}`);
  const auth = getAuth(app);
  connectAuthEmulator(auth, `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`, { disableWarnings: true });
  const db = getFirestore(app);
  const [host, port] = process.env.FIRESTORE_EMULATOR_HOST!.split(':');
  connectFirestoreEmulator(db, host, Number(port));
  const { user } = await signInWithEmailAndPassword(auth, email, password);
  return { db, uid: user.uid, close: () => deleteApp(app) };
}
