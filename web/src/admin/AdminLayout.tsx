import { getIdTokenResult, type User } from 'firebase/auth';
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useOutletContext } from 'react-router';
import { PLATFORM_ROLES, type PlatformRole } from '../../../functions/src/domain/status';
import { SignedIn } from '../auth/SignedIn';
import { LOCAL_TOOLS } from '../localTools';
import { Loading } from '../ui/states';

export interface Staff {
  user: User;
  platform: PlatformRole;
}

export const useStaff = () => useOutletContext<Staff>();

/** /admin: platform staff only. Everyone else gets a page that says so (and the server refuses them anyway). */
export function Component() {
  return (
    <SignedIn title="Admin console" intro="Sign in with your platform staff account.">
      {(user) => <StaffOnly key={user.uid} user={user} />}
    </SignedIn>
  );
}

function StaffOnly({ user }: { user: User }) {
  const [platform, setPlatform] = useState<PlatformRole | null | undefined>(undefined);

  // Claims set after the last sign-in reach only a fresh token: force a refresh.
  useEffect(() => {
    let current = true;
    getIdTokenResult(user, true).then(
      (token) => {
        const claim = token.claims.platform;
        if (current) setPlatform(PLATFORM_ROLES.includes(claim as PlatformRole) ? (claim as PlatformRole) : null);
      },
      () => current && setPlatform(null),
    );
    return () => {
      current = false;
    };
  }, [user]);

  if (platform === undefined) {
    return (
      <div className="page">
        <Loading>Checking your access…</Loading>
      </div>
    );
  }
  if (!platform) {
    return (
      <div className="page narrow">
        <div className="card" data-testid="admin-refused">
          <h1>Platform staff only</h1>
          <p className="alert error" role="alert">
            The admin console is for platform staff. Your account, {user.email}, has no platform role, so the console’s data and actions are refused to
            it.
          </p>
          <p>If you need access, ask a super admin to grant your account the <code>sales</code> or <code>super_admin</code> role, then sign in again.</p>
        </div>
      </div>
    );
  }
  const staff: Staff = { user, platform };
  return (
    <div className="page wide admin">
      <div className="page-header">
        <p className="eyebrow">
          Admin console · <span data-testid="platform-role">{platform.replace('_', ' ')}</span>
        </p>
      </div>
      <nav className="tabs" aria-label="Admin console">
        <NavLink to="/admin" end>
          Tenants
        </NavLink>
        <NavLink to="/admin/new">Provision a tenant</NavLink>
        {/* The clock's callables refuse everyone but super_admin: the tab is offered to them alone. */}
        {LOCAL_TOOLS && platform === 'super_admin' && <NavLink to="/admin/clock">Local clock</NavLink>}
      </nav>
      <Outlet context={staff} />
    </div>
  );
}
