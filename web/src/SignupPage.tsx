import { createUserWithEmailAndPassword, signOut } from 'firebase/auth';
import { httpsCallable } from 'firebase/functions';
import { useCallback, useRef, useState } from 'react';
import { PLANS, SELF_SERVE_PLAN_IDS, type PlanId } from '../../functions/src/domain/plans';
import { firebase } from './firebase';
import { errorMessage } from './format';
import { JobProgress, type JobOutcome } from './JobProgress';
import { Link, navigate } from './navigation';
import { team, type DomainJoinOption } from './team/callables';
import { DomainJoinOffer } from './team/DomainJoinOffer';
import { useCurrentUser } from './useCurrentUser';
import { useSubmitOnce } from './useSubmitOnce';

/** The input of the `submitSignup` callable (SignupFormSchema in functions/src/domain/signup.ts). */
interface SignupInput {
  companyName: string;
  ownerName: string;
  plan: PlanId;
  slug?: string;
}
interface ProvisioningResult {
  tenantId: string;
  status: string;
  jobId: string;
}

interface Failure {
  message: string;
  code?: string;
  /** The form field the server named ("slug: ... is already taken"), to mark it invalid. */
  field?: string;
}

function failureOf(error: unknown): Failure {
  const message = errorMessage(error);
  const code = (error as { code?: string } | null)?.code;
  const field = /^(\w+):/.exec(message)?.[1];
  return { message, code, field };
}

export function SignupPage() {
  const user = useCurrentUser();
  const [ownerName, setOwnerName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [companyName, setCompanyName] = useState('');
  const [plan, setPlan] = useState<PlanId>('starter');
  const [slug, setSlug] = useState('');
  const [failure, setFailure] = useState<Failure | null>(null);
  // The provisioning job of the last accepted form: its progress shows until the tenant is ready.
  const [jobId, setJobId] = useState<string | null>(null);
  const [jobOutcome, setJobOutcome] = useState<JobOutcome | null>(null);
  const { busy, submitWith, release } = useSubmitOnce();
  // A verified domain's organisation is offered before a new one is made; `declined`: the person chose their own.
  const [domainOffer, setDomainOffer] = useState<NonNullable<DomainJoinOption['match']> | null>(null);
  const declinedDomainOffer = useRef(false);

  // Busy until provisioning settles (see `settled`), so the form cannot be sent again meanwhile.
  const submit = submitWith(async () => {
    setFailure(null);
    setJobId(null);
    setJobOutcome(null);
    try {
      const { auth, functions } = firebase();
      // Signed in already (an earlier attempt created the account): only the signup form is resent.
      if (!auth.currentUser) await createUserWithEmailAndPassword(auth, email.trim(), password);
      if (!declinedDomainOffer.current) {
        const { match } = await team.lookupDomainJoin();
        if (match) {
          setDomainOffer(match);
          return;
        }
      }
      const input: SignupInput = { companyName, ownerName, plan, ...(slug.trim() ? { slug: slug.trim() } : {}) };
      const { data } = await httpsCallable<SignupInput, ProvisioningResult>(functions, 'submitSignup')(input);
      setJobId(data.jobId);
      return 'hold';
    } catch (error) {
      setFailure(failureOf(error));
    }
  });

  // Ready: on to the app. Rolled back: the same form again starts a clean attempt.
  const settled = useCallback((outcome: JobOutcome) => {
    if (outcome === 'completed') return navigate('/app');
    setJobOutcome(outcome);
    release();
  }, [release]);

  const invalid = (field: string) => (failure?.field === field ? true : undefined);

  if (domainOffer) {
    return (
      <main className="page narrow">
        <DomainJoinOffer
          match={domainOffer}
          onRecheck={async () => setDomainOffer((await team.lookupDomainJoin()).match)}
          onCreateOwn={() => {
            declinedDomainOffer.current = true;
            setDomainOffer(null);
          }}
        />
      </main>
    );
  }

  return (
    <main className="page narrow">
      <form className="card" onSubmit={submit} aria-label="Sign up">
        <h1>Start your free trial</h1>
        <p className="muted">Create your organisation in a minute. No credit card needed.</p>

        <fieldset>
          <legend>You</legend>
          <label>
            Your name
            <input name="ownerName" autoComplete="name" required value={ownerName} onChange={(e) => setOwnerName(e.target.value)} aria-invalid={invalid('ownerName')} />
          </label>
          {user ? (
            <p className="signed-in">
              Signed in as <strong>{user.email}</strong>: your company will belong to this account.{' '}
              <button type="button" className="link" onClick={() => signOut(firebase().auth)} disabled={busy}>
                Use another account
              </button>
            </p>
          ) : (
            <>
              <label>
                Work email
                <input type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
              </label>
              <label>
                Password
                <input type="password" name="password" autoComplete="new-password" required minLength={6} value={password} onChange={(e) => setPassword(e.target.value)} />
              </label>
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>Your company</legend>
          <label>
            Company name
            <input name="companyName" autoComplete="organization" required value={companyName} onChange={(e) => setCompanyName(e.target.value)} aria-invalid={invalid('companyName')} />
          </label>
          <div className="plans" role="radiogroup" aria-label="Plan">
            {SELF_SERVE_PLAN_IDS.map((id) => (
              <label key={id} className={`plan${plan === id ? ' selected' : ''}`}>
                <input type="radio" name="plan" value={id} checked={plan === id} onChange={() => setPlan(id)} />
                <span className="plan-name">{PLANS[id].label}</span>
                <span className="plan-detail">
                  Up to {PLANS[id].seatCap} seats · {PLANS[id].trialDays}-day trial
                </span>
              </label>
            ))}
          </div>
          <label>
            <span>Subdomain <span className="optional">optional</span></span>
            <input name="slug" autoCapitalize="none" spellCheck={false} placeholder="derived from the company name" value={slug} onChange={(e) => setSlug(e.target.value)} aria-invalid={invalid('slug')} />
            <span className="hint">3 to 40 lowercase letters, digits and hyphens.</span>
          </label>
        </fieldset>

        {failure && (
          <p className="alert error" role="alert">
            {failure.message}
            {failure.code === 'auth/email-already-in-use' && (
              <>
                {' '}
                <Link to="/app">Go to sign in</Link>
              </>
            )}
          </p>
        )}
        {jobId && <JobProgress jobId={jobId} onSettled={settled} />}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating your organisation…' : jobOutcome ? 'Try again' : 'Create organisation'}
        </button>
        <p className="muted small">
          Already have an account? <Link to="/app">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
