import { lazy, Suspense, type ReactNode } from 'react';
import { AdminPage } from './AdminPage';
import { AuthActionPage } from './AuthActionPage';
import { Link, usePathname } from './navigation';
import { SignupPage } from './SignupPage';
import { TenantHome } from './TenantHome';

// The team pages load on demand: the signup page does not ship them.
const TeamPage = lazy(() => import('./team/TeamPage').then((m) => ({ default: m.TeamPage })));
const DomainsPage = lazy(() => import('./team/DomainsPage').then((m) => ({ default: m.DomainsPage })));
const AcceptInvitePage = lazy(() => import('./team/AcceptInvitePage').then((m) => ({ default: m.AcceptInvitePage })));

const NAV = [
  ['/', 'Sign up'],
  ['/app', 'Your organisation'],
  ['/admin', 'Sales admin'],
] as const;

function normalise(pathname: string): string {
  return pathname.replace(/\/+$/, '') || '/';
}

function pageFor(pathname: string): ReactNode {
  const path = normalise(pathname);
  if (path === '/') return <SignupPage />;
  if (path === '/app') return <TenantHome />;
  if (path === '/admin') return <AdminPage />;
  if (path === '/auth/action') return <AuthActionPage />;
  if (path === '/app/team') return <TeamPage />;
  if (path === '/app/domains') return <DomainsPage />;
  const invite = /^\/invite\/([^/]+)\/([^/]+)$/.exec(path);
  if (invite) return <AcceptInvitePage tenantId={decodeURIComponent(invite[1])} inviteId={decodeURIComponent(invite[2])} />;
  return (
    <main className="page narrow">
      <div className="card">
        <h1>Page not found</h1>
        <p>
          There is nothing at <code>{pathname}</code>. <Link to="/">Sign up</Link> or <Link to="/app">sign in</Link>.
        </p>
      </div>
    </main>
  );
}

export function App() {
  const pathname = usePathname();
  const path = normalise(pathname);
  return (
    <>
      <header className="topbar">
        <Link to="/">
          <span className="brand">Tenancy</span>
        </Link>
        <nav>
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} current={to === path}>
              {label}
            </Link>
          ))}
        </nav>
      </header>
      <Suspense fallback={<main className="page"><p className="muted">Loading…</p></main>}>{pageFor(pathname)}</Suspense>
    </>
  );
}
