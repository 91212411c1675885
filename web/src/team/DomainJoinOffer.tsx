import { sendEmailVerification } from 'firebase/auth';
import { useEffect, useState, type ReactNode } from 'react';
import { firebase } from '../firebase';
import { errorMessage } from '../format';
import { Link, useNavigate } from 'react-router';
import { team, type DomainJoinOption } from './callables';

type Match = NonNullable<DomainJoinOption['match']>;

/**
 * What a person at a captured domain sees instead of creating an organisation: verify the address
 * first; then join (suggest: or create their own anyway); at the seat cap, "ask your admin for a seat".
 * `onCreateOwn` is offered only where the tenant merely suggests joining.
 */
export function DomainJoinOffer({ match, onCreateOwn, onRecheck }: { match: Match; onCreateOwn?: () => void; onRecheck: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const user = firebase().auth.currentUser;
  const navigate = useNavigate();

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setMessage(null);
    try {
      await work();
    } catch (error) {
      setMessage({ kind: 'error', text: errorMessage(error) });
    }
    setBusy(false);
  };
  const createOwn = onCreateOwn && match.joinPolicy === 'suggest' && (
    <button type="button" className="link" onClick={onCreateOwn} disabled={busy}>
      Create a separate organisation instead
    </button>
  );
  const recheck = () =>
    run(async () => {
      await user?.reload();
      await user?.getIdToken(true);
      await onRecheck();
    });

  let body: ReactNode;
  let state: string;
  if (match.requiresVerification) {
    state = 'verify-email';
    body = (
      <>
        <h1>Your company is already here</h1>
        <p>
          Addresses at <strong>{match.domain}</strong> belong to an organisation on Tenancy. Verify <strong>{user?.email}</strong> to see it and join.
        </p>
        <div className="actions">
          <button type="button" className="primary" disabled={busy} onClick={() => run(async () => { if (user) await sendEmailVerification(user); setMessage({ kind: 'info', text: `We sent a verification link to ${user?.email}. Open it, then come back and continue.` }); })}>
            Send verification link
          </button>
          <button type="button" disabled={busy} onClick={recheck}>
            I have verified it
          </button>
        </div>
      </>
    );
  } else if (match.alreadyMember) {
    state = 'member';
    body = (
      <>
        <h1>You are in {match.tenantName}</h1>
        <p>
          <Link to="/app">Open {match.tenantName}</Link>
        </p>
      </>
    );
  } else if (!match.seatAvailable) {
    state = 'no-seat';
    body = <NoSeat tenantName={match.tenantName} busy={busy} recheck={recheck} />;
  } else {
    state = 'offer';
    body = (
      <>
        <h1>Join {match.tenantName}</h1>
        <p>
          Your colleagues at <strong>{match.domain}</strong> work in <strong>{match.tenantName}</strong>.{' '}
          {match.joinPolicy === 'auto' ? 'You join it' : 'Join it'} as <span className={`badge role-${match.role}`}>{match.role}</span>; an admin can change your role later.
        </p>
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={busy}
            onClick={() =>
              run(async () => {
                try {
                  await team.joinByDomain({ tenantId: match.tenantId });
                  await navigate('/app');
                } catch (error) {
                  // The last seat went while the page was open: show the seat state, not a bare error.
                  if ((error as { details?: { reason?: string } }).details?.reason === 'seat-cap') await onRecheck();
                  else throw error;
                }
              })
            }
          >
            {busy ? 'Joining…' : `Join ${match.tenantName}`}
          </button>
        </div>
      </>
    );
  }
  return (
    <div className="card domain-offer" data-domain-join={state} role="region" aria-label="Your company's organisation">
      {body}
      {message && (
        <p className={`alert ${message.kind}`} role={message.kind === 'error' ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      {createOwn && <p className="muted small">{createOwn}</p>}
    </div>
  );
}

function NoSeat({ tenantName, busy, recheck }: { tenantName: string; busy: boolean; recheck: () => void }) {
  return (
    <>
      <h1>Ask your admin for a seat</h1>
      <p>
        <strong>{tenantName}</strong> is where your colleagues work, and every seat it has is taken. Ask an admin of {tenantName} to free a seat or add one; then
        come back here and join.
      </p>
      <div className="actions">
        <button type="button" disabled={busy} onClick={recheck}>
          Check again
        </button>
      </div>
    </>
  );
}

/** For a signed-in person with no organisation: the domain offer if there is one, else `fallback`. */
export function DomainJoinOrElse({ uid, fallback }: { uid: string; fallback: ReactNode }) {
  const [match, setMatch] = useState<Match | null | undefined>(undefined);
  const lookup = async () => setMatch((await team.lookupDomainJoin()).match);
  useEffect(() => {
    team.lookupDomainJoin().then(
      (option) => setMatch(option.match),
      () => setMatch(null),
    );
  }, [uid]);
  if (!match) return <>{fallback}</>;
  return <DomainJoinOffer match={match} onRecheck={lookup} />;
}
