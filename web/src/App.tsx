import type { ReactNode } from 'react';
import { AdminPage } from './AdminPage';
import { Link, usePathname } from './navigation';
import { SignupPage } from './SignupPage';
import { TenantHome } from './TenantHome';

function pageFor(pathname: string): ReactNode {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === '/') return <SignupPage />;
  if (path === '/app') return <TenantHome />;
  if (path === '/admin') return <AdminPage />;
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
  return (
    <>
      <header className="topbar">
        <Link to="/">
          <span className="brand">Tenancy</span>
        </Link>
        <nav>
          <Link to="/">Sign up</Link>
          <Link to="/app">Your organisation</Link>
          <Link to="/admin">Sales admin</Link>
        </nav>
      </header>
      {pageFor(pathname)}
    </>
  );
}
