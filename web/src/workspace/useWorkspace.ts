import type { User } from 'firebase/auth';
import { collectionGroup, doc, onSnapshot, query, where, type DocumentData } from 'firebase/firestore';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useOutletContext } from 'react-router';
import type { TenantRole } from '../../../functions/src/domain/status';
import { firestore } from '../firestore';
import type { Live } from '../provisioning/useDocument';

/** How often a tenant the rules hide is looked at again (one read each time). */
const DENIED_RETRY_MS = 5000;

export interface TenantEntry {
  tenantId: string;
  role: TenantRole;
  /** On the owner's membership: the job provisioning the tenant, readable while the tenant is not. */
  provisioningJobId: string | null;
  /** The tenant document as the rules let this member see it: `denied` while its status hides it. */
  tenant: Live<DocumentData>;
  /** The URL segment: the slug when the tenant can be read, else its id. */
  key: string;
}

export interface Workspace {
  user: User;
  /** undefined while loading. */
  entries: TenantEntry[] | undefined;
  error: string | null;
  /** Listen to a tenant again now (its provisioning completed), instead of at the next retry. */
  lookAgain: (tenantId: string) => void;
}

/**
 * The signed-in person's tenants, live: their memberships (readable in every status) and each
 * tenant document (readable as the status table allows).
 */
export function useWorkspaceData(user: User): Workspace {
  const [memberships, setMemberships] = useState<Array<{ tenantId: string; role: TenantRole; provisioningJobId: string | null }> | undefined>(undefined);
  const watchAgain = useRef<(tenantId: string) => void>(() => undefined);
  const [tenants, setTenants] = useState<Record<string, Live<DocumentData>>>({});
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const mine = query(collectionGroup(firestore(), 'members'), where('uid', '==', user.uid));
    return onSnapshot(
      mine,
      (snapshot) =>
        setMemberships(
          snapshot.docs
            .map((member) => ({
              tenantId: member.ref.parent.parent!.id,
              role: member.get('role') as TenantRole,
              provisioningJobId: (member.get('provisioningJobId') as string | undefined) ?? null,
            }))
            .sort((a, b) => a.tenantId.localeCompare(b.tenantId)),
        ),
      (failure) => setError(failure.message),
    );
  }, [user.uid]);

  const ids = memberships?.map((m) => m.tenantId).join(',') ?? '';
  useEffect(() => {
    if (!ids) return;
    const stops = new Map<string, () => void>();
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const watch = (tenantId: string) => {
      stops.get(tenantId)?.();
      stops.set(
        tenantId,
        onSnapshot(
          doc(firestore(), 'tenants', tenantId),
          (snapshot) => setTenants((all) => ({ ...all, [tenantId]: snapshot.exists() ? { state: 'ready', data: snapshot.data() } : { state: 'missing' } })),
          (failure) => {
            const denied = failure.code === 'permission-denied';
            setTenants((all) => ({ ...all, [tenantId]: denied ? { state: 'denied' } : { state: 'error', message: failure.message } }));
            // A refused listener is closed for good, but the status may change (provisioning → trial): look again later.
            if (denied) {
              const timer = setTimeout(() => {
                timers.delete(timer);
                watch(tenantId);
              }, DENIED_RETRY_MS);
              timers.add(timer);
            }
          },
        ),
      );
    };
    ids.split(',').forEach(watch);
    watchAgain.current = (tenantId) => ids.split(',').includes(tenantId) && watch(tenantId);
    return () => {
      watchAgain.current = () => undefined;
      stops.forEach((stop) => stop());
      timers.forEach(clearTimeout);
    };
  }, [ids]);

  const entries = useMemo(
    () =>
      memberships?.map(({ tenantId, role, provisioningJobId }) => {
        const tenant = tenants[tenantId] ?? { state: 'loading' };
        return { tenantId, role, provisioningJobId, tenant, key: tenant.state === 'ready' ? String(tenant.data.slug) : tenantId };
      }),
    [memberships, tenants],
  );
  const lookAgain = useCallback((tenantId: string) => watchAgain.current(tenantId), []);
  return { user, entries, error, lookAgain };
}

export const useWorkspace = () => useOutletContext<Workspace>();

export function tenantName(entry: TenantEntry): string {
  return entry.tenant.state === 'ready' ? String(entry.tenant.data.name) : `Organisation ${entry.tenantId.slice(0, 6)}`;
}
