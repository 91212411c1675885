import { createUserWithEmailAndPassword, signInWithEmailAndPassword, signOut, updateProfile, type User } from 'firebase/auth';
import { Timestamp } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { firebase } from '../firebase';
import { errorMessage, formatDate } from '../format';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useCurrentUser } from '../auth/useCurrentUser';
import { useSubmitOnce } from '../useSubmitOnce';
import { team, type InviteDescription } from './callables';

type Loaded = { state: 'loading' } | { state: 'error'; message: string; reason?: string } | { state: 'ready'; invite: InviteDescription };

const reasonOf = (error: unknown) => (error as { details?: { reason?: string } } | null)?.details?.reason;

/**
 * `/invite/:tenantId/:inviteId?token=…`, the link in the invite mail. Signed out: create the account
 * (the invited address, fixed) or sign in, and join. Signed in as the invited address: accept.
 * Signed in as someone else, expired, revoked, accepted: says so and what to do.
 */
export function Component() {
  const { tenantId = '', inviteId = '' } = useParams();
  const [search] = useSearchParams();
  const token = search.get('token') ?? '';
  const user = useCurrentUser();
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  useEffect(() => {
    let current = true;
    team.describeInvite({ tenantId, inviteId, token }).then(
      (invite) => current && setLoaded({ state: 'ready', invite }),
      (error) => current && setLoaded({ state: 'error', message: errorMessage(error), reason: reasonOf(error) }),
    );
    return () => {
      current = false;
    };
  }, [tenantId, inviteId, token]);

  if (loaded.state === 'loading' || user === undefined) return <div className="page narrow"><p className="muted">Loading your invite…</p></div>;
  if (loaded.state === 'error') {
    return (
      <div className="page narrow">
        <div className="card" data-invite-state="invalid">
          <h1>This invite link does not work</h1>
          <p className="alert error" role="alert">{loaded.message}</p>
        </div>
      </div>
    );
  }
  const { invite } = loaded;
  return (
    <div className="page narrow">
      <div className="card invite" data-invite-state={stateOf(invite, user)}>
        <p className="eyebrow">Invitation</p>
        <h1>{invite.status === 'pending' ? `Join ${invite.tenantName}` : `Invitation to ${invite.tenantName}`}</h1>
        <p>
          {invite.invitedByName ? `${invite.invitedByName} invited` : 'You are invited:'} <strong>{invite.email}</strong> to join <strong>{invite.tenantName}</strong> as{' '}
          <span className={`badge role-${invite.role}`}>{invite.role}</span>.
        </p>
        <Body invite={invite} user={user} token={token} inviteId={inviteId} />
      </div>
    </div>
  );
}

function stateOf(invite: InviteDescription, user: User | null): string {
  if (invite.status !== 'pending') return invite.status;
  if (!user) return 'signed-out';
  return user.email?.toLowerCase() === invite.email ? 'signed-in' : 'wrong-account';
}

function Body({ invite, user, token, inviteId }: { invite: InviteDescription; user: User | null; token: string; inviteId: string }) {
  const navigate = useNavigate();
  // Kept here (L5): creating the account swaps SignUpOrIn for AcceptButton, and a refusal that arrives after must survive the swap.
  const [failure, setFailure] = useState<string | null>(null);
  const accept = async () => {
    await team.acceptInvite({ tenantId: invite.tenantId, inviteId, token });
    await navigate('/app');
  };
  if (invite.status === 'expired') {
    return (
      <p className="alert error" role="alert">
        This invite expired on {formatIso(invite.expiresAt)}. Ask {invite.invitedByName || 'whoever invited you'} to send a new one.
      </p>
    );
  }
  if (invite.status === 'revoked') {
    return <p className="alert error" role="alert">This invite was revoked. Ask an admin of {invite.tenantName} for a new one if you should still join.</p>;
  }
  if (invite.status === 'accepted') {
    return (
      <p className="alert info" role="alert">
        This invite has been accepted. {user ? <Link to="/app">Go to your organisations</Link> : <>Sign in as {invite.email} to reach {invite.tenantName}.</>}
      </p>
    );
  }
  if (!user) return <SignUpOrIn invite={invite} accept={accept} failure={failure} setFailure={setFailure} />;
  if (user.email?.toLowerCase() !== invite.email) {
    return (
      <div className="alert error" role="alert">
        <p>
          This invite is for <strong>{invite.email}</strong>, and you are signed in as <strong>{user.email}</strong>.
        </p>
        <button type="button" onClick={() => signOut(firebase().auth)}>
          Sign out and continue as {invite.email}
        </button>
      </div>
    );
  }
  return <AcceptButton accept={accept} expiresAt={invite.expiresAt} failure={failure} setFailure={setFailure} />;
}

/** ISO strings from the callable, shown like the Firestore dates elsewhere. */
const formatIso = (iso: string) => formatDate(Timestamp.fromDate(new Date(iso)));

interface FailureState {
  failure: string | null;
  setFailure: (failure: string | null) => void;
}

function AcceptButton({ accept, expiresAt, failure, setFailure }: { accept: () => Promise<void>; expiresAt: string } & FailureState) {
  const { busy, submitWith } = useSubmitOnce();
  const submit = submitWith(async () => {
    setFailure(null);
    try {
      await accept();
    } catch (error) {
      setFailure(errorMessage(error));
    }
  });
  return (
    <form onSubmit={submit} aria-label="Accept the invite">
      <p className="muted small">The invite expires on {formatIso(expiresAt)}.</p>
      {failure && <p className="alert error" role="alert">{failure}</p>}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Joining…' : 'Accept and join'}
      </button>
    </form>
  );
}

function SignUpOrIn({ invite, accept, failure, setFailure }: { invite: InviteDescription; accept: () => Promise<void> } & FailureState) {
  const [mode, setMode] = useState<'signup' | 'signin'>('signup');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, submitWith } = useSubmitOnce();
  const submit = submitWith(async () => {
    setFailure(null);
    try {
      const { auth } = firebase();
      if (mode === 'signup') {
        const created = await createUserWithEmailAndPassword(auth, invite.email, password);
        await updateProfile(created.user, { displayName: name.trim() });
      } else {
        await signInWithEmailAndPassword(auth, invite.email, password);
      }
      // No signup form is sent: the account joins this organisation and gets none of its own.
      await accept();
    } catch (error) {
      setFailure(errorMessage(error));
    }
  });
  return (
    <form onSubmit={submit} aria-label={mode === 'signup' ? 'Create your account and join' : 'Sign in and join'}>
      <div className="segmented" role="tablist" aria-label="Account">
        <button type="button" role="tab" aria-selected={mode === 'signup'} onClick={() => setMode('signup')}>
          I'm new here
        </button>
        <button type="button" role="tab" aria-selected={mode === 'signin'} onClick={() => setMode('signin')}>
          I have an account
        </button>
      </div>
      <label>
        Email
        <input type="email" name="email" value={invite.email} readOnly aria-readonly="true" />
        <span className="hint">The invite works only for this address.</span>
      </label>
      {mode === 'signup' && (
        <label>
          Your name
          <input name="name" autoComplete="name" required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
      )}
      <label>
        Password
        <input
          type="password"
          name="password"
          autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          required
          minLength={6}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {failure && <p className="alert error" role="alert">{failure}</p>}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Joining…' : mode === 'signup' ? `Create account and join ${invite.tenantName}` : `Sign in and join ${invite.tenantName}`}
      </button>
    </form>
  );
}
