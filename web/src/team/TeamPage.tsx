import type { User } from 'firebase/auth';
import { collection, onSnapshot, query, where, type DocumentData, type Timestamp } from 'firebase/firestore';
import { useEffect, useState, type ReactNode } from 'react';
import { PLANS } from '../../../functions/src/domain/plans';
import { ASSIGNABLE_ROLES } from '../../../functions/src/domain/policy';
import type { TenantRole } from '../../../functions/src/domain/status';
import { Link, useNavigate } from 'react-router';
import { firestore } from '../firestore';
import { errorMessage, formatDate } from '../format';
import { useSubmitOnce } from '../useSubmitOnce';
import { useTenant } from '../workspace/TenantLayout';
import { team } from './callables';

interface Member {
  uid: string;
  role: TenantRole;
  email: string;
  displayName: string;
  joinedAt?: Timestamp;
}
interface Invite {
  id: string;
  email: string;
  role: TenantRole;
  expiresAt?: Timestamp;
  sendCount?: number;
  invitedByName?: string;
}
type Notice = { kind: 'success' | 'error'; text: string } | null;

const MANAGERS: readonly string[] = ['owner', 'admin'];

/** /app/:tenant/team: seat usage, invites, members and their roles (every member sees the team; owner and admin manage it). */
export function Component() {
  const { tenantId, tenant, member, workspace } = useTenant();
  return <TeamOf user={workspace.user} tenantId={tenantId} myRole={member.role} tenant={tenant} />;
}

