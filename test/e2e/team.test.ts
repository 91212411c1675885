// The team pages in a real browser against the emulators: an owner invites a teammate, who reads the
// mail in the local inbox, signs up through its link and lands in the tenant with the invited role;
// the invite button refused at the seat cap with the reason; the accept page's other states; domain
// capture on the domains page against the loopback DNS server.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { resolverFromEnv } from '../../functions/src/adapters/dns';
import { claimDomain, recheckDomains, setDomainJoinPolicy, verifyDomain } from '../../functions/src/team/domains';
import { auth, db } from '../helpers/emulators';
import { clearInbox, linksIn, mailTo } from '../helpers/inbox';
import { account, expectLedgerConsistent, seatsOf, seedTeam } from '../helpers/team';
import { look, PASSWORD, signIn, useBrowser } from './harness';

const app = useBrowser();
const newPage = () => app.newPage();
const screenshot = look;

describe('team pages', () => {
  it('an owner invites a teammate, who reads the mail, signs up through the link and lands in the tenant with the invited role; at the cap the invite is refused with the reason', async () => {
    const { tenantId } = await seedTeam('t-e2e-team', { 'olive@acme.test': 'owner', 'max@acme.test': 'member' }, { seatCap: 3, name: 'Acme Robotics' });

    const owner = await newPage();
    await clearInbox();
    await owner.goto(`${app.origin()}/app`);
    await signIn(owner, 'olive@acme.test');
    await owner.getByRole('link', { name: 'Team', exact: true }).click();
    await owner.getByRole('heading', { name: 'Members' }).waitFor();
    await expect.poll(() => owner.locator('[data-field=seats-used]').textContent()).toBe('2 of 3 used');
    const form = owner.getByRole('form', { name: 'Invite someone' });
    await form.getByLabel('Email').fill('Tess.Teammate@acme.test');
    await form.getByLabel('Role').selectOption('manager');
    await form.getByRole('button', { name: 'Send invite' }).click();
    await expect.poll(() => owner.getByTestId('team-notice').textContent()).toBe('Invite sent to tess.teammate@acme.test as manager.');
    await owner.locator('[data-invite="tess.teammate@acme.test"]').waitFor();
    await expect.poll(() => owner.locator('[data-field=seats-used]').textContent()).toBe('3 of 3 used');
    await screenshot(owner, 'team-invited');

    // The teammate's inbox: the mail names the tenant and the role, and its link opens the accept page.
    const mail = await mailTo('tess.teammate@acme.test', /invited you to Acme Robotics/);
    expect(mail.text).toMatch(/join Acme Robotics as a manager/);
    const [link] = linksIn(mail);
    expect(link.text).toBe('Accept the invite');
    expect(link.href.startsWith(`${app.origin()}/invite/${tenantId}/`)).toBe(true);

    const teammate = await newPage();
    await teammate.goto(link.href);
    await teammate.getByRole('heading', { name: 'Join Acme Robotics' }).waitFor();
    expect(await teammate.locator('[data-invite-state]').getAttribute('data-invite-state')).toBe('signed-out');
    expect(await teammate.getByLabel('Email').inputValue()).toBe('tess.teammate@acme.test');
    await screenshot(teammate, 'invite-accept-signed-out');
    await teammate.getByLabel('Your name').fill('Tess Teammate');
    await teammate.getByLabel('Password').fill(PASSWORD);
    await teammate.getByRole('button', { name: 'Create account and join Acme Robotics' }).click();
    await teammate.waitForURL(`${app.origin()}/app/t-e2e-team`);
    await teammate.getByText('you are a manager').waitFor();
    await screenshot(teammate, 'invite-landed');

    // In the tenant with the invited role, no tenant of their own, the seat turned from pending to member.
    const tess = await db.collectionGroup('members').where('email', '==', 'tess.teammate@acme.test').get();
    expect(tess.docs.map((m) => [m.ref.parent.parent!.id, m.get('role')])).toEqual([[tenantId, 'manager']]);
    expect((await db.collection('tenants').count().get()).data().count).toBe(1);
    expect(await seatsOf(tenantId)).toEqual({ members: 3, pendingInvites: 0 });

    // The tenant is full: the owner's next invite is refused, with the reason and where to get seats.
    await owner.locator('[data-member="tess.teammate@acme.test"]').waitFor();
    await owner.getByTestId('seats-full').waitFor();
    await form.getByLabel('Email').fill('fourth@acme.test');
    await form.getByRole('button', { name: 'Send invite' }).click();
    await expect
      .poll(() => owner.getByTestId('team-notice').textContent())
      .toBe('No seat left: all 3 seats of your Starter plan are taken (3 members, 0 pending invites). Revoke a pending invite or remove a member, or add seats on the billing page (/app/t-e2e-team/billing).');
    await screenshot(owner, 'team-full-refused');
    expect((await db.collection(`tenants/${tenantId}/invites`).where('email', '==', 'fourth@acme.test').count().get()).data().count).toBe(0);
    await expectLedgerConsistent([tenantId]);
  });

  it('the accept page: signed in as another account, then expired and revoked', async () => {
    await clearInbox();
    const { tenantId, people } = await seedTeam('t-e2e-states', { 'olive@acme.test': 'owner' }, { seatCap: 5, name: 'Acme Robotics' });
    const { inviteMember, revokeInvite } = await import('../../functions/src/team/invites');
    const invite = await inviteMember({ db, appUrl: app.origin() }, people.owner, { tenantId, email: 'right@acme.test', role: 'viewer' });
    const link = linksIn(await mailTo('right@acme.test', /invited you/))[0].href;
    await account('wrong@elsewhere.test');

    const page = await newPage();
    await page.goto(`${app.origin()}/app`);
    await signIn(page, 'wrong@elsewhere.test');
    await page.getByText('You are not a member of any organisation yet.').waitFor();
    await page.goto(link);
    await page.locator('[data-invite-state]').waitFor();
    await screenshot(page, 'invite-wrong-account');
    expect(await page.locator('[data-invite-state]').getAttribute('data-invite-state')).toBe('wrong-account');
    expect(await page.getByRole('alert').textContent()).toContain('This invite is for right@acme.test, and you are signed in as wrong@elsewhere.test.');
    await page.getByRole('button', { name: 'Sign out and continue as right@acme.test' }).click();
    await page.locator('[data-invite-state=signed-out]').waitFor();

    await db.doc(`tenants/${tenantId}/invites/${invite.inviteId}`).update({ expiresAt: new Date(Date.now() - 60_000) });
    await page.reload();
    await page.locator('[data-invite-state=expired]').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/This invite expired on .* Ask olive to send a new one\./);
    await screenshot(page, 'invite-expired');

    const second = await inviteMember({ db, appUrl: app.origin() }, people.owner, { tenantId, email: 'gone@acme.test', role: 'viewer' });
    const secondLink = linksIn(await mailTo('gone@acme.test', /invited you/))[0].href;
    await revokeInvite({ db }, people.owner, { tenantId, inviteId: second.inviteId });
    await page.goto(secondLink);
    await page.locator('[data-invite-state=revoked]').waitFor();
    await screenshot(page, 'invite-revoked');
  });

  it('the domains page: the TXT record with copy buttons, check now with what it saw, verified once the record is there', async () => {
    const { tenantId } = await seedTeam('t-e2e-domain', { 'olive@acme.test': 'owner' }, { name: 'Acme Robotics' });
    const page = await newPage();
    await page.goto(`${app.origin()}/app/t-e2e-domain/domains`);
    await signIn(page, 'olive@acme.test');
    await page.getByRole('heading', { name: 'Claim a domain' }).waitFor();

    const domainInput = page.getByRole('textbox', { name: 'Domain' });
    await domainInput.fill('gmail.com');
    await page.getByRole('button', { name: 'Claim domain' }).click();
    await expect.poll(() => page.getByRole('form', { name: 'Claim a domain' }).getByRole('alert').textContent()).toMatch(/gmail\.com is a public mail provider/);

    await domainInput.fill('robots.test');
    await page.getByRole('button', { name: 'Claim domain' }).click();
    const card = page.getByRole('region', { name: 'robots.test' });
    await card.waitFor();
    expect(await card.locator('[data-field=domain-status]').textContent()).toBe('pending');
    const name = (await card.locator('[data-field=name]').textContent())!;
    const value = (await card.locator('[data-field=value]').textContent())!;
    expect(name).toBe('_tenancy-challenge.robots.test');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.origin() });
    await card.getByRole('button', { name: 'Copy value' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

    await card.getByRole('button', { name: 'Check now' }).click();
    await expect.poll(() => card.locator('[data-field=check-message]').textContent()).toMatch(/^No TXT record at _tenancy-challenge\.robots\.test yet/);
    await screenshot(page, 'domain-pending');

    await fetch(`${process.env.LOCAL_DNS_CONTROL}/txt/${name}`, { method: 'PUT', body: JSON.stringify({ records: [value] }) });
    await card.getByRole('button', { name: 'Check now' }).click();
    await expect.poll(() => card.locator('[data-field=domain-status]').textContent()).toBe('verified');
    const policy = card.getByRole('form', { name: 'Who joins by robots.test' });
    await policy.getByLabel(/^Suggest/).check();
    await policy.getByRole('button', { name: 'Save' }).click();
    await policy.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await db.doc(`tenants/${tenantId}/domains/robots.test`).get()).get('joinPolicy')).toBe('suggest');
    // What the server stored is what the page shows after a reload.
    await page.reload();
    expect(await page.getByRole('form', { name: 'Who joins by robots.test' }).getByLabel(/^Suggest/).isChecked()).toBe(true);
    await screenshot(page, 'domain-verified');
    await fetch(`${process.env.LOCAL_DNS_CONTROL}/txt/${name}`, { method: 'DELETE' });
  });

  it('M2: the domains page: a lapsing domain says when it is released; Unclaim asks first, then frees the domain', async () => {
    const { tenantId, people } = await seedTeam('t-e2e-unclaim', { 'olive@acme.test': 'owner' }, { name: 'Acme Robotics' });
    const deps = { db, resolveTxt: resolverFromEnv() };
    const claim = await claimDomain(deps, people.owner, { tenantId, domain: 'lapse.test' });
    const record = `${process.env.LOCAL_DNS_CONTROL}/txt/${claim.recordName}`;
    await fetch(record, { method: 'PUT', body: JSON.stringify({ records: [claim.recordValue] }) });
    expect((await verifyDomain(deps, people.owner, { tenantId, domain: 'lapse.test' })).status).toBe('verified');
    // The record is removed at the DNS provider; the next daily re-check finds it missing.
    await fetch(record, { method: 'DELETE' });
    expect((await recheckDomains(deps, new Date(Date.now() + 86_400_000 + 60_000))).changed).toEqual([{ tenantId, domain: 'lapse.test', to: 'lapsing', outcome: 'no-record' }]);

    const page = await newPage();
    await page.goto(`${app.origin()}/app/t-e2e-unclaim/domains`);
    await signIn(page, 'olive@acme.test');
    const card = page.getByRole('region', { name: 'lapse.test' });
    await card.waitFor();
    expect(await card.locator('[data-field=domain-status]').textContent()).toBe('lapsing');
    expect(await card.locator('[data-field=lapsing]').textContent()).toMatch(/^The TXT record is gone from your DNS\. Put it back by .+, or lapse\.test is released/);
    expect(await card.locator('[data-field=value]').textContent()).toBe(claim.recordValue);
    await screenshot(page, 'domain-lapsing');

    // Unclaim asks first; Cancel keeps the domain.
    await card.getByRole('button', { name: 'Unclaim lapse.test' }).click();
    const confirm = card.getByRole('group', { name: 'Unclaim lapse.test?' });
    expect(await confirm.textContent()).toMatch(/Colleagues at it no longer join by their address, and another organisation may claim it/);
    await screenshot(page, 'domain-unclaim-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect((await db.doc('verifiedDomains/lapse.test').get()).get('tenantId')).toBe(tenantId);

    await card.getByRole('button', { name: 'Unclaim lapse.test' }).click();
    await confirm.getByRole('button', { name: 'Unclaim', exact: true }).click();
    await card.waitFor({ state: 'detached' });
    await page.getByText('No domains yet.').waitFor();
    expect((await db.doc(`tenants/${tenantId}/domains/lapse.test`).get()).exists).toBe(false);
    expect((await db.doc('verifiedDomains/lapse.test').get()).exists).toBe(false);
    await screenshot(page, 'domain-unclaimed');
  });

  /** A tenant that verified acme.test (through the launcher's DNS server) and lets people at it join by `policy`. */
  async function capturedAcme(policy: 'suggest' | 'auto', seatCap: number) {
    const team = await seedTeam('t-e2e-captured', { 'olive@acme.test': 'owner' }, { seatCap, name: 'Acme Robotics' });
    const deps = { db, resolveTxt: resolverFromEnv() };
    const claim = await claimDomain(deps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test' });
    await fetch(`${process.env.LOCAL_DNS_CONTROL}/txt/${claim.recordName}`, { method: 'PUT', body: JSON.stringify({ records: [claim.recordValue] }) });
    expect((await verifyDomain(deps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test' })).status).toBe('verified');
    await setDomainJoinPolicy(deps, team.people.owner, { tenantId: team.tenantId, domain: 'acme.test', joinPolicy: policy, defaultRole: 'member' });
    await fetch(`${process.env.LOCAL_DNS_CONTROL}/txt/${claim.recordName}`, { method: 'DELETE' });
    return team;
  }

  async function signUp(page: Page, email: string) {
    await page.goto(`${app.origin()}/`);
    await page.getByLabel('Your name').fill('Nia Newcomer');
    await page.getByLabel('Work email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Company name').fill('Shadow IT');
    await page.getByRole('button', { name: 'Create organisation' }).click();
  }

  it('join by domain: a signup at a captured domain verifies the address, is offered the tenant and joins it instead of creating one', async () => {
    const { tenantId } = await capturedAcme('suggest', 5);
    const page = await newPage();
    await signUp(page, 'nia@acme.test');
    await page.getByRole('region', { name: "Your company's organisation" }).and(page.locator('[data-domain-join=verify-email]')).waitFor();
    await screenshot(page, 'domain-join-verify');
    // The person opens the verification link (here: Auth marks the address verified), then continues.
    const nia = await auth.getUserByEmail('nia@acme.test');
    await auth.updateUser(nia.uid, { emailVerified: true });
    await page.getByRole('button', { name: 'I have verified it' }).click();
    await page.locator('[data-domain-join=offer]').waitFor();
    expect(await page.getByRole('button', { name: 'Create a separate organisation instead' }).isVisible()).toBe(true);
    await screenshot(page, 'domain-join-offer');
    await page.getByRole('button', { name: 'Join Acme Robotics' }).click();
    await page.waitForURL(`${app.origin()}/app/t-e2e-captured`);
    await page.getByText('you are a member').waitFor();
    expect((await db.doc(`tenants/${tenantId}/members/${nia.uid}`).get()).get('joinedVia')).toBe('domain');
    expect((await db.collection('tenants').count().get()).data().count).toBe(1);
    await expectLedgerConsistent([tenantId]);
  });

  it('join by domain at the seat cap: "ask your admin for a seat", no membership and no tenant of their own', async () => {
    const { tenantId } = await capturedAcme('auto', 1);
    const late = await account('late@acme.test');
    const page = await newPage();
    await page.goto(`${app.origin()}/app`);
    await signIn(page, 'late@acme.test');
    await page.locator('[data-domain-join=no-seat]').waitFor();
    expect(await page.getByRole('heading', { name: 'Ask your admin for a seat' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Create a separate organisation instead' }).count()).toBe(0);
    await screenshot(page, 'domain-join-no-seat');
    expect((await db.collectionGroup('members').where('uid', '==', late.uid).count().get()).data().count).toBe(0);
    expect((await db.collection('tenants').count().get()).data().count).toBe(1);
    await expectLedgerConsistent([tenantId]);
  });
});
