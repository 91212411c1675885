import { isRouteErrorResponse, Link, useLocation, useRouteError } from 'react-router';

/** What a person sees when a page cannot be shown: an unknown address, or a page that failed. */
export function RouteError() {
  const error = useRouteError();
  if (isRouteErrorResponse(error) && error.status === 404) return <NotFound />;
  // A deploy replaced the chunk this tab expected: a reload fetches the new one.
  const stale = error instanceof Error && /dynamically imported module|Importing a module script failed/.test(error.message);
  return (
    <div className="page narrow">
      <div className="card">
        <h1>{stale ? 'A newer version is available' : 'This page failed to load'}</h1>
        <p className="alert error" role="alert">
          {stale ? 'The app was updated while this tab was open.' : error instanceof Error ? error.message : 'Something went wrong.'}
        </p>
        <p>
          <a href={window.location.href}>Reload the page</a> or go to <Link to="/">the start page</Link>.
        </p>
      </div>
    </div>
  );
}

export function NotFound() {
  const { pathname } = useLocation();
  return (
    <div className="page narrow">
      <div className="card">
        <h1>Page not found</h1>
        <p>
          There is nothing at <code>{pathname}</code>. <Link to="/">Sign up</Link>, open <Link to="/app">your workspace</Link>, or go to the{' '}
          <Link to="/admin">admin console</Link>.
        </p>
      </div>
    </div>
  );
}
