import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { call } from '../functions';
import { formatStatus } from '../format';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { ErrorAlert, Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';

interface ClockState {
  now: string;
  moved: boolean;
}
interface ClockMove {
  from: string;
  now: string;
  sweeps: Array<{ sweep: string; changed: Array<{ tenantId: string; from: string; to: string; mailIds: string[] }>; skipped: number; errors: Array<{ tenantId: string; message: string }> }>;
  stripeTestClock: string | null;
}

const day = (iso: string) => iso.slice(0, 10);
const plusDays = (iso: string, days: number) => day(new Date(Date.parse(iso) + days * 86_400_000).toISOString());

/**
 * /admin/clock, on the local emulators only (not in a production build): move the app's time, and
 * Stripe's, to a date, so trial expiry and dunning can be shown in seconds.
 */
export function Component() {
  const [clock, setClock] = useState<ClockState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [to, setTo] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  const [move, setMove] = useState<ClockMove | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    call<ClockState>('readLocalClock', {}).then(
      (state) => {
        setClock(state);
        setTo(plusDays(state.now, 15));
      },
      (error) => setLoadError(failureOf(error).message),
    );
  }, []);

  const submit = submitWith(async () => {
    setFailure(null);
    try {
      const result = await call<ClockMove>('advanceLocalClock', { to });
      setMove(result);
      setClock({ now: result.now, moved: true });
      setTo(plusDays(result.now, 15));
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(form.current);
    }
  });

  return (
    <section aria-labelledby="clock-title">
      <h1 id="clock-title">Local clock</h1>
      <p className="muted">
        Emulators only. Moves time forward for the app (every sweep runs as of the date: trial reminders and expiry, suspension of past-due
        tenants, invite expiry and the domains' TXT re-checks) and for the local Stripe test clock together.
      </p>
      {loadError ? (
        <ErrorAlert>{loadError}</ErrorAlert>
      ) : !clock ? (
        <Loading>Reading the clock…</Loading>
      ) : (
        <form ref={form} className="card" onSubmit={submit} aria-label="Move the clock" noValidate>
          <p data-testid="clock-now">
            Local time: <strong>{new Date(clock.now).toUTCString()}</strong> {clock.moved ? '(moved)' : '(real time)'}
          </p>
          <Field label="Move to" name="to" error={failure?.fieldErrors.to} hint="A date after the local time; the clock only moves forward.">
            {(control) => <input {...control} type="date" required min={plusDays(clock.now, 1)} value={to} onChange={(e) => setTo(e.target.value)} />}
          </Field>
          {failure && !failure.fieldErrors.to && <ErrorAlert>{failure.message}</ErrorAlert>}
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Moving time…' : 'Move time'}
          </button>
        </form>
      )}
      {move && (
        <div className="card" role="status" data-testid="clock-result">
          <h2>Moved to {new Date(move.now).toUTCString()}</h2>
          <p className="muted small">Stripe test clock: {move.stripeTestClock ?? 'none (no local Stripe clock)'}</p>
          <ul className="sweep-results">
            {move.sweeps.map((sweep) => (
              <li key={sweep.sweep}>
                <strong>{sweep.sweep}</strong>: {sweep.changed.length} changed, {sweep.skipped} skipped{sweep.errors.length ? `, ${sweep.errors.length} errors` : ''}
                {sweep.changed.length > 0 && (
                  <ul>
                    {sweep.changed.map((change) => (
                      <li key={`${sweep.sweep}-${change.tenantId}`}>
                        <Link to={`/admin/tenants/${change.tenantId}`}>{change.tenantId}</Link>:{' '}
                        {change.from === change.to ? 'reminder mail' : `${formatStatus(change.from)} → ${formatStatus(change.to)}`}
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
