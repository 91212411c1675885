import { Timestamp, type Firestore } from 'firebase-admin/firestore';
import { COLLECTIONS, refs } from '../adapters/firestore';
import { requirePlatformRole, TenantHistoryQuerySchema } from '../domain/console';
import { DomainError } from '../domain/errors';
import { PLATFORM_ROLES } from '../domain/status';
import { parseOrThrow } from '../domain/validation';

export interface HistoryEntry {
  id: string;
  from: string | null;
  to: string;
  cause: string;
  actor: string;
  /** ISO time. */
  at: string;
  reason?: string;
  stripeEventId?: string;
}

/**
 * A tenant's lifecycle history, newest first, for platform staff. History is server-only in the rules
 * (no client reads), so the console reads it here.
 */
export async function listTenantHistory(db: Firestore, staff: { platformRole: unknown }, input: unknown): Promise<{ entries: HistoryEntry[] }> {
  const { tenantId, limit } = parseOrThrow(TenantHistoryQuerySchema, input);
  requirePlatformRole(staff.platformRole, PLATFORM_ROLES, "read a tenant's history");
  const tenant = refs(db).tenant(tenantId);
  const [exists, page] = await Promise.all([tenant.get(), tenant.collection(COLLECTIONS.history).orderBy('at', 'desc').limit(limit).get()]);
  if (!exists.exists) throw new DomainError('not-found', `Tenant ${tenantId} does not exist`);
  const iso = (value: unknown) => (value instanceof Timestamp ? value.toDate().toISOString() : String(value));
  return {
    entries: page.docs.map((doc) => {
      const data = doc.data();
      return {
        id: doc.id,
        from: data.from ?? null,
        to: String(data.to),
        cause: String(data.cause),
        actor: String(data.actor),
        at: iso(data.at),
        ...(data.reason ? { reason: String(data.reason) } : {}),
        ...(data.stripeEventId ? { stripeEventId: String(data.stripeEventId) } : {}),
      };
    }),
  };
}
