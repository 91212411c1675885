import { useEffect, useState } from 'react';
import { LOCAL_TOOLS } from '../localTools';

/**
 * "Now" for what the app shows (days left in a trial). On the local emulators the clock control can
 * move the app's time ahead; local builds ask for it, production uses the real time.
 */
export function useAppNow(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!LOCAL_TOOLS) return;
    let current = true;
    import('../functions')
      .then(({ call }) => call<{ now: string; moved: boolean }>('readLocalClock', {}))
      .then((clock) => current && clock.moved && setNow(new Date(clock.now)))
      // The real time is a fine answer when the emulator's clock cannot be read.
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, []);
  return now;
}
