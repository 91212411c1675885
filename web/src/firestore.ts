// Firestore for the route modules that read or write it (workspace, admin console, job progress).
import { connectFirestoreEmulator, getFirestore, type Firestore } from 'firebase/firestore';
import { firebase } from './firebase';

let db: Firestore | undefined;

export function firestore(): Firestore {
  if (db) return db;
  const { app, config } = firebase();
  db = getFirestore(app);
  if (config.useEmulators !== false) connectFirestoreEmulator(db, config.firestore.host, config.firestore.port);
  return db;
}
