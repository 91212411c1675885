import type { RouteObject } from 'react-router';
import { LOCAL_TOOLS } from './localTools';
import { RootLayout } from './shell/RootLayout';
import { NotFound, RouteError } from './shell/RouteError';

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
          { index: true, lazy: () => import('./signup/SignupRoute') },
          {
            path: 'app',
            lazy: () => import('./workspace/WorkspaceLayout'),
            children: [
              { index: true, lazy: () => import('./workspace/ChooseTenantRoute') },
              {
                // A tenant by its slug (or, while it cannot be read, its id).
                path: ':tenant',
                lazy: () => import('./workspace/TenantLayout'),
                children: [
                  { index: true, lazy: () => import('./workspace/RecordsRoute') },
                  { path: 'settings', lazy: () => import('./workspace/SettingsRoute') },
                  { path: 'team', lazy: () => import('./team/TeamPage') },
                  { path: 'domains', lazy: () => import('./team/DomainsPage') },
                  // The billing page (issue 12) plugs in here; the lifecycle banner links to it.
                  { path: 'billing', lazy: () => import('./workspace/BillingRoute') },
                ],
              },
            ],
          },
          {
            path: 'admin',
            lazy: () => import('./admin/AdminLayout'),
            children: [
              { index: true, lazy: () => import('./admin/TenantsRoute') },
              { path: 'new', lazy: () => import('./admin/ProvisionRoute') },
              { path: 'tenants/:tenantId', lazy: () => import('./admin/TenantDetailRoute') },
              // Local emulators only: absent from a production build (see localTools.ts).
              ...(LOCAL_TOOLS ? [{ path: 'clock', lazy: () => import('./admin/ClockRoute') }] : []),
            ],
          },
          // The link in an invite mail: accept (or sign up and accept) an invite to a tenant.
          { path: 'invite/:tenantId/:inviteId', lazy: () => import('./team/AcceptInvitePage') },
          // Firebase Auth's email action links (password setup and reset, email verification).
          { path: 'auth/action', lazy: () => import('./auth/AuthActionRoute') },
          { path: '*', Component: NotFound },
        ],
      },
    ],
  },
];
