// The tenant's workspace in a real browser: role-aware record controls whose block is the rules' (a
// forced write from the page's own SDK is denied), the tenant switcher, the lifecycle banner for every
// status, settings, team and billing, the keyboard alone, and the trial expiring when the local clock moves.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { TenantStatus } from '../../functions/src/domain/status';
import { db, eventually } from '../helpers/emulators';
import { look, signIn, useBrowser } from './harness';
import { account, seedTenant } from './seed';

const app = useBrowser();

const ACME = {
  tenantId: 'acme-id',
  name: 'Acme Robotics',
  slug: 'acme',
  status: 'active' as TenantStatus,
  members: [
    { email: 'owner@acme.test', role: 'owner' as const },
    { email: 'member@acme.test', role: 'member' as const },
    { email: 'viewer@acme.test', role: 'viewer' as const },
  ],
  records: [
    { title: 'Quarterly robot inventory', body: 'Arms: 12. Legs: 40.' },
    { title: 'Member’s field notes', by: 'member@acme.test' },
  ],
};

async function openWorkspace(page: Page, email: string, path = '/app') {
  await page.goto(`${app.origin()}${path}`);
  await signIn(page, email);
}

const recordTitles = async () => (await db.collection('tenants/acme-id/records').get()).docs.map((d) => String(d.get('title'))).sort();

/**
 * Turns every disabled control of the new-record form back on and sends it: the page's own Firestore
 * SDK makes the write, and only the security rules can refuse it.
 */
async function forceNewRecord(page: Page, title: string) {
  const form = page.getByRole('form', { name: 'New record' });
  await form.evaluate((element) => element.querySelectorAll('[disabled]').forEach((control) => control.removeAttribute('disabled')));
  await form.getByLabel('Title').fill(title);
  await form.getByRole('button', { name: 'Add record' }).click();
  return form.getByRole('alert');
}

describe('records by role', () => {
  it('a viewer reads records but gets no controls to change them; the write forced from the page is refused by the rules', async () => {
    await seedTenant(ACME);
    const before = await recordTitles();
    const page = await app.newPage();
    await openWorkspace(page, 'viewer@acme.test');
    await page.waitForURL(`${app.origin()}/app/acme`);
    await page.getByRole('heading', { name: 'Quarterly robot inventory' }).waitFor();
    expect(await page.getByTestId('write-block-reason').textContent()).toBe(
      'As a viewer, you can read records but not add them: that takes owners, admins, managers or members.',
    );
    expect(await page.getByRole('form', { name: 'New record' }).getByRole('button', { name: 'Add record' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await look(page, 'workspace-viewer');

    const refusal = await forceNewRecord(page, 'Written by a viewer');
    await refusal.filter({ hasText: 'The server refused this change.' }).waitFor();
    await look(page, 'workspace-viewer-forced-write-denied');
    expect(await recordTitles()).toEqual(before);
  });

  it('a member adds and edits their own records, not a teammate’s, and deletes none', async () => {
    await seedTenant(ACME);
    const page = await app.newPage();
    await openWorkspace(page, 'member@acme.test');
    const own = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Member’s field notes' }) });
    const others = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Quarterly robot inventory' }) });
    await own.waitFor();
    expect(await own.getByRole('button', { name: 'Edit' }).count()).toBe(1);
    expect(await others.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await look(page, 'workspace-member');

    await own.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('form', { name: 'Edit Member’s field notes' });
    await edit.getByLabel('Title').fill('');
    await edit.getByRole('button', { name: 'Save' }).click();
    // Checked before sending, and said next to the field.
    await edit.getByText('A title is required.').waitFor();
    await look(page, 'workspace-record-field-error');
    await edit.getByLabel('Title').fill('Member’s revised notes');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'Member’s revised notes' }).waitFor();
    expect(await recordTitles()).toEqual(['Member’s revised notes', 'Quarterly robot inventory']);
  });

  it('works with the keyboard alone: skip link, add a record, open and dismiss the delete dialog', async () => {
    await seedTenant(ACME);
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test');
    await page.getByRole('heading', { name: 'Quarterly robot inventory' }).waitFor();
    await page.goto(`${app.origin()}/app/acme`);
    await page.getByRole('heading', { name: 'Quarterly robot inventory' }).waitFor();

    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el ? `${el.tagName.toLowerCase()}:${el.getAttribute('name') ?? el.textContent?.trim() ?? ''}` : '';
    });
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('a:Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    const tabTo = async (target: string) => {
      for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(target);
    };
    await tabTo('input:title');
    await page.keyboard.type('Typed without a mouse');
    await tabTo('button:Add record');
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Added “Typed without a mouse”.' }).waitFor();
    expect(await recordTitles()).toContain('Typed without a mouse');

    const item = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Typed without a mouse' }) });
    await item.getByRole('button', { name: 'Delete' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.evaluate((el) => el.contains(document.activeElement))).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focused()).toBe('button:Delete');
    expect(await recordTitles()).toContain('Typed without a mouse');
  });
});

