import { z } from 'zod';
import { DomainError } from './errors';
import { escapeHtml } from './mail';
import { CompanyNameSchema, DaysUntilDueSchema, IdempotencyKeySchema, PersonNameSchema, PlanIdSchema, SeatCapSchema, SlugSchema, type ProvisioningRequest } from './provisioning';
import { PLANS, SELF_SERVE_PLAN_IDS } from './plans';

/** What a person types into the self-serve signup form. */
export const SignupFormSchema = z
  .object({
    companyName: CompanyNameSchema,
    ownerName: PersonNameSchema,
    plan: PlanIdSchema.refine((plan) => PLANS[plan].selfServe, `one of ${SELF_SERVE_PLAN_IDS.join(', ')} (larger plans are sold through sales)`),
    slug: SlugSchema.optional(),
  })
  .strict();
export type SignupForm = z.output<typeof SignupFormSchema>;

/** The stored form plus the account it belongs to: everything a self-serve provisioning needs. */
export interface StoredSignup extends SignupForm {
  uid: string;
  email: string;
}

/** One self-serve tenant per account: the key is the uid, so every caller and replay agrees. */
export function selfServeRequest(signup: StoredSignup): ProvisioningRequest {
  return {
    idempotencyKey: `self_serve:${signup.uid}`,
    source: 'self_serve',
    owner: { uid: signup.uid, email: signup.email, displayName: signup.ownerName },
    companyName: signup.companyName,
    ...(signup.slug ? { slug: signup.slug } : {}),
    plan: signup.plan,
    requestedBy: signup.uid,
  };
}

const IsoDateSchema = z
  .string()
  .refine((value) => /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)), 'an ISO date such as 2027-01-31')
  .transform((value) => new Date(value));

/** The sales admin form: contract values negotiated by sales. */
export const SalesProvisioningSchema = z
  .object({
    idempotencyKey: IdempotencyKeySchema,
    companyName: CompanyNameSchema,
    plan: PlanIdSchema,
    seatCap: SeatCapSchema.optional(),
    goLiveAt: IsoDateSchema.optional(),
    daysUntilDue: DaysUntilDueSchema.optional(),
    admin: z.object({ email: z.email('a valid email address').toLowerCase(), displayName: PersonNameSchema }).strict(),
    subdomain: SlugSchema.optional(),
  })
  .strict();
export type SalesProvisioningInput = z.output<typeof SalesProvisioningSchema>;

export function salesRequest(input: SalesProvisioningInput, staffUid: string): ProvisioningRequest {
  return {
    idempotencyKey: input.idempotencyKey,
    source: 'sales',
    owner: { email: input.admin.email, displayName: input.admin.displayName },
    companyName: input.companyName,
    ...(input.subdomain ? { slug: input.subdomain } : {}),
    plan: input.plan,
    ...(input.seatCap !== undefined ? { seatCap: input.seatCap } : {}),
    ...(input.goLiveAt ? { goLiveAt: input.goLiveAt } : {}),
    ...(input.daysUntilDue !== undefined ? { daysUntilDue: input.daysUntilDue } : {}),
    requestedBy: staffUid,
  };
}

/**
 * A self-serve signup waits for its address to be confirmed (M5): until then no tenant, no Stripe
 * customer, no welcome mail. The confirmation mail may be sent again, but not more often than this,
 * nor more times than this, so the form cannot be used to mail an address over and over.
 */
export const SIGNUP_CONFIRMATION_RESEND_AFTER_MS = 60_000;
export const SIGNUP_CONFIRMATION_MAIL_LIMIT = 5;

/** What `signups/{uid}.confirmationMails` records of the confirmation mails sent so far. */
export interface ConfirmationMailsSent {
  count: number;
  lastAt: Date;
}

export function confirmationMailDue(sent: ConfirmationMailsSent | undefined, now: Date): boolean {
  if (!sent || sent.count === 0) return true;
  return sent.count < SIGNUP_CONFIRMATION_MAIL_LIMIT && now.getTime() - sent.lastAt.getTime() >= SIGNUP_CONFIRMATION_RESEND_AFTER_MS;
}

/** One document per send, so a retried transaction writes the same one. */
export const signupConfirmationMailId = (uid: string, count: number) => `signup-confirm-${uid}-${count}`;

/** The confirmation mail carries nothing the form's author typed: its text is ours alone. */
export function signupConfirmationMail(to: string, link: string): { to: string; message: { subject: string; text: string; html: string } } {
  const lead = 'Someone, hopefully you, started a free trial of Tenancy with this address. Confirm it, and your organisation is created.';
  const ignore = 'If it was not you, ignore this mail: nothing is created without the confirmation.';
  return {
    to,
    message: {
      subject: 'Confirm your email address',
      text: `${lead}\n\nConfirm your email address: ${link}\n\n${ignore}\n`,
      html: `<p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(link)}">Confirm your email address</a></p><p>${escapeHtml(ignore)}</p>`,
    },
  };
}

/** The refusal of a signup whose address is not confirmed yet: the form is kept, the page waits. `mailSent`: a new link went out now. */
export function unconfirmedSignup(email: string, mailSent: boolean): DomainError {
  return new DomainError(
    'failed-precondition',
    `Confirm your address: we sent a link to ${email}. Open it, and your organisation is created; this page goes on by itself.`,
    { reason: 'email-unconfirmed', email, mailSent },
  );
}
