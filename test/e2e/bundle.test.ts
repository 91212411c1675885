// What a production build of the web app ships, route by route: the signup route within its budget and
// without the admin console or Firebase Auth (which loads beside it), and the local clock control absent
// (it is in the emulators build only).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb, measureBundle, SIGNUP_BUDGET_GZIP_BYTES, type BundleReport } from '../../scripts/bundle-size';

describe('the production build of the web app', () => {
  let dist: string;
  let report: BundleReport;
  beforeAll(() => {
    dist = mkdtempSync(join(tmpdir(), 'tenancy-web-test-'));
    buildWeb(dist, 'production');
    report = measureBundle(dist);
  });
  afterAll(() => rmSync(dist, { recursive: true, force: true }));

  it('keeps the signup route within its gzipped budget, without any module of the admin console', () => {
    expect(report.adminInSignup).toEqual([]);
    expect(report.signup.gzipBytes).toBeLessThanOrEqual(SIGNUP_BUDGET_GZIP_BYTES);
    // Firestore comes only once the form is sent: the signup page itself does not load it.
    expect(report.signup.files.some((file) => file.includes('firestore'))).toBe(false);
    expect(report.signupAfterSubmit.files.some((file) => file.includes('firestore'))).toBe(true);
  });

  it('loads Firebase Auth in a chunk of its own, beside the signup form rather than in it', () => {
    expect(report.authSdkFiles).toHaveLength(1);
    expect(report.signup.files).not.toContain(report.authSdkFiles[0]);
    expect(report.signupWithAuth.files).toContain(report.authSdkFiles[0]);
    expect(report.signupWithAuth.gzipBytes).toBeGreaterThan(report.signup.gzipBytes);
  });

  it('splits the app by route: every page loads less than the whole app', () => {
    for (const route of report.routes) expect(route.gzipBytes, route.route).toBeLessThan(report.wholeApp.gzipBytes);
    expect(report.routes.map((r) => r.route)).toContain('/admin/tenants/:tenantId');
  });

  it('has no local clock control; the emulators build (npm start, npm test) has it', () => {
    expect(report.clockInBuild).toBe(false);
    expect(report.routes.map((r) => r.route)).not.toContain('/admin/clock (local builds only)');
    const local = measureBundle(join(__dirname, '..', '..', 'web', 'dist'));
    expect(local.clockInBuild).toBe(true);
  });
});
