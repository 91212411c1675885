import { doc, onSnapshot, type DocumentData } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { firestore } from '../firestore';

export type Live<T> =
  | { state: 'loading' }
  | { state: 'ready'; data: T }
  | { state: 'missing' }
  | { state: 'denied' }
  | { state: 'error'; message: string };

/** One document, live. `denied`: the rules refuse it (a status that hides the tenant, a role without access). */
export function useDocument(path: string | null): Live<DocumentData> {
  const [live, setLive] = useState<Live<DocumentData>>({ state: 'loading' });
  useEffect(() => {
    if (!path) return;
    setLive({ state: 'loading' });
    return onSnapshot(
      doc(firestore(), path),
      (snapshot) => setLive(snapshot.exists() ? { state: 'ready', data: snapshot.data() } : { state: 'missing' }),
      (error) => setLive(error.code === 'permission-denied' ? { state: 'denied' } : { state: 'error', message: error.message }),
    );
  }, [path]);
  return path ? live : { state: 'missing' };
}
