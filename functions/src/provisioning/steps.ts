import type { Auth } from 'firebase-admin/auth';
import type { Firestore, Transaction } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { emailVerifiedOf } from '../adapters/auth';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { appUrl, ownerActionLink } from '../adapters/links';
import { planPriceId } from '../adapters/prices';
import { isMissing } from '../adapters/stripe';
import { openingEvent } from '../domain/lifecycle';
import { escapeHtml, type OutgoingMail } from '../domain/mail';
import { subscriptionTerms } from '../domain/billing';
import { PLANS } from '../domain/plans';
import type { StepInputs } from '../domain/provisioning';
import { applyTransition, isRefusal } from '../lifecycle/transition';

export type StepOutput = Record<string, string | number | boolean | null>;

/** What a step sees: the job, the inputs snapshotted when its attempt started, and the outputs of the steps before it. */
export interface StepContext {
  db: Firestore;
  stripe: Stripe;
  auth: Auth;
  jobId: string;
  attempt: number;
  tenantId: string;
  inputs: StepInputs;
  outputs: Record<string, StepOutput>;
  now: Date;
  /** Reads the job in `tx` and throws unless this worker still holds its lease: every Firestore write of a step goes through it. */
  holdsLease(tx: Transaction): Promise<void>;
}

/**
 * One external step of provisioning. `run` must be idempotent (a resumed job runs an unrecorded
 * step again). `undo` gets the step's output, or none when the step failed or its worker died
 * before the output was recorded, and must then find what `run` may have made by itself.
 */
export interface ProvisioningStep {
  name: string;
  /** Cannot be undone (the tenant opened, mail sent): once one has started, the saga only rolls forward. */
  irreversible?: boolean;
  run(ctx: StepContext): Promise<StepOutput>;
  undo?(ctx: StepContext, output: StepOutput | undefined): Promise<void>;
}

/** Per-attempt keys: a retry of an attempt replays Stripe's first answer, a new attempt starts afresh. */
const stripeKey = (ctx: StepContext, what: string) => `${ctx.jobId}:a${ctx.attempt}:${what}`;
export const SAMPLE_RECORD_IDS = ['sample-welcome', 'sample-checklist', 'sample-roadmap'] as const;

/** What every Stripe object the saga makes carries, so an undo can find it without its id. */
const madeBy = (ctx: StepContext) => ({ tenantId: ctx.tenantId, jobId: ctx.jobId, attempt: String(ctx.attempt) });
const isOurs = (ctx: StepContext, metadata: Stripe.Metadata | null) =>
  metadata?.jobId === ctx.jobId && metadata?.attempt === String(ctx.attempt);

/**
 * The customers this attempt made, found by their metadata through the customer list filtered on the
 * email it sent (list endpoints read Stripe's primary data; search is eventually consistent, so an empty
 * search would only mean "not indexed yet"). Never by replaying the create: a replay with other
 * parameters is an idempotency_error, which says nothing about what exists.
 */
async function customersMadeBy(ctx: StepContext): Promise<string[]> {
  const ids: string[] = [];
  for await (const customer of ctx.stripe.customers.list({ email: ctx.inputs.billingEmail, limit: 100 })) {
    if (isOurs(ctx, customer.metadata)) ids.push(customer.id);
  }
  return ids;
}

async function subscriptionsMadeBy(ctx: StepContext, customerId: string): Promise<Stripe.Subscription[]> {
  const found: Stripe.Subscription[] = [];
  for await (const subscription of ctx.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 })) {
    if (isOurs(ctx, subscription.metadata)) found.push(subscription);
  }
  return found;
}

const ignoreMissing = (error: unknown) => {
  if (!isMissing(error)) throw error;
};


