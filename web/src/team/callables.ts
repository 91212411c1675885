// Typed calls of the team callables (functions/src/triggers/team.ts); the server validates and decides.
import { call as callFunction } from '../functions';

export interface SeatUsage {
  used: number;
  free: number;
  seatCap: number;
  members: number;
  pendingInvites: number;
}

export interface InviteResult {
  inviteId: string;
  email: string;
  role: string;
  status: 'pending';
  expiresAt: string;
  outcome: 'new' | 'resent' | 'unchanged';
  seats: SeatUsage;
}

export interface InviteDescription {
  tenantId: string;
  tenantName: string;
  email: string;
  role: string;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  expiresAt: string;
  invitedByName: string;
}

export interface DomainClaim {
  tenantId: string;
  domain: string;
  status: 'pending' | 'verified' | 'lapsing' | 'failed' | 'released';
  recordName: string;
  recordValue: string;
  claimedAt: string;
  verifyBy: string;
  attempts: number;
  lastCheck: { at: string; outcome: 'found' | 'no-record' | 'other-value' | 'lookup-failed'; seen: string[]; message: string } | null;
  nextCheckAt: string | null;
  verifiedAt: string | null;
  failureReason: string | null;
  lapsingSince: string | null;
  releaseAt: string | null;
  releasedAt: string | null;
  releaseReason: string | null;
  joinPolicy: 'off' | 'suggest' | 'auto';
  defaultRole: string;
}

export type { DomainJoinOption } from '../../../functions/src/domain/domains';
import type { DomainJoinOption } from '../../../functions/src/domain/domains';

const call = <I, O>(name: string, input: I): Promise<O> => callFunction<O, I>(name, input);

export const team = {
  inviteMember: (input: { tenantId: string; email: string; role: string }) => call<typeof input, InviteResult>('inviteMember', input),
  resendInvite: (input: { tenantId: string; inviteId: string }) => call<typeof input, { inviteId: string; sent: boolean; expiresAt: string }>('resendInvite', input),
  revokeInvite: (input: { tenantId: string; inviteId: string }) => call<typeof input, { inviteId: string; status: 'revoked' }>('revokeInvite', input),
  acceptInvite: (input: { tenantId: string; inviteId: string; token?: string }) =>
    call<typeof input, { tenantId: string; role: string; alreadyMember: boolean }>('acceptInvite', input),
  describeInvite: (input: { tenantId: string; inviteId: string; token: string }) => call<typeof input, InviteDescription>('describeInvite', input),
  removeMember: (input: { tenantId: string; uid: string }) => call<typeof input, { uid: string; removed: true }>('removeMember', input),
  changeMemberRole: (input: { tenantId: string; uid: string; role: string }) => call<typeof input, { uid: string; role: string; changed: boolean }>('changeMemberRole', input),
  leaveTenant: (input: { tenantId: string }) => call<typeof input, { tenantId: string; left: true }>('leaveTenant', input),
  transferOwnership: (input: { tenantId: string; uid: string }) => call<typeof input, { tenantId: string; ownerUid: string }>('transferOwnership', input),
  claimDomain: (input: { tenantId: string; domain: string }) => call<typeof input, DomainClaim>('claimDomain', input),
  verifyDomain: (input: { tenantId: string; domain: string }) => call<typeof input, DomainClaim>('verifyDomain', input),
  unclaimDomain: (input: { tenantId: string; domain: string }) => call<typeof input, { tenantId: string; domain: string; released: boolean }>('unclaimDomain', input),
  setDomainJoinPolicy: (input: { tenantId: string; domain: string; joinPolicy: string; defaultRole: string }) =>
    call<typeof input, DomainClaim>('setDomainJoinPolicy', input),
  lookupDomainJoin: () => call<Record<string, never>, DomainJoinOption>('lookupDomainJoin', {}),
  joinByDomain: (input: { tenantId: string }) => call<typeof input, { tenantId: string; role: string; alreadyMember: boolean }>('joinByDomain', input),
};
