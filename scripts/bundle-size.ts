// The web app's JavaScript per route, gzipped, from a production build's manifest (web/dist/.vite/manifest.json).
//   node --import tsx scripts/bundle-size.ts [distDir]     print the table
// The signup route's JS is what the browser loads to show and use the signup form: the entry chunk,
// the signup route module and their static imports. The Firebase app and Auth (web/src/firebase.ts) are a
// chunk of their own that the entry loads at startup, beside the form: "with Firebase Auth" adds it, the
// total the browser downloads at startup. What it loads only once the form is sent (the Functions SDK, the
// job progress with the Firestore SDK) is reported apart, as "after submit".
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

interface ManifestChunk {
  file: string;
  name?: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}
type Manifest = Record<string, ManifestChunk>;

export interface RouteSize {
  route: string;
  files: string[];
  gzipBytes: number;
}

export interface BundleReport {
  dist: string;
  routes: RouteSize[];
  signup: RouteSize;
  signupWithAuth: RouteSize;
  signupAfterSubmit: RouteSize;
  wholeApp: RouteSize;
  /** Source modules of the admin console found among the signup route's chunks: must be none. */
  adminInSignup: string[];
  /** The chunks holding Firebase Auth's code: none of them may be among the signup form's own chunks. */
  authSdkFiles: string[];
  /** Whether any chunk holds the local clock control: must be false for a production build. */
  clockInBuild: boolean;
}

const ROOT = resolve(__dirname, '..');
// Issue 18: the signup form within 100 kB, which holds because Firebase Auth loads beside it, not in it (web/src/connection.ts).
export const SIGNUP_BUDGET_GZIP_BYTES = 100_000;
// Auth's REST host: a chunk that names it holds the Auth SDK (a minified build keeps no function names).
const AUTH_SDK_MARKER = 'identitytoolkit.googleapis.com';

/** Each page and the route modules it loads (web/src/routes.tsx). */
const ROUTES: Record<string, string[]> = {
  '/': ['src/signup/SignupRoute.tsx'],
  '/app': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/ChooseTenantRoute.tsx'],
  '/app/:tenant': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/TenantLayout.tsx', 'src/workspace/RecordsRoute.tsx'],
  '/app/:tenant/settings': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/TenantLayout.tsx', 'src/workspace/SettingsRoute.tsx'],
  '/app/:tenant/team': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/TenantLayout.tsx', 'src/team/TeamPage.tsx'],
  '/app/:tenant/domains': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/TenantLayout.tsx', 'src/team/DomainsPage.tsx'],
  '/app/:tenant/billing': ['src/workspace/WorkspaceLayout.tsx', 'src/workspace/TenantLayout.tsx', 'src/workspace/BillingRoute.tsx'],
  '/invite/:tenantId/:inviteId': ['src/team/AcceptInvitePage.tsx'],
  '/admin': ['src/admin/AdminLayout.tsx', 'src/admin/TenantsRoute.tsx'],
  '/admin/tenants/:tenantId': ['src/admin/AdminLayout.tsx', 'src/admin/TenantDetailRoute.tsx'],
  '/admin/new': ['src/admin/AdminLayout.tsx', 'src/admin/ProvisionRoute.tsx'],
  '/admin/clock (local builds only)': ['src/admin/AdminLayout.tsx', 'src/admin/ClockRoute.tsx'],
};