export const PROVISIONING_STEPS: ProvisioningStep[] = [
  {
    name: 'createStripeCustomer',
    async run(ctx) {
      const customer = await ctx.stripe.customers.create(
        { email: ctx.inputs.billingEmail, name: ctx.inputs.companyName, metadata: madeBy(ctx) },
        { idempotencyKey: stripeKey(ctx, 'customer') },
      );
      return { customerId: customer.id };
    },
    async undo(ctx, output) {
      const ids = output?.customerId ? [String(output.customerId)] : await customersMadeBy(ctx);
      // Deleting a customer also cancels its subscriptions, in Stripe as in the local simulator.
      for (const id of ids) await ctx.stripe.customers.del(id).catch(ignoreMissing);
    },
  },
  {
    name: 'createStripeSubscription',
    async run(ctx) {
      const subscription = await ctx.stripe.subscriptions.create(
        // The tenant's billing terms (domain/billing.ts): per-seat quantity, a card-less trial or invoices by contract.
        { ...subscriptionTerms(ctx.inputs, await planPriceId(ctx.stripe, ctx.inputs.plan)), customer: String(ctx.outputs.createStripeCustomer.customerId), metadata: madeBy(ctx) },
        { idempotencyKey: stripeKey(ctx, 'subscription') },
      );
      return { subscriptionId: subscription.id, subscriptionStatus: subscription.status };
    },
    async undo(ctx, output) {
      const customerId = ctx.outputs.createStripeCustomer?.customerId;
      if (!output?.subscriptionId && !customerId) return; // no customer, so no subscription either
      const subscriptions = output?.subscriptionId
        ? [await ctx.stripe.subscriptions.retrieve(String(output.subscriptionId))]
        : await subscriptionsMadeBy(ctx, String(customerId));
      for (const subscription of subscriptions) {
        if (subscription.status !== 'canceled') await ctx.stripe.subscriptions.cancel(subscription.id).catch(ignoreMissing);
      }
    },
  },
  {
    name: 'seedSampleData',
    async run(ctx) {
      const records = refs(ctx.db).tenant(ctx.tenantId).collection('records');
      await ctx.db.runTransaction(async (tx) => {
        await ctx.holdsLease(tx);
        SAMPLE_RECORD_IDS.forEach((id, i) =>
          tx.set(records.doc(id), {
            title: ['Welcome to your workspace', 'Getting-started checklist', 'Your first roadmap'][i],
            body: 'Sample content created with your organisation. Edit or delete it freely.',
            createdBy: ctx.inputs.ownerUid,
            createdAt: ctx.now,
            updatedAt: ctx.now,
          }),
        );
      });
      return { records: SAMPLE_RECORD_IDS.length };
    },
    async undo(ctx) {
      const records = refs(ctx.db).tenant(ctx.tenantId).collection('records');
      await ctx.db.runTransaction(async (tx) => {
        await ctx.holdsLease(tx);
        for (const id of SAMPLE_RECORD_IDS) tx.delete(records.doc(id));
      });
    },
  },
  {
    // The point of no return: from here on the tenant is open, its members may write, and it is never undone.
    name: 'markTenantReady',
    irreversible: true,
    async run(ctx) {
      const ownerEmailVerified = await emailVerifiedOf(ctx.auth, ctx.inputs.ownerUid);
      const stripeIds = {
        stripeCustomerId: ctx.outputs.createStripeCustomer.customerId,
        stripeSubscriptionId: ctx.outputs.createStripeSubscription.subscriptionId,
      };
      try {
        const opened = await applyTransition(ctx.db, ctx.tenantId, openingEvent(ctx.inputs.trialEndsAt), {
          actor: `provisioning:${ctx.jobId}`,
          now: ctx.now,
          expectedStatus: 'provisioning',
          tenantFields: { ...stripeIds, ownerEmailVerified },
          alsoInTransaction: (tx) => ctx.holdsLease(tx),
        });
        return { status: opened.to };
      } catch (error) {
        // A re-run after this worker (or a crashed one) already opened it: done, if it opened with our Stripe ids.
        if (!isRefusal(error)) throw error;
        const tenant = (await refs(ctx.db).tenant(ctx.tenantId).get()).data();
        if (tenant && tenant.status !== 'provisioning' && tenant.status !== 'failed' && tenant.stripeCustomerId === stripeIds.stripeCustomerId) {
          return { status: tenant.status };
        }
        throw error;
      }
    },
  },
  {
    name: 'sendWelcomeMail',
    irreversible: true,
    async run(ctx) {
      const id = `welcome-${ctx.tenantId}`;
      const mailRef = ctx.db.collection(COLLECTIONS.mail).doc(id);
      // Sent once: a re-run must not rewrite the document (the extension would send it again), nor mint a new link.
      if ((await mailRef.get()).exists) return { mailId: id };
      const mail = await welcomeMail(ctx);
      await ctx.db.runTransaction(async (tx) => {
        await ctx.holdsLease(tx);
        if (!(await tx.get(mailRef)).exists) tx.create(mailRef, mail);
      });
      return { mailId: id };
    },
  },
  {
    // Seed 003: the rep who closed the deal hears when the customer's organisation is ready, to follow up.
    name: 'notifySalesRep',
    irreversible: true,
    async run(ctx): Promise<StepOutput> {
      if (!ctx.inputs.salesRepUid) return { skipped: 'self-serve: no sales rep' };
      const id = `sales-ready-${ctx.tenantId}`;
      const mailRef = ctx.db.collection(COLLECTIONS.mail).doc(id);
      // Sent once: a re-run must not rewrite the document (the extension would send it again).
      if ((await mailRef.get()).exists) return { mailId: id };
      const rep = await ctx.auth.getUser(ctx.inputs.salesRepUid).catch(() => null);
      if (!rep?.email) return { skipped: `the rep ${ctx.inputs.salesRepUid} has no email address` };
      const mail = salesReadyMail(ctx, rep.email, String(ctx.outputs.markTenantReady?.status ?? 'trial'));
      await ctx.db.runTransaction(async (tx) => {
        await ctx.holdsLease(tx);
        if (!(await tx.get(mailRef)).exists) tx.create(mailRef, mail);
      });
      return { mailId: id };
    },
  },
  {
    name: 'recordAudit',
    irreversible: true,
    async run(ctx) {
      const id = `${ctx.jobId}-a${ctx.attempt}`;
      const auditRef = ctx.db.collection(COLLECTIONS.auditLog).doc(id);
      await ctx.db.runTransaction(async (tx) => {
        await ctx.holdsLease(tx);
        tx.set(auditRef, { type: 'tenant.provisioned', tenantId: ctx.tenantId, jobId: ctx.jobId, at: ctx.now, steps: Object.keys(ctx.outputs) });
      });
      return { auditId: id };
    },
  },
];

