// Self-serve signup in a real browser: field errors from the server next to their fields, the page
// waiting for the address to be confirmed from the local inbox (M5), a double click that makes one
// tenant, the owner landing in the workspace and working with records, and a Stripe outage rolled back
// and tried again. Every page and state is checked with axe and pictured.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { auth, db, eventually, signedInClient } from '../helpers/emulators';
import { linksIn, mailTo } from '../helpers/inbox';
import { look, PASSWORD, signIn, useBrowser } from './harness';

const app = useBrowser();

async function fillSignup(page: Page, form: { name: string; email: string; company: string; plan: 'Starter' | 'Team'; slug?: string }) {
  await page.getByLabel('Your name').fill(form.name);
  await page.getByLabel('Work email').fill(form.email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Company name').fill(form.company);
  await page.getByRole('radio', { name: new RegExp(`^${form.plan}`) }).check();
  if (form.slug) await page.getByLabel(/^Subdomain/).fill(form.slug);
}

/** The person opens the confirmation mail in their inbox and follows its link, in a browser of its own (their mail client's). */
async function confirmFromInbox(email: string): Promise<void> {
  const mail = await mailTo(email, /^Confirm your email address$/);
  const [link] = linksIn(mail).filter((l) => l.text === 'Confirm your email address');
  const mailClient = await app.newPage();
  await mailClient.goto(link.href);
  await mailClient.getByRole('status').filter({ hasText: 'Your email address is confirmed' }).waitFor();
}

const tenantsNamed = async (name: string) => (await db.collection('tenants').where('name', '==', name).get()).docs;
const tenantCount = async () => (await db.collection('tenants').count().get()).data().count;

/** The error shown next to a field, read through the field's own description. */
async function fieldError(page: Page, label: RegExp | string): Promise<string | null> {
  const input = page.getByLabel(label);
  expect(await input.getAttribute('aria-invalid')).toBe('true');
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter((id) => id.endsWith('-error'));
  return ids.length ? page.locator(`[id="${ids[0]}"]`).textContent() : null;
}

describe('self-serve signup', () => {
  it('shows the server’s field errors next to their fields; a double-clicked submit then makes one tenant, and the owner works with records', async () => {
    const page = await app.newPage();
    await page.goto(`${app.origin()}/`);
    await page.getByRole('heading', { name: 'Start your free trial' }).waitFor();
    await look(page, 'signup');

    // A subdomain the product reserves: the server refuses it (invalid-argument) and names the field.
    await fillSignup(page, { name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines', plan: 'Team', slug: 'admin' });
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('alert').filter({ hasText: 'Check the field marked below.' }).waitFor();
    expect(await fieldError(page, /^Subdomain/)).toBe('is reserved by the product; choose another');
    // Focus goes to the field to fix.
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('slug');
    await look(page, 'signup-field-error');
    expect(await tenantCount()).toBe(0);

    await page.getByLabel(/^Subdomain/).fill('');
    await page.getByRole('button', { name: 'Create organisation' }).dblclick();
    // M5: nothing is made for an address nobody confirmed; the page says why and waits.
    const waiting = page.getByTestId('awaiting-confirmation');
    await waiting.filter({ hasText: 'Confirm your address: we sent a link to ada@analytical.test.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Waiting for your confirmation…' }).isDisabled()).toBe(true);
    await look(page, 'signup-awaiting-confirmation');
    expect(await tenantCount()).toBe(0);
    // The simulator holds other files' customers too: none may be Ada's.
    const stripe = (await (await fetch(`${process.env.STRIPE_API_BASE}/_fake/state`)).json()) as { customers: Array<{ email: string | null }> };
    expect(stripe.customers.filter((customer) => customer.email === 'ada@analytical.test')).toEqual([]);
    expect((await db.collection('mail').get()).docs.map((mail) => mail.get('message.subject'))).toEqual(['Confirm your email address']);

    await confirmFromInbox('ada@analytical.test');
    await page.waitForURL(`${app.origin()}/app/analytical-engines`);
    const banner = page.getByTestId('lifecycle-banner');
    await banner.filter({ hasText: 'Trial: 14 days left' }).waitFor();
    expect(await banner.getAttribute('data-status')).toBe('trial');
    await page.getByRole('heading', { name: 'Welcome to your workspace' }).waitFor();
    await look(page, 'workspace-owner-trial');

    const ada = await auth.getUserByEmail('ada@analytical.test');
    const [tenant] = await tenantsNamed('Analytical Engines');
    expect(await tenantCount()).toBe(1);
    expect([tenant.get('status'), tenant.get('plan'), tenant.get('ownerUid'), tenant.get('slug')]).toEqual(['trial', 'team', ada.uid, 'analytical-engines']);

    // Create a record, then edit it: both land in Firestore under the rules, as the owner.
    const form = page.getByRole('form', { name: 'New record' });
    await form.getByLabel('Title').fill('Difference engine notes');
    await form.getByLabel(/^Text/).fill('Gears, columns, carry.');
    await form.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('status').filter({ hasText: 'Added “Difference engine notes”.' }).waitFor();
    const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Difference engine notes' }) });
    await item.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit Difference engine notes' });
    await edit.getByLabel('Title').fill('Analytical engine notes');
    await look(page, 'workspace-record-editing');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Analytical engine notes' }).waitFor();

    const records = (await tenant.ref.collection('records').where('createdBy', '==', ada.uid).get()).docs.map((r) => r.data());
    const mine = records.find((r) => r.title === 'Analytical engine notes');
    expect(mine?.body).toBe('Gears, columns, carry.');
    expect(mine?.updatedAt.toMillis()).toBeGreaterThan(mine?.createdAt.toMillis());
    expect(records.some((r) => r.title === 'Difference engine notes')).toBe(false);

    // Delete asks first, in a dialog that says what it does.
    const sample = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Your first roadmap' }) });
    await sample.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete “Your first roadmap”?' });
    await dialog.waitFor();
    await look(page, 'workspace-record-delete-dialog');
    await dialog.getByRole('button', { name: 'Delete record' }).click();
    await page.getByRole('heading', { name: 'Your first roadmap', exact: true }).waitFor({ state: 'detached' });
    // The page drops the record at once (Firestore's local write); the server commits the delete a moment later.
    await eventually(async () => !(await tenant.ref.collection('records').doc('sample-roadmap').get()).exists, 'the record to be deleted on the server');
  });

  it('names a subdomain another tenant holds next to the field, and the corrected form reuses the account', async () => {
    const sales = await signedInClient('seed-sales@platform.test', { platform: 'sales' });
    await sales.call('provisionTenant', {
      idempotencyKey: 'e2e-seed-taken-subdomain',
      companyName: 'Initech',
      plan: 'team',
      admin: { email: 'someone@initech.test', displayName: 'Someone Else' },
      subdomain: 'initech',
    });
    await sales.close();

    const page = await app.newPage();
    await page.goto(`${app.origin()}/`);
    await fillSignup(page, { name: 'Bill Lumbergh', email: 'bill@initrode.test', company: 'Initrode', plan: 'Starter', slug: 'initech' });
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('alert').waitFor();
    expect(await fieldError(page, /^Subdomain/)).toBe("'initech' is already taken by another tenant; choose another");
    // The account exists and is signed in: the form no longer asks for email and password.
    await page.getByText('Signed in as bill@initrode.test: your company will belong to this account.').waitFor();
    expect(await page.getByLabel('Password').count()).toBe(0);
    await look(page, 'signup-subdomain-taken');

    await page.getByLabel(/^Subdomain/).fill('initrode');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByTestId('awaiting-confirmation').waitFor();
    await confirmFromInbox('bill@initrode.test');
    await page.waitForURL(`${app.origin()}/app/initrode`);
    const bill = await auth.getUserByEmail('bill@initrode.test');
    const billsTenants = (await db.collection('tenants').where('ownerUid', '==', bill.uid).get()).docs;
    expect(billsTenants.map((t) => [t.get('slug'), t.get('plan')])).toEqual([['initrode', 'starter']]);
  });

  it('shows the form and takes input while Firebase Auth is still downloading; the submit waits for it, then creates the account', async () => {
    const page = await app.newPage();
    // Firebase's chunk (the app and Auth, web/src/firebase.ts) is held until released below.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let requested = false;
    await page.route(/\/assets\/firebase-[^/]+\.js$/, async (route) => {
      requested = true;
      await held;
      await route.continue();
    });
    await page.goto(`${app.origin()}/`);
    await page.getByRole('heading', { name: 'Start your free trial' }).waitFor();
    await fillSignup(page, { name: 'Lin Early', email: 'lin@early.test', company: 'Early Birds', plan: 'Starter' });
    expect(await page.getByLabel('Company name').inputValue()).toBe('Early Birds');
    // Asked for at startup, beside the form: not on demand after the click.
    expect(requested).toBe(true);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('button', { name: 'Creating your organisation…' }).waitFor();
    await expect(auth.getUserByEmail('lin@early.test')).rejects.toMatchObject({ code: 'auth/user-not-found' });

    release();
    await page.getByTestId('awaiting-confirmation').filter({ hasText: 'lin@early.test' }).waitFor();
    expect((await auth.getUserByEmail('lin@early.test')).email).toBe('lin@early.test');
  });

  it('says it cannot reach the backend when the startup config does not load', async () => {
    const page = await app.newPage();
    await page.route('**/emulators.json', (route) => route.fulfill({ status: 503, body: 'unavailable' }));
    await page.goto(`${app.origin()}/`);
    await page.getByRole('heading', { name: 'Cannot reach the backend' }).waitFor();
    expect(await page.locator('.alert.error').textContent()).toBe('Loading the Firebase configuration failed: Error: /emulators.json: HTTP 503');
    expect(await page.getByRole('heading', { name: 'Start your free trial' }).count()).toBe(0);
    await look(page, 'startup-config-failure');
  });

  it('puts “an account with this email already exists” next to the email field', async () => {
    await auth.createUser({ email: 'taken@globex.test', password: PASSWORD });
    const page = await app.newPage();
    await page.goto(`${app.origin()}/`);
    await fillSignup(page, { name: 'Hank Scorpio', email: 'taken@globex.test', company: 'Globex', plan: 'Starter' });
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('link', { name: 'Go to sign in' }).waitFor();
    expect(await fieldError(page, 'Work email')).toMatch(/already exists/);
    await look(page, 'signup-email-in-use');
    expect(await tenantCount()).toBe(0);
  });

  it('a Stripe outage rolls the signup back and says why; “Try again” provisions cleanly', async () => {
    const injected = await fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: '/v1/subscriptions', status: 503, times: 3, message: 'Stripe is unavailable' }),
    });
    expect(injected.status).toBe(200);
    const page = await app.newPage();
    await page.goto(`${app.origin()}/`);
    await fillSignup(page, { name: 'Grace Hopper', email: 'grace@cobol.test', company: 'Cobol Systems', plan: 'Starter' });
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByTestId('awaiting-confirmation').waitFor();
    await confirmFromInbox('grace@cobol.test');

    const progress = page.locator('[data-testid=job-progress][data-status=rolled_back]');
    await progress.waitFor();
    // L6: the customer's words, not Stripe's.
    const said = (await progress.getByTestId('job-failure').textContent()) ?? '';
    expect(said).toBe('We could not reach our payment provider to set up your billing. Everything was undone and nothing was charged. You can try again now.');
    expect(await progress.textContent()).not.toMatch(/Stripe is unavailable/);
    expect(await progress.locator('[data-step=createStripeCustomer]').getAttribute('data-state')).toBe('undone');
    await look(page, 'signup-rolled-back');

    // The workspace says the same to the person, with the way out.
    const home = await app.newPage();
    await home.goto(`${app.origin()}/app`);
    await home.getByLabel('Email').fill('grace@cobol.test');
    await home.getByLabel('Password').fill(PASSWORD);
    await home.getByRole('button', { name: 'Sign in', exact: true }).click();
    await home.getByTestId('failed-signup').filter({ hasText: 'We could not set up Cobol Systems.' }).waitFor();
    expect(await home.getByTestId('failed-signup').textContent()).not.toMatch(/Stripe is unavailable/);
    await look(home, 'workspace-signup-failed');

    await page.getByRole('button', { name: 'Try again' }).click();
    await page.waitForURL(`${app.origin()}/app/cobol-systems`);
    await home.waitForURL(`${app.origin()}/app/cobol-systems`);
    const tenants = (await tenantsNamed('Cobol Systems')).map((t) => t.get('status')).sort();
    expect(tenants).toEqual(['failed', 'trial']);
  });

  it('L6: a provisioning whose undo failed tells the customer what it means, never Stripe’s words or the operator’s instructions', async () => {
    const inject = (rule: Record<string, unknown>) =>
      fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
    expect((await inject({ method: 'POST', path: '/v1/subscriptions', status: 503, times: 3, message: 'Stripe is unavailable' })).status).toBe(200);
    expect((await inject({ method: 'DELETE', path: '/v1/customers', status: 500, times: 8, message: 'Stripe could not delete' })).status).toBe(200);
    try {
      // Signed in already with a confirmed address (this test is about the failure's words, not the confirmation).
      await auth.createUser({ email: 'lin@lumen.test', password: PASSWORD, emailVerified: true });
      const page = await app.newPage();
      await page.goto(`${app.origin()}/app`);
      await signIn(page, 'lin@lumen.test');
      await page.getByText('You are not a member of any organisation yet.').waitFor();
      await page.goto(`${app.origin()}/`);
      await page.getByTestId('signed-in-as').filter({ hasText: 'lin@lumen.test' }).waitFor();
      await page.getByLabel('Your name').fill('Lin Lumen');
      await page.getByLabel('Company name').fill('Lumen Labs');
      await page.getByRole('button', { name: 'Create organisation' }).click();

      const progress = page.locator('[data-testid=job-progress][data-status=failed]');
      await progress.waitFor({ timeout: 120_000 });
      const [job] = (await db.collection('provisioningJobs').get()).docs;
      expect(job.get('retryAction'), 'the operator text exists, for the admin console').toMatch(/finishProvisioningRollback/);
      const operatorWords = /Stripe is unavailable|Stripe could not delete|finishProvisioningRollback|idempotency|undoErrors/;
      expect(await progress.getByTestId('job-failure').textContent()).toBe(
        'We could not reach our payment provider to set up your billing. Our team has been told and is cleaning up; you can try again once they have. You will not be charged for this attempt.',
      );
      expect(await progress.textContent()).not.toMatch(operatorWords);
      await look(page, 'signup-failed-cleanup');

      const home = await app.newPage();
      await home.goto(`${app.origin()}/app`);
      await home.getByLabel('Email').fill('lin@lumen.test');
      await home.getByLabel('Password').fill(PASSWORD);
      await home.getByRole('button', { name: 'Sign in', exact: true }).click();
      const banner = home.getByTestId('failed-signup').filter({ hasText: 'Our team has been told and is cleaning up' });
      await banner.waitFor();
      expect(await banner.textContent()).not.toMatch(operatorWords);
      expect(await banner.getByRole('button', { name: 'Try again' }).count(), 'no retry while staff clean up').toBe(0);
      await look(home, 'workspace-signup-failed-cleanup');
    } finally {
      await fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, { method: 'DELETE' });
    }
  });
});
