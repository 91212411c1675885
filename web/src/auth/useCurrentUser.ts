import { onAuthStateChanged, type User } from 'firebase/auth';
import { useEffect, useState } from 'react';
import { firebase } from '../firebase';

/** undefined while Auth restores the session, then the signed-in user or null. */
export function useCurrentUser(): User | null | undefined {
  const { auth } = firebase();
  // Known at once when Auth has already restored the session (a navigation, not a first load).
  const [user, setUser] = useState<User | null | undefined>(() => (readyOnce ? auth.currentUser : undefined));
  useEffect(
    () =>
      onAuthStateChanged(auth, (next) => {
        readyOnce = true;
        setUser(next);
      }),
    [auth],
  );
  return user;
}

let readyOnce = false;
