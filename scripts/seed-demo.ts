// Demo data for `npm start`: platform staff, a sample tenant with one member of every role, and a few records;
// a tenant in its trial, and a self-serve signup whose provisioning failed (for the admin console).
import { FieldValue } from 'firebase-admin/firestore';
import { firebase, refs } from '../functions/src/adapters/firestore';
import { stripeClient } from '../functions/src/adapters/stripe';
import { provisionTenant } from '../functions/src/provisioning/provisionTenant';
import { runProvisioningJob } from '../functions/src/provisioning/saga';
import { TENANT_ROLES } from '../functions/src/domain/status';
import { resolverFromEnv } from '../functions/src/adapters/dns';
import { claimDomain, setDomainJoinPolicy, verifyDomain } from '../functions/src/team/domains';
import { inviteMember } from '../functions/src/team/invites';

const PASSWORD = 'demo-password';
const STAFF = [
  { email: 'super@demo.test', displayName: 'Sam Super', platform: 'super_admin' },
  { email: 'sales@demo.test', displayName: 'Sally Sales', platform: 'sales' },
] as const;
const TENANT = { companyName: 'Acme Robotics', subdomain: 'acme' };

async function ensureAccount(email: string, displayName: string, claims?: Record<string, string>) {
  const { auth } = firebase();
  const user = await auth.getUserByEmail(email).catch(() => auth.createUser({ email, displayName, password: PASSWORD }));
  // Demo addresses count as verified (as if each had opened their link): welcome mails say "sign in", and
  // inviting and claiming domains, which need a verified address, work at once.
  await auth.updateUser(user.uid, { password: PASSWORD, displayName, emailVerified: true });
  if (claims) await auth.setCustomUserClaims(user.uid, claims);
  return user.uid;
}

