import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';

/** Every collection path of the product, in one place. */
export const COLLECTIONS = {
  tenants: 'tenants',
  members: 'members',
  invites: 'invites',
  /** A tenant's domain claims, by domain name. */
  domains: 'domains',
  /** One document per verified domain naming its tenant: a domain belongs to one tenant. */
  verifiedDomains: 'verifiedDomains',
  history: 'history',
  slugs: 'slugs',
  provisioningJobs: 'provisioningJobs',
  signups: 'signups',
  mail: 'mail',
  auditLog: 'auditLog',
  stripeEvents: 'stripeEvents',
  /** The outbox of Stripe customer email changes, one per tenant (billing/customerEmail.ts). */
  stripeCustomerEmails: 'stripeCustomerEmails',
  /** The local emulators' clock (lifecycle/localClock.ts); never written in production. */
  localClock: 'localClock',
  taskQueueProbes: 'taskQueueProbes',
} as const;

export function refs(db: Firestore) {
  const tenant = (tenantId: string) => db.collection(COLLECTIONS.tenants).doc(tenantId);
  return {
    tenant,
    newTenantId: () => db.collection(COLLECTIONS.tenants).doc().id,
    member: (tenantId: string, uid: string) => tenant(tenantId).collection(COLLECTIONS.members).doc(uid),
    members: (tenantId: string) => tenant(tenantId).collection(COLLECTIONS.members),
    invite: (tenantId: string, inviteId: string) => tenant(tenantId).collection(COLLECTIONS.invites).doc(inviteId),
    invites: (tenantId: string) => tenant(tenantId).collection(COLLECTIONS.invites),
    domainClaim: (tenantId: string, domain: string) => tenant(tenantId).collection(COLLECTIONS.domains).doc(domain),
    domainClaims: (tenantId: string) => tenant(tenantId).collection(COLLECTIONS.domains),
    verifiedDomain: (domain: string) => db.collection(COLLECTIONS.verifiedDomains).doc(domain),
    mail: (id: string) => db.collection(COLLECTIONS.mail).doc(id),
    newHistoryEntry: (tenantId: string) => tenant(tenantId).collection(COLLECTIONS.history).doc(),
    slug: (slug: string) => db.collection(COLLECTIONS.slugs).doc(slug),
    job: (jobId: string) => db.collection(COLLECTIONS.provisioningJobs).doc(jobId),
    signup: (uid: string) => db.collection(COLLECTIONS.signups).doc(uid),
  };
}

/** The default app, initialised once per process (functions runtime, scripts and tests alike). */
export function firebase() {
  const app = getApps()[0] ?? initializeApp(emulatorOptions());
  return { db: getFirestore(app), auth: getAuth(app) };
}

/** On the emulators, a service account id keeps task-queue enqueues off the cloud metadata server. */
function emulatorOptions() {
  const project = process.env.GCLOUD_PROJECT;
  const onEmulators = process.env.FUNCTIONS_EMULATOR === 'true' || Boolean(process.env.FIREBASE_EMULATOR_HUB);
  return onEmulators && project ? { projectId: project, serviceAccountId: `firebase-adminsdk@${project}.iam.gserviceaccount.com` } : undefined;
}
