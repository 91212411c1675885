import { z } from 'zod';
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
