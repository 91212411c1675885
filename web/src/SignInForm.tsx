import { signInWithEmailAndPassword } from 'firebase/auth';
import { useState } from 'react';
import { firebase } from './firebase';
import { errorMessage } from './format';
import { useSubmitOnce } from './useSubmitOnce';

export function SignInForm({ title, intro }: { title: string; intro: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();

  const submit = submitWith(async () => {
    setError(null);
    try {
      await signInWithEmailAndPassword(firebase().auth, email.trim(), password);
    } catch (failure) {
      setError(errorMessage(failure));
    }
  });

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
      </form>
    </main>
  );
}
