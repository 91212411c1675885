import { signInWithEmailAndPassword, type User } from 'firebase/auth';
import { useRef, useState, type ReactNode } from 'react';
import { firebase } from '../firebase';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';
import { ForgotPassword } from './ForgotPassword';
import { useCurrentUser } from './useCurrentUser';

/** Renders `children` for the signed-in user, a sign-in form for everyone else. */
export function SignedIn({ title, intro, children }: { title: string; intro: string; children: (user: User) => ReactNode }) {
  const user = useCurrentUser();
  if (user === undefined) {
    return (
      <div className="page narrow">
        <Loading>Checking your session…</Loading>
      </div>
    );
  }
  if (!user) return <SignInForm title={title} intro={intro} />;
  return children(user);
}

export function SignInForm({ title, intro }: { title: string; intro: string }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);
  const [forgot, setForgot] = useState(false);

  const submit = submitWith(async () => {
    setFailure(null);
    try {
      await signInWithEmailAndPassword(firebase().auth, email.trim(), password);
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(form.current);
    }
  });

  if (forgot) return <ForgotPassword initialEmail={email.trim()} onBack={() => setForgot(false)} />;
  return (
    <div className="page narrow">
      <form ref={form} className="card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">{title}</h1>
        <p className="muted">{intro}</p>
        <Field label="Email" name="email" error={failure?.fieldErrors.email}>
          {(control) => <input {...control} type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <Field label="Password" name="password" error={failure?.fieldErrors.password}>
          {(control) => (
            <input {...control} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        {failure && !Object.keys(failure.fieldErrors).length && (
          <p className="alert error" role="alert">
            {failure.message}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          <button type="button" className="link" onClick={() => setForgot(true)}>
            Forgot password?
          </button>
        </p>
      </form>
    </div>
  );
}
