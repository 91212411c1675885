import { applyActionCode, confirmPasswordReset, signInWithEmailAndPassword, verifyPasswordResetCode } from 'firebase/auth';
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { firebase } from '../firebase';
import { errorMessage } from '../format';
import { call } from '../functions';
import { Field } from '../ui/Field';
import { Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';

/**
 * The handler of Firebase Auth's email action links (`/auth/action?mode=...&oobCode=...&continueUrl=...`),
 * the same query Firebase's hosted handler takes: the welcome mail's links (Admin SDK, offline on the Auth
 * emulator) and the "Forgot password?" mail lead here, so the person stays in the app.
 */
export function Component() {
  const [params] = useSearchParams();
  const oobCode = params.get('oobCode') ?? '';
  const next = continuePath(params.get('continueUrl'));
  const mode = params.get('mode');
  if (mode === 'resetPassword' && oobCode) return <ChoosePassword oobCode={oobCode} next={next} />;
  if (mode === 'verifyEmail' && oobCode) return <ConfirmEmail oobCode={oobCode} next={next} />;
  return (
    <div className="page narrow">
      <div className="card">
        <h1>This link does not work here</h1>
        <p className="alert error" role="alert">
          It is incomplete, or for an action this app does not handle. <Link to="/app">Go to sign in</Link>.
        </p>
      </div>
    </div>
  );
}

/** Only a path of this app: a link must not send the person elsewhere after they set a password. */
function continuePath(continueUrl: string | null): string {
  try {
    const url = new URL(continueUrl ?? '/app', window.location.origin);
    return url.origin === window.location.origin ? `${url.pathname}${url.search}` : '/app';
  } catch {
    return '/app';
  }
}

const LINK_MESSAGES: Record<string, string> = {
  'auth/expired-action-code': 'This link has expired.',
  'auth/invalid-action-code': 'This link was already used, or a newer one replaced it.',
  'auth/user-disabled': 'This account is disabled.',
  'auth/user-not-found': 'The account of this link no longer exists.',
};
const linkProblem = (failure: unknown) => LINK_MESSAGES[(failure as { code?: string }).code ?? ''] ?? errorMessage(failure);

/** Tenants the person owns record that their email is now verified (a mailed link proves the mailbox). */
const syncEmailVerified = () => call('syncEmailVerified', {}).catch(() => undefined);

function ChoosePassword({ oobCode, next }: { oobCode: string; next: string }) {
  const [email, setEmail] = useState<string | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const navigate = useNavigate();

  useEffect(() => {
    verifyPasswordResetCode(firebase().auth, oobCode).then(setEmail, (failure) => {
      setEmail(null);
      setProblem(linkProblem(failure));
    });
  }, [oobCode]);

  const submit = submitWith(async () => {
    setError(null);
    try {
      await confirmPasswordReset(firebase().auth, oobCode, password);
      await signInWithEmailAndPassword(firebase().auth, email!, password);
      await syncEmailVerified();
      await navigate(next);
    } catch (failure) {
      setError(linkProblem(failure));
    }
  });

  if (email === undefined) return <div className="page narrow"><Loading>Checking your link…</Loading></div>;
  if (email === null) {
    return (
      <div className="page narrow">
        <div className="card">
          <h1>Choose a password</h1>
          <p className="alert error" role="alert">
            {problem} Ask for a new link with “Forgot password?” on the <Link to="/app">sign-in page</Link>.
          </p>
        </div>
      </div>
    );
  }
  return (
    <div className="page narrow">
      <form className="card" onSubmit={submit} aria-label="Choose a password">
        <h1>Choose a password</h1>
        <p className="muted">
          For <strong>{email}</strong>. You are signed in once it is set.
        </p>
        <input type="email" name="email" autoComplete="username" value={email} readOnly hidden />
        <Field label="New password" name="password" hint="At least 6 characters.">
          {(control) => (
            <input {...control} type="password" autoComplete="new-password" required minLength={6} value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        {error && (
          <p className="alert error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? 'Saving…' : 'Set password and sign in'}
        </button>
      </form>
    </div>
  );
}

function ConfirmEmail({ oobCode, next }: { oobCode: string; next: string }) {
  const [state, setState] = useState<'working' | 'done' | string>('working');
  const applied = useRef(false);

  useEffect(() => {
    // A code works once: never apply it twice, even if the effect runs twice.
    if (applied.current) return;
    applied.current = true;
    const { auth } = firebase();
    applyActionCode(auth, oobCode)
      .then(async () => {
        // A fresh page restores the session asynchronously: wait for it before asking who is signed in.
        await auth.authStateReady();
        if (auth.currentUser) {
          await auth.currentUser.reload();
          await auth.currentUser.getIdToken(true);
          await syncEmailVerified();
        }
        setState('done');
      })
      .catch((failure) => setState(linkProblem(failure)));
  }, [oobCode]);

  return (
    <div className="page narrow">
      <div className="card">
        <h1>Confirm your email address</h1>
        {state === 'working' ? (
          <Loading>Confirming…</Loading>
        ) : state === 'done' ? (
          <p className="alert success" role="status">
            Your email address is confirmed. <Link to={next}>Continue to your organisation</Link>
          </p>
        ) : (
          <p className="alert error" role="alert">
            {state} <Link to="/app">Go to your organisation</Link>
          </p>
        )}
      </div>
    </div>
  );
}
