import type { Firestore } from 'firebase-admin/firestore';
import type Stripe from 'stripe';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { isMissing, madeByCreate } from '../adapters/stripe';
import { escapeHtml, type OutgoingMail } from '../domain/mail';
import { subscriptionTerms } from '../domain/billing';
import type { PlanId } from '../domain/plans';

export type StepOutput = Record<string, string | number | boolean | null>;

/** What a step sees: the job, its tenant as provisioned, and the outputs of the steps before it. */
export interface StepContext {
  db: Firestore;
  stripe: Stripe;
  jobId: string;
  attempt: number;
  tenantId: string;
  tenant: {
    name: string;
    plan: PlanId;
    /** The subscription's quantity (per-seat prices). */
    seatCap: number;
    billingEmail: string;
    ownerUid: string;
    trialEndsAt: Date | null;
    /** Set for sales tenants: billed by invoice, due this many days after it is sent. */
    daysUntilDue: number | null;
  };
  outputs: Record<string, StepOutput>;
  now: Date;
}

/**
 * One external step of provisioning. `run` must be idempotent (a resumed job runs an unrecorded
 * step again). `undo` gets the step's output, or none when the step failed or its worker died
 * before the output was recorded, and must then find what `run` may have made by itself.
 */
export interface ProvisioningStep {
  name: string;
  /** Cannot be undone (mail sent): once one has run, the saga only rolls forward. */
  irreversible?: boolean;
  run(ctx: StepContext): Promise<StepOutput>;
  undo?(ctx: StepContext, output: StepOutput | undefined): Promise<void>;
}

/** Per-attempt keys: a retry of an attempt replays Stripe's first answer, a new attempt starts afresh. */
const stripeKey = (ctx: StepContext, what: string) => `${ctx.jobId}:a${ctx.attempt}:${what}`;
export const SAMPLE_RECORD_IDS = ['sample-welcome', 'sample-checklist', 'sample-roadmap'] as const;

const createCustomer = (ctx: StepContext) =>
  ctx.stripe.customers.create(
    { email: ctx.tenant.billingEmail, name: ctx.tenant.name, metadata: { tenantId: ctx.tenantId, jobId: ctx.jobId } },
    { idempotencyKey: stripeKey(ctx, 'customer') },
  );

const createSubscription = (ctx: StepContext) =>
  ctx.stripe.subscriptions.create(
    { ...subscriptionTerms(ctx.tenant), customer: String(ctx.outputs.createStripeCustomer.customerId), metadata: { tenantId: ctx.tenantId, jobId: ctx.jobId } },
    { idempotencyKey: stripeKey(ctx, 'subscription') },
  );


export const PROVISIONING_STEPS: ProvisioningStep[] = [
  {
    name: 'createStripeCustomer',
    async run(ctx) {
      return { customerId: (await createCustomer(ctx)).id };
    },
    async undo(ctx, output) {
      // Without a recorded id, the same idempotency key replays the create and tells us the id.
      const customerId = output?.customerId ? String(output.customerId) : await madeByCreate(() => createCustomer(ctx));
      if (!customerId) return;
      await ctx.stripe.customers.del(customerId).catch((error) => {
        if (!isMissing(error)) throw error;
      });
    },
  },
  {
    name: 'createStripeSubscription',
    async run(ctx) {
      const subscription = await createSubscription(ctx);
      return { subscriptionId: subscription.id, subscriptionStatus: subscription.status };
    },
    async undo(ctx, output) {
      if (!output?.subscriptionId && !ctx.outputs.createStripeCustomer) return;
      const subscriptionId = output?.subscriptionId ? String(output.subscriptionId) : await madeByCreate(() => createSubscription(ctx));
      if (!subscriptionId) return;
      const subscription = await ctx.stripe.subscriptions.retrieve(subscriptionId);
      if (subscription.status !== 'canceled') await ctx.stripe.subscriptions.cancel(subscriptionId);
    },
  },
  {
    name: 'seedSampleData',
    async run(ctx) {
      const batch = ctx.db.batch();
      const records = refs(ctx.db).tenant(ctx.tenantId).collection('records');
      SAMPLE_RECORD_IDS.forEach((id, i) =>
        batch.set(records.doc(id), {
          title: ['Welcome to your workspace', 'Getting-started checklist', 'Your first roadmap'][i],
          body: 'Sample content created with your organisation. Edit or delete it freely.',
          createdBy: ctx.tenant.ownerUid,
          createdAt: ctx.now,
          updatedAt: ctx.now,
        }),
      );
      await batch.commit();
      return { records: SAMPLE_RECORD_IDS.length };
    },
    async undo(ctx) {
      const batch = ctx.db.batch();
      const records = refs(ctx.db).tenant(ctx.tenantId).collection('records');
      for (const id of SAMPLE_RECORD_IDS) batch.delete(records.doc(id));
      await batch.commit();
    },
  },
  {
    name: 'markTenantReady',
    async run(ctx) {
      await refs(ctx.db).tenant(ctx.tenantId).update({
        stripeCustomerId: ctx.outputs.createStripeCustomer.customerId,
        stripeSubscriptionId: ctx.outputs.createStripeSubscription.subscriptionId,
        provisioningState: 'ready',
        updatedAt: ctx.now,
      });
      return {};
    },
    async undo(ctx) {
      await refs(ctx.db).tenant(ctx.tenantId).update({ stripeCustomerId: null, stripeSubscriptionId: null, provisioningState: 'in_progress' });
    },
  },
  {
    name: 'sendWelcomeMail',
    irreversible: true,
    async run(ctx) {
      // The Trigger Email extension sends what lands in mail/; the fixed id makes a retry a no-op.
      const id = `welcome-${ctx.tenantId}`;
      const welcome: OutgoingMail = {
        to: ctx.tenant.billingEmail,
        tenantId: ctx.tenantId,
        message: {
          subject: `Welcome to ${ctx.tenant.name}`,
          text: `Your organisation ${ctx.tenant.name} is ready. Sign in to invite your team.`,
          html: `<p>Your organisation <strong>${escapeHtml(ctx.tenant.name)}</strong> is ready. Sign in to invite your team.</p>`,
        },
      };
      await ctx.db.collection(COLLECTIONS.mail).doc(id).set(welcome);
      return { mailId: id };
    },
  },
  {
    name: 'recordAudit',
    irreversible: true,
    async run(ctx) {
      const id = `${ctx.jobId}-a${ctx.attempt}`;
      await ctx.db.collection(COLLECTIONS.auditLog).doc(id).set({
        type: 'tenant.provisioned',
        tenantId: ctx.tenantId,
        jobId: ctx.jobId,
        at: ctx.now,
        steps: Object.keys(ctx.outputs),
      });
      return { auditId: id };
    },
  },
];
