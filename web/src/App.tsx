import type { ReactNode } from 'react';
import { AdminPage } from './AdminPage';
import { AuthActionPage } from './AuthActionPage';
import { Link, usePathname } from './navigation';
import { SignupPage } from './SignupPage';
import { TenantHome } from './TenantHome';

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
      {pageFor(pathname)}
    </>
  );
}
