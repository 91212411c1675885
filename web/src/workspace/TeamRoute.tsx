import { collection, onSnapshot, orderBy, query, type DocumentData } from 'firebase/firestore';
import { useEffect, useState } from 'react';
import { firestore } from '../firestore';
import { Empty, ErrorAlert, Loading } from '../ui/states';
import { useTenant } from './TenantLayout';

/**
 * /app/:tenant/team: who is in the organisation (every role may read it). Inviting and managing
 * members comes with the team pages (issue 13), which replace this route module.
 */
export function Component() {
  const { tenantId } = useTenant();
  const [members, setMembers] = useState<DocumentData[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  useEffect(
    () =>
      onSnapshot(
        query(collection(firestore(), 'tenants', tenantId, 'members'), orderBy('email')),
        (snapshot) => setMembers(snapshot.docs.map((member) => member.data())),
        (failure) => setError(failure.message),
      ),
    [tenantId],
  );
  return (
    <section aria-labelledby="team-title">
      <h2 id="team-title">Team</h2>
      {error ? (
        <ErrorAlert>{error}</ErrorAlert>
      ) : members === undefined ? (
        <Loading>Loading the team…</Loading>
      ) : members.length === 0 ? (
        <Empty title="No members." />
      ) : (
        <div className="card table-scroll" tabIndex={0} role="region" aria-label="Members table">
          <table>
            <caption className="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {members.map((member) => (
                <tr key={String(member.uid)}>
                  <td>{String(member.displayName ?? '—')}</td>
                  <td>{String(member.email)}</td>
                  <td>{String(member.role)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