async function main() {
  // The saga runs here, in-process against the local fake Stripe, so the demo tenant is ready when this prints.
  const deps = { ...firebase(), startSaga: (jobId: string) => runProvisioningJob({ ...firebase(), stripe: stripeClient() }, jobId).then(() => {}) };
  const staffUids = [];
  for (const staff of STAFF) staffUids.push(await ensureAccount(staff.email, staff.displayName, { platform: staff.platform }));

  const people = TENANT_ROLES.map((role) => ({ role, email: `${role}@acme.test`, displayName: `${role[0].toUpperCase()}${role.slice(1)} of Acme` }));
  const ownerUid = await ensureAccount(people[0].email, people[0].displayName);
  const { tenantId } = await provisionTenant(deps, {
    idempotencyKey: 'demo-seed-acme-robotics',
    source: 'sales',
    owner: { uid: ownerUid, email: people[0].email, displayName: people[0].displayName },
    companyName: TENANT.companyName,
    slug: TENANT.subdomain,
    plan: 'team',
    requestedBy: staffUids[1],
  });

  const ref = refs(deps.db);
  // The saga ran inside provisionTenant (startSaga above): the tenant is open now.
  const status = (await ref.tenant(tenantId).get()).get('status');
  const batch = deps.db.batch();
  for (const person of people.slice(1)) {
    const uid = await ensureAccount(person.email, person.displayName);
    batch.set(ref.member(tenantId, uid), { uid, role: person.role, email: person.email, displayName: person.displayName, joinedAt: new Date() });
  }
  // The seat ledger counts what the batch adds, in the same commit.
  batch.update(ref.tenant(tenantId), { seats: { members: people.length, pendingInvites: 0 } });
  for (const title of ['Quarterly robot inventory', 'Welcome to Acme Robotics']) {
    batch.set(ref.tenant(tenantId).collection('records').doc(), { title, body: 'Sample record from the demo seed.', createdBy: ownerUid, createdAt: new Date(), updatedAt: new Date() });
  }
  await batch.commit();

  // Team: a pending invite, and acme.test verified through the local DNS server, offered to new signups.
  const owner = { uid: ownerUid, email: people[0].email, emailVerified: true, displayName: people[0].displayName };
  const web = 'http://127.0.0.1:5000';
  await inviteMember({ db: deps.db, auth: deps.auth, appUrl: web }, owner, { tenantId, email: 'new.hire@acme.test', role: 'member' });
  const claim = await claimDomain({ db: deps.db }, owner, { tenantId, domain: 'acme.test' });
  const control = process.env.LOCAL_DNS_CONTROL ?? 'http://127.0.0.1:8054';
  const dnsSet = await fetch(`${control}/txt/${claim.recordName}`, { method: 'PUT', body: JSON.stringify({ records: [claim.recordValue] }) }).then((r) => r.ok, () => false);
  const verified = dnsSet && (await verifyDomain({ db: deps.db, resolveTxt: resolverFromEnv() }, owner, { tenantId, domain: 'acme.test' })).status === 'verified';
  if (verified) await setDomainJoinPolicy({ db: deps.db }, owner, { tenantId, domain: 'acme.test', joinPolicy: 'suggest', defaultRole: 'member' });

  // A self-serve tenant in its trial, for `npm run lifecycle -- --at <a date past its end>`.
  const trialOwner = { email: 'trial@initech.test', displayName: 'Peter Trial' };
  const trialUid = await ensureAccount(trialOwner.email, trialOwner.displayName);
  const trial = await provisionTenant(deps, {
    idempotencyKey: 'demo-seed-initech-trial',
    source: 'self_serve',
    owner: { uid: trialUid, ...trialOwner },
    companyName: 'Initech',
    plan: 'starter',
    requestedBy: trialUid,
  });
  const trialEndsAt = (await ref.tenant(trial.tenantId).get()).get('trialEndsAt').toDate().toISOString().slice(0, 10);
  // Acme's admin is also an admin of Initech: the workspace's tenant switcher.
  const acmeAdmin = await ensureAccount(people[1].email, people[1].displayName);
  const join = deps.db.batch();
  join.set(ref.member(trial.tenantId, acmeAdmin), { uid: acmeAdmin, role: 'admin', email: people[1].email, displayName: people[1].displayName, joinedAt: new Date() });
  join.update(ref.tenant(trial.tenantId), { 'seats.members': FieldValue.increment(1) }); // the seat ledger, in the same commit
  await join.commit();

  // A self-serve signup that Stripe kept refusing: rolled back, its tenant `failed`, its timeline in the admin console.
  await fetch(`${process.env.STRIPE_API_BASE}/_fake/failures`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'POST', path: '/v1/subscriptions', status: 503, times: 3, message: 'Stripe is unavailable' }),
  });
  const globexOwner = { email: 'hank@globex.test', displayName: 'Hank Scorpio' };
  const globexUid = await ensureAccount(globexOwner.email, globexOwner.displayName);
  const globex = await provisionTenant(deps, {
    idempotencyKey: `self_serve:${globexUid}`,
    source: 'self_serve',
    owner: { uid: globexUid, ...globexOwner },
    companyName: 'Globex',
    plan: 'team',
    requestedBy: globexUid,
  });
  const globexStatus = (await ref.tenant(globex.tenantId).get()).get('status');

  console.log(`
┌──────────────────────────────────────────────────────────────────────────────
│ Tenancy is running on the local emulators (project demo-tenancy)
│   Signup page:        ${web}/
│   Tenant app:         ${web}/app
│   Admin console:      ${web}/admin
│   Inbox (all mail):   ${process.env.MAIL_INBOX_URL ?? 'http://127.0.0.1:1080'}
│   Emulator ports:     auth 9099 · firestore 8080 · functions 5001 · hosting 5000
│
│ Demo accounts (password for all: ${PASSWORD})
${STAFF.map((s) => `│   ${s.email.padEnd(20)} platform ${s.platform}`).join('\n')}
${people.map((p) => `│   ${p.email.padEnd(20)} ${p.role} of ${TENANT.companyName} (tenant ${tenantId}, ${status})`).join('\n')}
│   ${trialOwner.email.padEnd(20)} owner of Initech (self-serve, trial until ${trialEndsAt}); admin@acme.test is its admin too
│   ${globexOwner.email.padEnd(20)} signed up Globex, whose provisioning ${globexStatus === 'failed' ? 'failed (Stripe down): see /admin' : `is ${globexStatus}`}
│
│ Pay for Initech: sign in as ${trialOwner.email}, open Billing, Upgrade; on the local Stripe
│   Checkout page use 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002 (declined).
│   Manage billing opens the local Stripe portal (seats, plan, card, cancel).
│ Advance time: /admin/clock as super@demo.test, or npm run lifecycle -- --at <date> (e.g. a day after ${trialEndsAt})
│
│ Team: ${web}/app/acme/team · domain acme.test ${verified ? 'verified; new signups @acme.test are offered Acme' : 'claimed (local DNS not reachable)'}
│   Local DNS (domain capture): npm run dns -- list | set <name> <value>
│
│ Stop with Ctrl+C.
└──────────────────────────────────────────────────────────────────────────────`);
}

main().then(() => process.exit(0), (error) => {
  console.error(error);
  process.exit(1);
});