/** `vite build` of the web app into `outDir` (production unless `mode` says otherwise). */
export function buildWeb(outDir: string, mode = 'production'): void {
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--mode', mode, '--outDir', outDir, '--logLevel', 'error'], {
    cwd: join(ROOT, 'web'),
    // Under vitest NODE_ENV is 'test', which would make Vite bundle React's development build.
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function measureBundle(dist: string): BundleReport {
  const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8')) as Manifest;
  const gz = new Map<string, number>();
  const gzipOf = (file: string) => {
    if (!gz.has(file)) gz.set(file, gzipSync(readFileSync(join(dist, file))).length);
    return gz.get(file)!;
  };
  /** The chunk of `key` and every chunk it imports statically, transitively (what loads with it). */
  const closure = (keys: string[]) => {
    const seen = new Set<string>();
    const visit = (key: string) => {
      if (seen.has(key)) return;
      if (!manifest[key]) throw new Error(`${key} is not in the build manifest`);
      seen.add(key);
      for (const next of manifest[key].imports ?? []) visit(next);
    };
    keys.forEach(visit);
    return [...seen];
  };
  const size = (route: string, keys: string[]): RouteSize => {
    const files = [...new Set(closure(keys).map((key) => manifest[key].file))].filter((file) => file.endsWith('.js')).sort();
    return { route, files, gzipBytes: files.reduce((sum, file) => sum + gzipOf(file), 0) };
  };
  const entry = Object.keys(manifest).find((key) => manifest[key].isEntry)!;
  // A nested route loads the modules of its parent routes too.
  // A layout that page modules also import statically has no chunk of its own: Vite puts it in a shared
  // chunk, which the pages' imports reach. A route counts when its page module is in the build.
  const routes = Object.entries(ROUTES)
    .filter(([, modules]) => manifest[modules[modules.length - 1]])
    .map(([route, modules]) => size(route, [entry, ...modules.filter((key) => manifest[key])]));
  const signupKeys = [entry, 'src/signup/SignupRoute.tsx'];
  const signup = size('signup route', signupKeys);
  // firebase.ts is also imported statically by other route modules, so Vite keys its chunk by file name.
  const firebaseChunk = manifest[entry].dynamicImports?.find((key) => key === 'src/firebase.ts' || manifest[key].name === 'firebase');
  if (!firebaseChunk) throw new Error('no chunk of src/firebase.ts among the entry\'s dynamic imports');
  const withAuthKeys = [...signupKeys, firebaseChunk];
  const signupWithAuth = size('signup route with Firebase Auth', withAuthKeys);
  const afterSubmit = size('signup route after submit', [...withAuthKeys, 'src/functions.ts', 'src/provisioning/JobProgress.tsx']);
  const allJs = readdirSync(join(dist, 'assets')).filter((file) => file.endsWith('.js')).map((file) => `assets/${file}`);
  const wholeApp: RouteSize = { route: 'whole app', files: allJs, gzipBytes: allJs.reduce((sum, file) => sum + gzipOf(file), 0) };
  const adminInSignup = closure(signupKeys).filter((key) => (manifest[key].src ?? key).startsWith('src/admin/'));
  const clockInBuild = allJs.some((file) => readFileSync(join(dist, file), 'utf8').includes('advanceLocalClock'));
  const authSdkFiles = allJs.filter((file) => readFileSync(join(dist, file), 'utf8').includes(AUTH_SDK_MARKER)).sort();
  return { dist, routes, signup, signupWithAuth, signupAfterSubmit: afterSubmit, wholeApp, adminInSignup, authSdkFiles, clockInBuild };
}

export const kB = (bytes: number) => (bytes / 1000).toFixed(1);

function main() {
  const dist = resolve(process.argv[2] ?? join(ROOT, 'web', 'dist'));
  if (!existsSync(join(dist, '.vite', 'manifest.json'))) throw new Error(`${dist} has no build manifest: run \`npm run build -w web\` first`);
  const report = measureBundle(dist);
  for (const row of [report.signup, report.signupWithAuth, report.signupAfterSubmit, ...report.routes.slice(1), report.wholeApp]) {
    console.log(`${kB(row.gzipBytes).padStart(7)} kB gzip  ${row.route} (${row.files.length} chunks)`);
  }
  console.log(`admin console modules in the signup route: ${report.adminInSignup.length ? report.adminInSignup.join(', ') : 'none'}`);
  const authInForm = report.authSdkFiles.filter((file) => report.signup.files.includes(file));
  console.log(`Firebase Auth in the signup form's chunks: ${authInForm.length ? authInForm.join(', ') : 'none'} (it loads in ${report.authSdkFiles.join(', ') || 'no chunk'})`);
  console.log(`local clock control in this build: ${report.clockInBuild ? 'yes' : 'no'}`);
}

if (/bundle-size\.[cm]?[jt]s$/.test(process.argv[1] ?? '')) main();
