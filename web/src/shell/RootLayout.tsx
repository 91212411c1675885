import { useEffect, useRef } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigation } from 'react-router';
import { useCurrentUser } from '../auth/useCurrentUser';
import { connect } from '../connection';

const NAV = [
  { to: '/', label: 'Sign up', end: true },
  { to: '/app', label: 'Workspace', end: false },
  { to: '/admin', label: 'Admin console', end: false },
] as const;

/** The frame of every page: skip link, top bar, the page in <main>, and focus moved to it on navigation. */
export function RootLayout() {
  const user = useCurrentUser();
  const navigation = useNavigation();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // A new page starts at its top, and screen reader and keyboard users at its content, not at the old focus.
  // (By hand rather than <ScrollRestoration>, which would add its weight to every page, the signup page's included.)
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [pathname]);

  const signOutUser = async () => {
    const { auth, signOut } = await connect();
    await signOut(auth);
  };

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Tenancy
        </Link>
        <nav aria-label="Main">
          {NAV.map(({ to, label, end }) => (
            <NavLink key={to} to={to} end={end}>
              {label}
            </NavLink>
          ))}
        </nav>
        <div className="account">
          {user && (
            <>
              <span className="muted small" data-testid="signed-in-as">
                Signed in as {user.email}
              </span>
              <button type="button" className="small" onClick={signOutUser}>
                Sign out
              </button>
            </>
          )}
        </div>
      </header>
      {navigation.state === 'loading' && <div className="route-progress" role="progressbar" aria-label="Loading the page" />}
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
