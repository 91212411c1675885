import { getApps, initializeApp } from 'firebase-admin/app';
import { getAuth } from 'firebase-admin/auth';
import { getFirestore, type Firestore } from 'firebase-admin/firestore';

/** Every collection path of the product, in one place. */
export const COLLECTIONS = {
  tenants: 'tenants',
  members: 'members',
  history: 'history',
  slugs: 'slugs',
  provisioningJobs: 'provisioningJobs',
  signups: 'signups',
  mail: 'mail',
} as const;

export function refs(db: Firestore) {
  const tenant = (tenantId: string) => db.collection(COLLECTIONS.tenants).doc(tenantId);
  return {
    tenant,
    newTenantId: () => db.collection(COLLECTIONS.tenants).doc().id,
    member: (tenantId: string, uid: string) => tenant(tenantId).collection(COLLECTIONS.members).doc(uid),
    newHistoryEntry: (tenantId: string) => tenant(tenantId).collection(COLLECTIONS.history).doc(),
    slug: (slug: string) => db.collection(COLLECTIONS.slugs).doc(slug),
    job: (jobId: string) => db.collection(COLLECTIONS.provisioningJobs).doc(jobId),
    signup: (uid: string) => db.collection(COLLECTIONS.signups).doc(uid),
  };
}

/** The default app, initialised once per process (functions runtime, scripts and tests alike). */
export function firebase() {
  const app = getApps()[0] ?? initializeApp();
  return { db: getFirestore(app), auth: getAuth(app) };
}
