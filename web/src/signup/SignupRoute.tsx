import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { PLANS, SELF_SERVE_PLAN_IDS, type PlanId } from '../../../functions/src/domain/plans';
import { useCurrentUser } from '../auth/useCurrentUser';
import { connect } from '../connection';
import type { JobOutcome } from '../provisioning/JobProgress';
import { Field, focusFirstInvalid } from '../ui/Field';
import { failureOf, type Failure } from '../ui/failure';
import { Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';

// Loaded once the form is sent: the Firestore SDK it needs is not part of the signup page itself.
const JobProgress = lazy(() => import('../provisioning/JobProgress'));
// Likewise the offer to join a verified domain's organisation (issue 13), shown instead of creating one.
const DomainJoinOffer = lazy(() => import('../team/DomainJoinOffer').then((m) => ({ default: m.DomainJoinOffer })));
type DomainMatch = NonNullable<import('../team/callables').DomainJoinOption['match']>;

/** The input of the `submitSignup` callable (SignupFormSchema in functions/src/domain/signup.ts). */
interface SignupInput {
  companyName: string;
  ownerName: string;
  plan: PlanId;
  slug?: string;
}
/** How often the page asks Auth whether the address was confirmed. */
const CONFIRMATION_POLL_MS = 2000;

/** The refusal of a signup whose address is not confirmed yet (functions/src/domain/signup.ts `unconfirmedSignup`). */
function unconfirmed(error: unknown): { email: string; message: string; resent: boolean } | null {
  const { code, details, message } = (error ?? {}) as { code?: string; details?: { reason?: string; email?: string; mailSent?: boolean }; message?: string };
  if (code !== 'functions/failed-precondition' || details?.reason !== 'email-unconfirmed') return null;
  return { email: details.email ?? '', message: message ?? '', resent: Boolean(details.mailSent) };
}

interface ProvisioningResult {
  tenantId: string;
  status: string;
  jobId: string;
}

export function Component() {
  const user = useCurrentUser();
  const navigate = useNavigate();
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
  const form = useRef<HTMLFormElement>(null);
  // The address a confirmation link went to (M5): the form is stored and waits for it; `sent` says what the last ask did.
  const [awaiting, setAwaiting] = useState<{ email: string; message: string; resent?: boolean } | null>(null);
  const sentInput = useRef<SignupInput | null>(null);
  // A verified domain's organisation is offered before a new one is made; `declined`: the person chose their own.
  const [domainOffer, setDomainOffer] = useState<DomainMatch | null>(null);
  const declinedDomainOffer = useRef(false);
  const lookupDomainJoin = async () => (await (await import('../team/callables')).team.lookupDomainJoin()).match;

  // Busy until provisioning settles (see `settled`), so the form cannot be sent again meanwhile.
  const submit = submitWith(async () => {
    setFailure(null);
    setJobId(null);
    setJobOutcome(null);
    try {
      // Firebase started loading with the page: normally it is there long before the form is sent.
      const { auth, createUserWithEmailAndPassword } = await connect();
      // Signed in already (an earlier attempt created the account): only the signup form is resent.
      if (!auth.currentUser) await createUserWithEmailAndPassword(auth, email.trim(), password);
      if (!declinedDomainOffer.current) {
        const match = await lookupDomainJoin();
        if (match) {
          setDomainOffer(match);
          return;
        }
      }
      sentInput.current = { companyName, ownerName, plan, ...(slug.trim() ? { slug: slug.trim() } : {}) };
      return await sendForm();
    } catch (error) {
      setFailure(failureOf(error));
      focusFirstInvalid(form.current);
    }
  });

  /** Sends the stored input; an unconfirmed address holds the form until the person follows the mailed link. */
  const sendForm = useCallback(async (): Promise<'hold'> => {
    const { call } = await import('../functions');
    try {
      const result = await call<ProvisioningResult>('submitSignup', sentInput.current);
      setAwaiting(null);
      setJobId(result.jobId);
    } catch (error) {
      const waiting = unconfirmed(error);
      if (!waiting) throw error;
      setAwaiting((before) => ({ ...waiting, resent: before ? waiting.resent : undefined }));
    }
    return 'hold';
  }, []);

  // Waiting for the confirmation: Auth is asked every few seconds; once confirmed, the same form goes again and provisions.
  useEffect(() => {
    if (!awaiting) return;
    let stopped = false;
    const timer = setInterval(async () => {
      const current = (await connect()).auth.currentUser;
      if (!current || stopped) return;
      await current.reload().catch(() => undefined);
      if (!current.emailVerified || stopped) return;
      stopped = true;
      clearInterval(timer);
      await current.getIdToken(true).catch(() => undefined);
      setAwaiting(null);
      try {
        await sendForm();
      } catch (error) {
        setFailure(failureOf(error));
        release();
        focusFirstInvalid(form.current);
      }
    }, CONFIRMATION_POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [awaiting, sendForm, release]);

  // A typo in the address: the waiting form lets go, and the next submit creates the right account.
  const switchAccount = async () => {
    const { auth, signOut } = await connect();
    await signOut(auth);
    setAwaiting(null);
    release();
  };

  const resendLink = async () => {
    try {
      await sendForm();
    } catch (error) {
      setFailure(failureOf(error));
    }
  };

  // Ready: on to the workspace. Rolled back: the same form again starts a clean attempt.
  const settled = useCallback(
    (outcome: JobOutcome) => {
      if (outcome === 'completed') return void navigate('/app');
      setJobOutcome(outcome);
      release();
    },
    [navigate, release],
  );

  if (domainOffer) {
    return (
      <div className="page narrow">
        <Suspense fallback={<Loading />}>
          <DomainJoinOffer
            match={domainOffer}
            onRecheck={async () => setDomainOffer(await lookupDomainJoin())}
            onCreateOwn={() => {
              declinedDomainOffer.current = true;
              setDomainOffer(null);
            }}
          />
        </Suspense>
      </div>
    );
  }

  const errors = failure?.fieldErrors ?? {};
  const unplaced = failure && !['companyName', 'ownerName', 'plan', 'slug', 'email', 'password'].some((field) => errors[field]);

  return (
    <div className="page narrow">
      <form ref={form} className="card" onSubmit={submit} aria-labelledby="signup-title" noValidate={false}>
        <h1 id="signup-title">Start your free trial</h1>
        <p className="muted">Create your organisation in a minute. No credit card needed.</p>

        <fieldset>
          <legend>You</legend>
          <Field label="Your name" name="ownerName" error={errors.ownerName}>
            {(control) => <input {...control} autoComplete="name" required value={ownerName} onChange={(e) => setOwnerName(e.target.value)} />}
          </Field>
          {user ? (
            <p className="signed-in">
              Signed in as <strong>{user.email}</strong>: your company will belong to this account.{' '}
              <button type="button" className="link" onClick={switchAccount} disabled={busy && !awaiting}>
                Use another account
              </button>
            </p>
          ) : (
            <>
              <Field label="Work email" name="email" error={errors.email}>
                {(control) => <input {...control} type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
              </Field>
              <Field label="Password" name="password" error={errors.password} hint="At least 6 characters.">
                {(control) => (
                  <input {...control} type="password" autoComplete="new-password" required minLength={6} value={password} onChange={(e) => setPassword(e.target.value)} />
                )}
              </Field>
            </>
          )}
        </fieldset>

        <fieldset>
          <legend>Your company</legend>
          <Field label="Company name" name="companyName" error={errors.companyName}>
            {(control) => (
              <input {...control} autoComplete="organization" required value={companyName} onChange={(e) => setCompanyName(e.target.value)} />
            )}
          </Field>
          <div className="plans" role="radiogroup" aria-label="Plan" aria-describedby={errors.plan ? 'plan-error' : undefined}>
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
          {errors.plan && (
            <p id="plan-error" className="field-error">
              {errors.plan}
            </p>
          )}
          <Field label="Subdomain" name="slug" optional error={errors.slug} hint="3 to 40 lowercase letters, digits and hyphens.">
            {(control) => (
              <input
                {...control}
                autoCapitalize="none"
                spellCheck={false}
                placeholder="derived from the company name"
                value={slug}
                onChange={(e) => setSlug(e.target.value)}
              />
            )}
          </Field>
        </fieldset>

        {failure && (
          <p className="alert error" role="alert">
            {unplaced || failure.code === 'functions/invalid-argument' ? failure.message : 'Check the field marked below.'}
            {failure.code === 'auth/email-already-in-use' && (
              <>
                {' '}
                <Link to="/app">Go to sign in</Link>
              </>
            )}
          </p>
        )}
        {awaiting && (
          <div className="alert info" role="status" data-testid="awaiting-confirmation">
            <p>{awaiting.message}</p>
            <p className="small">We ask first so that nobody can start a trial, and be mailed about it, in the name of an address they do not own.</p>
            {awaiting.resent !== undefined && <p className="small">{awaiting.resent ? 'A new link is on its way.' : 'A link went out less than a minute ago: give it a moment.'}</p>}
            <button type="button" className="link" onClick={resendLink}>
              Send the link again
            </button>
          </div>
        )}
        {jobId && (
          <Suspense fallback={<Loading>Starting…</Loading>}>
            <JobProgress jobId={jobId} onSettled={settled} />
          </Suspense>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {awaiting ? 'Waiting for your confirmation…' : busy ? 'Creating your organisation…' : jobOutcome ? 'Try again' : 'Create organisation'}
        </button>
        <p className="muted small">
          Already have an account? <Link to="/app">Sign in</Link>
        </p>
      </form>
    </div>
  );
}
