import { signOut } from 'firebase/auth';
import { firebase } from '../firebase';
import { Link } from '../navigation';

type Section = 'overview' | 'team' | 'domains';

/** The tenant workspace's header: its name, the caller's role and the sections they may open. */
export function TenantNav({ tenantId, tenantName, role, current, email }: { tenantId: string; tenantName: string; role: string; current: Section; email: string | null }) {
  const sections: Array<[Section, string, string]> = [
    ['overview', 'Overview', `/app`],
    ['team', 'Team', `/app/team?tenant=${tenantId}`],
    ...(['owner', 'admin'].includes(role) ? ([['domains', 'Domains', `/app/domains?tenant=${tenantId}`]] as Array<[Section, string, string]>) : []),
  ];
  return (
    <>
      <div className="page-header">
        <div>
          <h1>{tenantName}</h1>
          <p className="muted">
            Signed in as {email} · <span data-field="my-role">{role}</span>
          </p>
        </div>
        <button type="button" onClick={() => signOut(firebase().auth)}>
          Sign out
        </button>
      </div>
      <nav className="tabs" aria-label="Organisation">
        {sections.map(([key, label, to]) => (
          <Link key={key} to={to} current={key === current}>
            {label}
          </Link>
        ))}
      </nav>
    </>
  );
}
