import type { RouteObject } from 'react-router';
import { connect } from './connection';
import { LOCAL_TOOLS } from './localTools';
import { RootLayout } from './shell/RootLayout';
import { NotFound, RouteError } from './shell/RouteError';

/** A route module that calls the synchronous firebase(): it loads once connect() has resolved. */
function connected<Module>(load: () => Promise<Module>): () => Promise<Module> {
  return async () => {
    await connect();
    return load();
  };
}

/**
 * Every page is a route module loaded when its route is first visited (`lazy`), so each page ships
 * only its own code: the signup route never downloads the workspace or the admin console.
 * A route module exports `Component` (and may export `loader`, `ErrorBoundary`...), as React Router's
 * `lazy` expects.
 */
export const routes: RouteObject[] = [
  {
    path: '/',
    Component: RootLayout,
    ErrorBoundary: RouteError,
    children: [
      {
        // Errors below render inside the frame, with the top bar still there.
        ErrorBoundary: RouteError,
        children: [
          // The signup form renders before Firebase is loaded: it awaits connect() itself.
          { index: true, lazy: () => import('./signup/SignupRoute') },
          {
            path: 'app',
            lazy: connected(() => import('./workspace/WorkspaceLayout')),
            children: [
              { index: true, lazy: connected(() => import('./workspace/ChooseTenantRoute')) },
              {
                // A tenant by its slug (or, while it cannot be read, its id).
                path: ':tenant',
                lazy: connected(() => import('./workspace/TenantLayout')),
                children: [
                  { index: true, lazy: connected(() => import('./workspace/RecordsRoute')) },
                  { path: 'settings', lazy: connected(() => import('./workspace/SettingsRoute')) },
                  { path: 'team', lazy: connected(() => import('./team/TeamPage')) },
                  { path: 'domains', lazy: connected(() => import('./team/DomainsPage')) },
                  // The billing page (issue 12) plugs in here; the lifecycle banner links to it.
                  { path: 'billing', lazy: connected(() => import('./workspace/BillingRoute')) },
                ],
              },
            ],
          },
          {
            path: 'admin',
            lazy: connected(() => import('./admin/AdminLayout')),
            children: [
              { index: true, lazy: connected(() => import('./admin/TenantsRoute')) },
              { path: 'new', lazy: connected(() => import('./admin/ProvisionRoute')) },
              { path: 'tenants/:tenantId', lazy: connected(() => import('./admin/TenantDetailRoute')) },
              // Local emulators only: absent from a production build (see localTools.ts).
              ...(LOCAL_TOOLS ? [{ path: 'clock', lazy: connected(() => import('./admin/ClockRoute')) }] : []),
            ],
          },
          // The link in an invite mail: accept (or sign up and accept) an invite to a tenant.
          { path: 'invite/:tenantId/:inviteId', lazy: connected(() => import('./team/AcceptInvitePage')) },
          // Firebase Auth's email action links (password setup and reset, email verification).
          { path: 'auth/action', lazy: connected(() => import('./auth/AuthActionRoute')) },
          { path: '*', Component: NotFound },
        ],
      },
    ],
  },
];
