import { sendPasswordResetEmail } from 'firebase/auth';
import { useState } from 'react';
import { firebase } from '../firebase';
import { errorMessage } from '../format';
import { Field } from '../ui/Field';
import { useSubmitOnce } from '../useSubmitOnce';

/**
 * "Forgot password?": Firebase Auth mails a link to choose a new password (its email template's action
 * URL points at this app's /auth/action page; see README). The answer is the same whether or not an
 * account exists, so the form tells nobody which addresses have one.
 */
export function ForgotPassword({ initialEmail, onBack }: { initialEmail: string; onBack: () => void }) {
  const [email, setEmail] = useState(initialEmail);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();

  const submit = submitWith(async () => {
    setError(null);
    const address = email.trim();
    try {
      await sendPasswordResetEmail(firebase().auth, address, { url: `${window.location.origin}/app` });
      setSentTo(address);
    } catch (failure) {
      if ((failure as { code?: string }).code === 'auth/user-not-found') setSentTo(address);
      else setError(errorMessage(failure));
    }
  });

  return (
    <div className="page narrow">
      <form className="card" onSubmit={submit} aria-labelledby="reset-title">
        <h1 id="reset-title">Reset your password</h1>
        {sentTo ? (
          <p className="alert success" role="status">
            If an account exists for <strong>{sentTo}</strong>, a link to choose a new password is on its way. Open it from your inbox.
          </p>
        ) : (
          <>
            <p className="muted">We mail you a link to choose a new password. It also works for an account set up for you by our sales team.</p>
            <Field label="Email" name="email">
              {(control) => <input {...control} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
            </Field>
            {error && (
              <p className="alert error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary wide" disabled={busy}>
              {busy ? 'Sending…' : 'Send me a link'}
            </button>
          </>
        )}
        <p className="muted small">
          <button type="button" className="link" onClick={onBack}>
            Back to sign in
          </button>
        </p>
      </form>
    </div>
  );
}
