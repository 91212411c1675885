import type { DocumentSnapshot } from 'firebase-admin/firestore';
import { tenantSearchFields } from '../domain/console';

/**
 * The update that brings a tenant's search fields in step with its name and slug (a rename from the
 * web app changes `name` only), or null when they already are: the write it leads to fires the
 * trigger again, and that second run must write nothing.
 */
export function searchFieldsUpdate(tenant: DocumentSnapshot): { searchKeys: string[]; nameSort: string } | null {
  const name = tenant.get('name');
  const slug = tenant.get('slug');
  if (typeof name !== 'string' || typeof slug !== 'string') return null;
  const fields = tenantSearchFields(name, slug);
  const current = tenant.get('searchKeys');
  const same = tenant.get('nameSort') === fields.nameSort && Array.isArray(current) && current.join('\n') === fields.searchKeys.join('\n');
  return same ? null : fields;
}