function TeamOf({ user, tenantId, myRole, tenant }: { user: User; tenantId: string; myRole: TenantRole; tenant: DocumentData }) {
  const [members, setMembers] = useState<Member[] | undefined>(undefined);
  const [invites, setInvites] = useState<Invite[] | undefined>(undefined);
  const [listError, setListError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const canManage = MANAGERS.includes(myRole);

  useEffect(
    () =>
      onSnapshot(
        collection(firestore(), 'tenants', tenantId, 'members'),
        (snapshot) => setMembers(snapshot.docs.map((m) => ({ uid: m.id, ...(m.data() as Omit<Member, 'uid'>) })).sort(byRoleThenEmail)),
        (failure) => setListError(errorMessage(failure)),
      ),
    [tenantId],
  );
  useEffect(() => {
    if (!canManage) return;
    return onSnapshot(
      query(collection(firestore(), 'tenants', tenantId, 'invites'), where('status', '==', 'pending')),
      (snapshot) => setInvites(snapshot.docs.map((i) => ({ id: i.id, ...(i.data() as Omit<Invite, 'id'>) })).sort((a, b) => a.email.localeCompare(b.email))),
      (failure) => setListError(errorMessage(failure)),
    );
  }, [tenantId, canManage]);

  /** Runs one action, showing its outcome above the lists. */
  const act = async (work: () => Promise<string>) => {
    setNotice(null);
    try {
      setNotice({ kind: 'success', text: await work() });
    } catch (failure) {
      setNotice({ kind: 'error', text: errorMessage(failure) });
    }
  };

  const seats = tenant.seats ?? { members: members?.length ?? 0, pendingInvites: invites?.length ?? 0 };
  return (
    <section aria-labelledby="team-title" className="team">
      <h2 id="team-title" className="visually-hidden">Team</h2>
      <SeatUsageCard seats={seats} seatCap={tenant.seatCap} plan={tenant.plan} canManage={canManage} />
      {notice && (
        <p className={`alert ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'} data-testid="team-notice">
          {notice.text}
        </p>
      )}
      {listError && <p className="alert error" role="alert">{listError}</p>}
      {canManage && <InviteForm tenantId={tenantId} myRole={myRole} full={seats.members + seats.pendingInvites >= tenant.seatCap} act={act} />}
      <section className="card" aria-label="Members">
        <h2>Members</h2>
        {members === undefined ? (
          <p className="muted">Loading…</p>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Person</th>
                  <th>Role</th>
                  <th>Joined</th>
                  <th aria-label="Actions" />
                </tr>
              </thead>
              <tbody>
                {members.map((member) => (
                  <MemberRow key={member.uid} member={member} me={user.uid} myRole={myRole} tenantId={tenantId} act={act} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {canManage && (
        <section className="card" aria-label="Pending invites">
          <h2>Pending invites</h2>
          {invites === undefined ? (
            <p className="muted">Loading…</p>
          ) : invites.length === 0 ? (
            <p className="muted">No pending invites.</p>
          ) : (
            <div className="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th>Email</th>
                    <th>Role</th>
                    <th>Expires</th>
                    <th className="num">Sent</th>
                    <th aria-label="Actions" />
                  </tr>
                </thead>
                <tbody>
                  {invites.map((invite) => (
                    <InviteRow key={invite.id} invite={invite} tenantId={tenantId} myRole={myRole} act={act} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </section>
  );
}

const RANK: Record<string, number> = { owner: 0, admin: 1, manager: 2, member: 3, viewer: 4 };
function byRoleThenEmail(a: Member, b: Member) {
  return (RANK[a.role] ?? 9) - (RANK[b.role] ?? 9) || a.email.localeCompare(b.email);
}

function SeatUsageCard({ seats, seatCap, plan, canManage }: { seats: { members: number; pendingInvites: number }; seatCap: number; plan: string; canManage: boolean }) {
  const used = seats.members + seats.pendingInvites;
  const full = used >= seatCap;
  const percent = (n: number) => `${Math.min(100, (n / Math.max(seatCap, 1)) * 100)}%`;
  return (
    <section className="card seats" aria-label="Seat usage">
      <div className="seats-head">
        <h2>Seats</h2>
        <span className="seats-count" data-field="seats-used">
          {used} of {seatCap} used
        </span>
      </div>
      <div className="seat-bar" role="img" aria-label={`${seats.members} members and ${seats.pendingInvites} pending invites of ${seatCap} seats`}>
        <span className="seat-bar-members" style={{ width: percent(seats.members) }} />
        <span className="seat-bar-pending" style={{ width: percent(seats.pendingInvites) }} />
      </div>
      <p className="muted small seats-legend">
        <span className="dot members" /> {seats.members} {seats.members === 1 ? 'member' : 'members'} · <span className="dot pending" /> {seats.pendingInvites} pending{' '}
        {seats.pendingInvites === 1 ? 'invite' : 'invites'} · {PLANS[plan as keyof typeof PLANS]?.label ?? plan} plan
      </p>
      {full && canManage && (
        <p className="alert info" data-testid="seats-full">
          Every seat is taken: a new invite needs a free seat. Revoke an invite or remove a member, or{' '}
          <Link to="../billing" relative="path">
            add seats on the billing page
          </Link>
          .
        </p>
      )}
    </section>
  );
}

function InviteForm({ tenantId, myRole, full, act }: { tenantId: string; myRole: TenantRole; full: boolean; act: (work: () => Promise<string>) => Promise<void> }) {
  const roles = ASSIGNABLE_ROLES[myRole];
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>(roles.includes('member') ? 'member' : roles[0]);
  const { busy, submitWith } = useSubmitOnce();
  const submit = submitWith(() =>
    act(async () => {
      const result = await team.inviteMember({ tenantId, email, role });
      setEmail('');
      if (result.outcome === 'new') return `Invite sent to ${result.email} as ${result.role}.`;
      if (result.outcome === 'resent') return `${result.email} already had a pending invite: it was sent again with a new link.`;
      return `${result.email} was sent an invite moments ago; it is still pending.`;
    }),
  );
  return (
    <form className="card invite-form" onSubmit={submit} aria-label="Invite someone">
      <h2>Invite someone</h2>
      <p className="muted small">They get a link by mail; it works only for that address and expires after a week.{full ? ' All seats are taken right now.' : ''}</p>
      <div className="inline-form">
        <label className="grow">
          Email
          <input type="email" name="inviteEmail" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@company.com" />
        </label>
        <label>
          Role
          <select name="inviteRole" value={role} onChange={(e) => setRole(e.target.value)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Sending…' : 'Send invite'}
        </button>
      </div>
    </form>
  );
}

function MemberRow({ member, me, myRole, tenantId, act }: { member: Member; me: string; myRole: TenantRole; tenantId: string; act: (work: () => Promise<string>) => Promise<void> }) {
  const [confirming, setConfirming] = useState<'remove' | 'transfer' | 'leave' | null>(null);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const isMe = member.uid === me;
  const manageable = MANAGERS.includes(myRole) && !isMe && member.role !== 'owner' && (member.role !== 'admin' || myRole === 'owner');
  const roles = ASSIGNABLE_ROLES[myRole];
  const name = member.displayName || member.email;

  const run = (work: () => Promise<string>) => async () => {
    setBusy(true);
    await act(work);
    setBusy(false);
    setConfirming(null);
  };

  const confirmations: Record<'remove' | 'transfer' | 'leave', { question: string; button: string; work: () => Promise<string> }> = {
    remove: {
      question: `Remove ${name}? They lose access at once.`,
      button: 'Remove',
      work: async () => (await team.removeMember({ tenantId, uid: member.uid }), `${name} was removed.`),
    },
    transfer: {
      question: `Make ${name} the owner? You become an admin, and billing mail goes to ${member.email}.`,
      button: 'Transfer ownership',
      work: async () => (await team.transferOwnership({ tenantId, uid: member.uid }), `${name} is now the owner; you are an admin.`),
    },
    leave: {
      question: 'Leave this organisation? You lose access at once.',
      button: 'Leave',
      work: async () => {
        await team.leaveTenant({ tenantId });
        await navigate('/app');
        return 'You left the organisation.';
      },
    },
  };

  let actions: ReactNode = null;
  if (confirming) {
    const c = confirmations[confirming];
    actions = (
      <span className="confirm" role="group" aria-label={c.question}>
        <span className="small">{c.question}</span>
        <button type="button" className="danger" disabled={busy} onClick={run(c.work)}>
          {c.button}
        </button>
        <button type="button" disabled={busy} onClick={() => setConfirming(null)}>
          Cancel
        </button>
      </span>
    );
  } else {
    actions = (
      <span className="row-actions">
        {manageable && (
          <button type="button" onClick={() => setConfirming('remove')} aria-label={`Remove ${name}`}>
            Remove
          </button>
        )}
        {myRole === 'owner' && !isMe && (
          <button type="button" onClick={() => setConfirming('transfer')} aria-label={`Make owner: ${name}`}>
            Make owner
          </button>
        )}
        {isMe && myRole !== 'owner' && (
          <button type="button" onClick={() => setConfirming('leave')}>
            Leave
          </button>
        )}
      </span>
    );
  }

  return (
    <tr data-member={member.email}>
      <td>
        <strong>{member.displayName || member.email}</strong>
        {isMe && <span className="badge you">you</span>}
        {member.displayName && <span className="muted small block">{member.email}</span>}
      </td>
      <td>
        {manageable ? (
          <select
            aria-label={`Role of ${name}`}
            value={member.role}
            disabled={busy}
            onChange={(e) => {
              const role = e.target.value;
              void run(async () => (await team.changeMemberRole({ tenantId, uid: member.uid, role }), `${name} is now ${role}.`))();
            }}
          >
            {[...new Set([member.role, ...roles])].map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        ) : (
          <span className={`badge role-${member.role}`} data-field="role">
            {member.role}
          </span>
        )}
      </td>
      <td>{formatDate(member.joinedAt)}</td>
      <td className="actions-cell">{actions}</td>
    </tr>
  );
}

function InviteRow({ invite, tenantId, myRole, act }: { invite: Invite; tenantId: string; myRole: TenantRole; act: (work: () => Promise<string>) => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const manageable = ASSIGNABLE_ROLES[myRole].includes(invite.role);
  const run = (work: () => Promise<string>) => async () => {
    setBusy(true);
    await act(work);
    setBusy(false);
  };
  return (
    <tr data-invite={invite.email}>
      <td>{invite.email}</td>
      <td>
        <span className={`badge role-${invite.role}`}>{invite.role}</span>
      </td>
      <td>{formatDate(invite.expiresAt)}</td>
      <td className="num">{invite.sendCount ?? 1}</td>
      <td className="actions-cell">
        {manageable && (
          <span className="row-actions">
            <button
              type="button"
              disabled={busy}
              aria-label={`Resend the invite to ${invite.email}`}
              onClick={run(async () => {
                const result = await team.resendInvite({ tenantId, inviteId: invite.id });
                return result.sent ? `Invite sent again to ${invite.email}; the previous link no longer works.` : `The invite to ${invite.email} was sent moments ago.`;
              })}
            >
              Resend
            </button>
            <button
              type="button"
              disabled={busy}
              aria-label={`Revoke the invite to ${invite.email}`}
              onClick={run(async () => (await team.revokeInvite({ tenantId, inviteId: invite.id }), `The invite to ${invite.email} was revoked; its seat is free.`))}
            >
              Revoke
            </button>
          </span>
        )}
      </td>
    </tr>
  );
}
