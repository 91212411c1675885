import { useCallback, useRef, useState, type FormEvent } from 'react';

/**
 * One submission at a time: a double click or Enter pressed twice runs `work` once. A ref, not
 * state, guards it, since the second event can arrive before React re-renders the disabled button.
 * `work` returning `'hold'` keeps the form busy until `release()` (signup waits for provisioning).
 */
export function useSubmitOnce() {
  const inFlight = useRef(false);
  const [busy, setBusy] = useState(false);
  const release = useCallback(() => {
    inFlight.current = false;
    setBusy(false);
  }, []);
  const submitWith = useCallback(
    (work: () => Promise<'hold' | void>) => async (event: FormEvent) => {
      event.preventDefault();
      if (inFlight.current) return;
      inFlight.current = true;
      setBusy(true);
      const outcome = await work().catch(() => undefined);
      if (outcome !== 'hold') release();
    },
    [release],
  );
  return { busy, submitWith, release };
}
