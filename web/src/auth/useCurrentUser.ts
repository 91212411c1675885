import type { Auth, User } from 'firebase/auth';
import { useEffect, useState } from 'react';
import { connect } from '../connection';

/** undefined while Firebase loads and Auth restores the session, then the signed-in user or null. */
export function useCurrentUser(): User | null | undefined {
  // Known at once when Auth has already restored the session (a navigation, not a first load).
  const [user, setUser] = useState<User | null | undefined>(() => (restoredAuth ? restoredAuth.currentUser : undefined));
  useEffect(() => {
    let stopped = false;
    let unsubscribe: (() => void) | undefined;
    connect().then(
      ({ auth, onAuthStateChanged }) => {
        if (stopped) return;
        unsubscribe = onAuthStateChanged(auth, (next) => {
          restoredAuth = auth;
          setUser(next);
        });
      },
      // main.tsx shows the failure in place of the page.
      () => undefined,
    );
    return () => {
      stopped = true;
      unsubscribe?.();
    };
  }, []);
  return user;
}

let restoredAuth: Auth | undefined;
