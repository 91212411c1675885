import type { User } from 'firebase/auth';
import { collectionGroup, doc, onSnapshot, query, where, type DocumentData } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { firebase } from '../firebase';
import { errorMessage } from '../format';

export interface TenantMembership {
  tenantId: string;
  role: string;
  tenant: DocumentData | null;
}

/** The tenant the page is about: `?tenant=<id>`, else the signed-in person's first membership. */
export function requestedTenantId(): string | null {
  return new URLSearchParams(window.location.search).get('tenant');
}

export type MembershipState = { state: 'loading' } | { state: 'error'; message: string } | { state: 'none' } | ({ state: 'ready' } & TenantMembership);

/** The caller's membership of the page's tenant and the tenant document, live. */
export function useTenantMembership(user: User): MembershipState {
  const [memberships, setMemberships] = useState<Array<{ tenantId: string; role: string }> | undefined>(undefined);
  const [tenant, setTenant] = useState<DocumentData | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const mine = query(collectionGroup(firebase().db, 'members'), where('uid', '==', user.uid));
    return onSnapshot(
      mine,
      (snapshot) => setMemberships(snapshot.docs.map((m) => ({ tenantId: m.ref.parent.parent!.id, role: String(m.get('role')) }))),
      (failure) => setError(errorMessage(failure)),
    );
  }, [user.uid]);

  const wanted = requestedTenantId();
  const membership = memberships?.find((m) => m.tenantId === wanted) ?? (wanted ? undefined : memberships?.[0]);
  const tenantId = membership?.tenantId;

  useEffect(() => {
    if (!tenantId) return;
    setTenant(undefined);
    return onSnapshot(
      doc(firebase().db, 'tenants', tenantId),
      (snapshot) => setTenant(snapshot.exists() ? snapshot.data() : null),
      (failure) => setError(errorMessage(failure)),
    );
  }, [tenantId]);

  if (error) return { state: 'error', message: error };
  if (memberships === undefined) return { state: 'loading' };
  if (!membership) return { state: 'none' };
  if (tenant === undefined) return { state: 'loading' };
  return { state: 'ready', tenantId: membership.tenantId, role: membership.role, tenant };
}