describe('the tenant switcher', () => {
  it('offers a person in several organisations a choice, and switches between them', async () => {
    await seedTenant(ACME);
    await seedTenant({ tenantId: 'initech-id', name: 'Initech', slug: 'initech', status: 'trial', members: [{ email: 'peter@initech.test', role: 'owner' }, { email: 'owner@acme.test', role: 'admin' }] });
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test');
    const list = page.getByRole('list', { name: 'Your organisations' });
    await list.getByRole('link', { name: /Initech/ }).waitFor();
    await look(page, 'workspace-choose-organisation');
    await list.getByRole('link', { name: /Acme Robotics/ }).click();
    await page.waitForURL(`${app.origin()}/app/acme`);
    await page.getByText('Switch organisation').click();
    await look(page, 'workspace-switcher-open');
    await page.getByRole('link', { name: 'Initech' }).click();
    await page.waitForURL(`${app.origin()}/app/initech`);
    await page.getByRole('heading', { name: 'Initech', level: 1 }).waitFor();
    expect(await page.getByText('you are an admin').count()).toBe(1);
  });
});

describe('the lifecycle banner', () => {
  const cases: Array<{ status: TenantStatus; retries?: number; trialEndsInDays?: number | null; title: string; readOnly: boolean; shot: string }> = [
    { status: 'trial', trialEndsInDays: 2, title: 'Trial: 2 days left', readOnly: false, shot: 'banner-trial-ending' },
    { status: 'trial_expired', trialEndsInDays: -1, title: 'Your trial has ended: the workspace is read-only', readOnly: true, shot: 'banner-trial-expired' },
    { status: 'past_due', title: 'Your last payment failed', readOnly: false, shot: 'banner-past-due' },
    { status: 'past_due', retries: 1, title: 'Payment failed again: the workspace is read-only', readOnly: true, shot: 'banner-past-due-retry-failed' },
    { status: 'suspended', title: 'Acme Robotics is suspended', readOnly: true, shot: 'banner-suspended-owner' },
    { status: 'cancelled', title: 'Acme Robotics is cancelled', readOnly: true, shot: 'banner-cancelled-owner' },
  ];
  for (const c of cases) {
    it(`says what ${c.status}${c.retries ? ' after a failed retry' : ''} means and what to do, to the owner`, async () => {
      await seedTenant({ ...ACME, status: c.status, failedPaymentRetries: c.retries ?? 0, trialEndsInDays: c.trialEndsInDays ?? 10 });
      const page = await app.newPage();
      await openWorkspace(page, 'owner@acme.test');
      const banner = page.getByTestId('lifecycle-banner');
      await banner.filter({ hasText: c.title }).waitFor();
      expect(await banner.getAttribute('data-status')).toBe(c.status);
      if (c.status !== 'trial') expect(await banner.getByRole('link').first().getAttribute('href')).toBe('/app/acme/billing');
      if (c.readOnly) await page.getByTestId('write-block-reason').waitFor();
      else await page.getByRole('form', { name: 'New record' }).getByRole('button', { name: 'Add record', disabled: false }).waitFor();
      await look(page, c.shot);
    });
  }

  it('tells a member of a suspended organisation that only its owner can open it', async () => {
    await seedTenant({ ...ACME, status: 'suspended' });
    const page = await app.newPage();
    await openWorkspace(page, 'viewer@acme.test');
    const banner = page.getByTestId('lifecycle-banner');
    await banner.filter({ hasText: 'This organisation is not available to you right now.' }).waitFor();
    expect(await banner.getAttribute('data-status')).toBe('unavailable');
    await look(page, 'banner-unavailable-member');
  });

  it('shows an organisation still being set up with its live progress, then opens it', async () => {
    const held = await fetch(`${process.env.STRIPE_API_BASE}/_fake/delay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: '/v1/customers', ms: 6000, times: 1 }),
    });
    expect(held.status).toBe(200);
    const { signedInClient } = await import('../helpers/emulators');
    const dora = await signedInClient('dora@maps.test', {}, { emailVerified: true });
    await dora.call('submitSignup', { companyName: 'Maps Inc', ownerName: 'Dora', plan: 'starter' });
    await dora.close();
    const page = await app.newPage();
    await openWorkspace(page, 'dora@maps.test');
    const banner = page.getByTestId('lifecycle-banner');
    await banner.filter({ hasText: 'Setting up your organisation…' }).waitFor();
    expect(await banner.getAttribute('data-status')).toBe('provisioning');
    await banner.locator('[data-testid=job-progress]').waitFor();
    await look(page, 'banner-provisioning');
    await page.waitForURL(`${app.origin()}/app/maps-inc`);
    await page.getByTestId('lifecycle-banner').filter({ hasText: 'Trial: 14 days left' }).waitFor();
  });
});

describe('an organisation on its way', () => {
  it('the workspace waits for an organisation provisioned after sign-in, without a reload', async () => {
    const { signedInClient } = await import('../helpers/emulators');
    const carol = await signedInClient('carol@hooli.test', {}, { emailVerified: true });
    const page = await app.newPage();
    await openWorkspace(page, 'carol@hooli.test');
    await page.getByText('You are not a member of any organisation yet.').waitFor();
    await carol.call('submitSignup', { companyName: 'Hooli', ownerName: 'Carol', plan: 'starter' });
    await carol.close();
    await page.waitForURL(`${app.origin()}/app/hooli`);
    await page.getByRole('heading', { name: 'Hooli', level: 1 }).waitFor();
  });
});

describe('settings, team and billing', () => {
  it('lets the owner rename the organisation; a member sees why they cannot', async () => {
    await seedTenant(ACME);
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test', '/app/acme/settings');
    const form = page.getByRole('form', { name: 'Rename the organisation' });
    await form.getByLabel('Organisation name').fill(' ');
    await form.getByRole('button', { name: 'Save name' }).click();
    await form.getByText('At least 2 characters.').waitFor();
    await look(page, 'workspace-settings-field-error');
    await form.getByLabel('Organisation name').fill('Acme Robotics International');
    await form.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('heading', { name: 'Acme Robotics International', level: 1 }).waitFor();
    await look(page, 'workspace-settings');
    expect((await db.doc('tenants/acme-id').get()).get('name')).toBe('Acme Robotics International');

    const member = await app.newPage();
    await openWorkspace(member, 'member@acme.test', '/app/acme/settings');
    const theirs = member.getByRole('form', { name: 'Rename the organisation' });
    await theirs.getByText("As a member, you can read the organisation's settings but not change them: that takes owners or admins.").waitFor();
    expect(await theirs.getByLabel('Organisation name').isDisabled()).toBe(true);
  });

  it('shows the team and, to the owner, billing', async () => {
    await seedTenant(ACME);
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test', '/app/acme/team');
    await page.getByRole('cell', { name: 'viewer@acme.test' }).waitFor();
    await look(page, 'workspace-team');
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Billing' }).waitFor();
    await look(page, 'workspace-billing');

    const viewer = await app.newPage();
    await openWorkspace(viewer, 'viewer@acme.test', '/app/acme');
    await viewer.getByRole('link', { name: 'Team' }).waitFor();
    expect(await viewer.getByRole('link', { name: 'Billing' }).count()).toBe(0);
  });

  it('says so when the address names no organisation of theirs', async () => {
    await seedTenant(ACME);
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test', '/app/globex');
    await page.getByText('You are not a member of an organisation at “globex”.').waitFor();
    await look(page, 'workspace-not-member');
  });

  it('shows an empty workspace its empty state', async () => {
    await seedTenant({ ...ACME, records: [] });
    const page = await app.newPage();
    await openWorkspace(page, 'owner@acme.test');
    await page.getByText('No records yet.').waitFor();
    await look(page, 'workspace-empty');
    await account('nobody@nowhere.test');
    const nobody = await app.newPage();
    await openWorkspace(nobody, 'nobody@nowhere.test');
    await nobody.getByText('You are not a member of any organisation yet.').waitFor();
    await look(nobody, 'workspace-no-organisation');
  });
});

describe('time moves on the local clock', () => {
  it('the trial runs out: the owner’s open workspace turns read-only with the banner, and a forced write is denied', async () => {
    await seedTenant({ ...ACME, status: 'trial', trialEndsInDays: 3 });
    await account('root@platform.test', { platform: 'super_admin' });
    const owner = await app.newPage();
    await openWorkspace(owner, 'owner@acme.test');
    await owner.getByTestId('lifecycle-banner').filter({ hasText: 'Trial: 3 days left' }).waitFor();

    const admin = await app.newPage();
    await admin.goto(`${app.origin()}/admin/clock`);
    await signIn(admin, 'root@platform.test');
    const form = admin.getByRole('form', { name: 'Move the clock' });
    await form.getByText('(real time)').waitFor();
    await admin.getByRole('navigation', { name: 'Admin console' }).getByRole('link', { name: 'Local clock' }).waitFor();
    await look(admin, 'admin-clock');
    const to = new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel('Move to').fill(to);
    await form.getByRole('button', { name: 'Move time' }).click();
    const result = admin.getByTestId('clock-result');
    await result.getByText('trial → trial expired').waitFor();
    await look(admin, 'admin-clock-moved');

    // The owner's page follows by itself: the banner, and the controls off with the reason.
    await owner.getByTestId('lifecycle-banner').filter({ hasText: 'Your trial has ended: the workspace is read-only' }).waitFor();
    await owner.getByTestId('write-block-reason').filter({ hasText: 'Your trial has ended' }).waitFor();
    await look(owner, 'workspace-trial-expired-by-clock');
    const before = await recordTitles();
    const refusal = await forceNewRecord(owner, 'Written after the trial');
    await refusal.filter({ hasText: 'The server refused this change. Your trial has ended' }).waitFor();
    expect(await recordTitles()).toEqual(before);
    await eventually(async () => (await db.doc('tenants/acme-id').get()).get('status') === 'trial_expired', 'the tenant to be trial_expired');
  });
});
