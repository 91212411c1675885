import { signInWithEmailAndPassword, type User } from 'firebase/auth';
import { useState, type ReactNode } from 'react';
import { firebase } from './firebase';
import { ForgotPassword } from './ForgotPassword';
import { errorMessage } from './format';
import { useCurrentUser } from './useCurrentUser';
import { useSubmitOnce } from './useSubmitOnce';

/** Renders `children` for the signed-in user, a sign-in form for everyone else. */
export function SignedIn({ title, intro, children }: { title: string; intro: string; children: (user: User) => ReactNode }) {
  const user = useCurrentUser();
  if (user === undefined) return <main className="page narrow"><p className="muted">Loading…</p></main>;
  if (!user) return <SignInForm title={title} intro={intro} />;
  return children(user);
}

export function SignInForm({ title, intro }: { title: string; intro: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [forgot, setForgot] = useState(false);
  const { busy, submitWith } = useSubmitOnce();

  const submit = submitWith(async () => {
    setError(null);
    try {
      await signInWithEmailAndPassword(firebase().auth, email.trim(), password);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  });

  if (forgot) return <ForgotPassword initialEmail={email.trim()} onBack={() => setForgot(false)} />;
  return (
    <main className="page narrow">
      <form className="card" onSubmit={submit} aria-label={title}>
        <h1>{title}</h1>
        <p className="muted">{intro}</p>
        <label>
          Email
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && (
          <p className="alert error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          <button type="button" className="link" onClick={() => setForgot(true)}>
            Forgot password?
          </button>
        </p>
      </form>
    </main>
  );
}
