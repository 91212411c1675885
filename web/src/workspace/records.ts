import { addDoc, collection, deleteDoc, doc, limit, orderBy, query, serverTimestamp, updateDoc } from 'firebase/firestore';
import { firestore } from '../firestore';

/** The newest records first; the page shows at most this many. */
export const RECORDS_SHOWN = 100;
export const TITLE_MAX = 200;
export const BODY_MAX = 10_000;

export const recordsQuery = (tenantId: string) =>
  query(collection(firestore(), 'tenants', tenantId, 'records'), orderBy('updatedAt', 'desc'), limit(RECORDS_SHOWN));

/** The document shape the rules accept (firestore.rules, validRecord): times are the server's. */
export function createRecord(tenantId: string, uid: string, fields: { title: string; body: string }) {
  return addDoc(collection(firestore(), 'tenants', tenantId, 'records'), {
    title: fields.title,
    body: fields.body,
    createdBy: uid,
    createdAt: serverTimestamp(),
    updatedAt: serverTimestamp(),
  });
}

export function updateRecord(tenantId: string, recordId: string, fields: { title: string; body: string }) {
  return updateDoc(doc(firestore(), 'tenants', tenantId, 'records', recordId), { ...fields, updatedAt: serverTimestamp() });
}

export function deleteRecord(tenantId: string, recordId: string) {
  return deleteDoc(doc(firestore(), 'tenants', tenantId, 'records', recordId));
}

/** The same limits as the rules, checked before sending so the person sees them next to the field. */
export function recordFieldErrors(fields: { title: string; body: string }): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!fields.title.trim()) errors.title = 'A title is required.';
  else if (fields.title.length > TITLE_MAX) errors.title = `At most ${TITLE_MAX} characters (now ${fields.title.length}).`;
  if (fields.body.length > BODY_MAX) errors.body = `At most ${BODY_MAX} characters (now ${fields.body.length}).`;
  return errors;
}
