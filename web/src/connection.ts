// The entry's way to Firebase. The app and Auth are a chunk of their own (firebase.ts) that main.tsx starts
// loading at startup, beside the first render, so the signup form shows before Auth's code has arrived.
import type { Connection } from './firebase';

export type { Connection };

let connecting: Promise<Connection> | undefined;

/** The connected app and Auth: the first call downloads the Firebase chunk and reads the startup config. */
export function connect(): Promise<Connection> {
  connecting ??= import('./firebase').then(({ initFirebase }) => initFirebase());
  return connecting;
}