/**
 * The welcome mail, with the one link its owner needs: to choose a password (an account made or
 * reclaimed for them by sales), to confirm the email address (a self-serve signup not verified yet),
 * or to sign in.
 */
async function welcomeMail(ctx: StepContext): Promise<OutgoingMail> {
  const { companyName: name, billingEmail: email } = ctx.inputs;
  const verified = !ctx.inputs.ownerSetsPassword && (await emailVerifiedOf(ctx.auth, ctx.inputs.ownerUid));
  const [action, link] = ctx.inputs.ownerSetsPassword
    ? ['Choose your password', await ownerActionLink(ctx.auth, 'setPassword', email)]
    : !verified
      ? ['Confirm your email address', await ownerActionLink(ctx.auth, 'verifyEmail', email)]
      : ['Sign in', `${appUrl()}/app`];
  const lead = ctx.inputs.ownerSetsPassword
    ? `An account for ${email} owns it; choose its password to sign in and invite your team.`
    : !verified
      ? 'Confirm your email address, then invite your team.'
      : 'Sign in to invite your team.';
  return {
    to: email,
    tenantId: ctx.tenantId,
    message: {
      subject: `Welcome to ${name}`,
      text: `Your organisation ${name} is ready. ${lead}\n\n${action}: ${link}\n`,
      html: `<p>Your organisation <strong>${escapeHtml(name)}</strong> is ready. ${escapeHtml(lead)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
    },
  };
}

/** The sales rep's mail: which organisation is ready, in which status, who its admin is, and where to see it. */
export function salesReadyMail(ctx: Pick<StepContext, 'tenantId' | 'inputs'>, to: string, status: string): OutgoingMail {
  const { companyName: name, ownerName, billingEmail, seatCap, daysUntilDue, trialEndsAt, ownerSetsPassword } = ctx.inputs;
  const consoleLink = `${appUrl()}/admin/tenants/${encodeURIComponent(ctx.tenantId)}`;
  const plan = PLANS[ctx.inputs.plan]?.label ?? ctx.inputs.plan;
  const when = status === 'active' ? 'live now' : trialEndsAt ? `in its trial until go-live on ${trialEndsAt.toISOString().slice(0, 10)}` : `in status ${status}`;
  const admin = `${ownerName} <${billingEmail}>`;
  const invite = ownerSetsPassword ? 'They were mailed a link to choose their password.' : 'They were mailed a link to sign in.';
  const billing = daysUntilDue !== null ? `billed by invoice, due ${daysUntilDue} days after each is sent` : 'paid by card';
  const lines = [
    `${name} is ready and ${when}.`,
    `Admin: ${admin}. ${invite}`,
    `Plan: ${plan}, ${seatCap} seats, ${billing}.`,
    `Admin console: ${consoleLink}`,
  ];
  return {
    to,
    tenantId: ctx.tenantId,
    message: {
      subject: `${name} is ready`,
      text: `${lines.join('\n')}\n`,
      html:
        `<p><strong>${escapeHtml(name)}</strong> is ready and ${escapeHtml(when)}.</p>` +
        `<p>Admin: ${escapeHtml(admin)}. ${escapeHtml(invite)}</p>` +
        `<p>Plan: ${escapeHtml(plan)}, ${seatCap} seats, ${escapeHtml(billing)}.</p>` +
        `<p><a href="${escapeHtml(consoleLink)}">Open ${escapeHtml(name)} in the admin console</a></p>`,
    },
  };
}
