import { logger } from 'firebase-functions';
import { onCall, type CallableRequest } from 'firebase-functions/v2/https';
import { onSchedule } from 'firebase-functions/v2/scheduler';
import { loadAccount } from '../adapters/auth';
import type { Account } from '../domain/team';
import { claimDomain as claim, recheckDomains as recheck, setDomainJoinPolicy as setJoinPolicy, unclaimDomain as unclaim, verifyDomain as verify } from '../team/domains';
import { joinByDomain as join, lookupDomainJoin as lookup } from '../team/domainJoin';
import { expireInvites as expire } from '../team/expireInvites';
import { acceptInvite as accept, describeInvite as describe, inviteMember as invite, resendInvite as resend, revokeInvite as revoke } from '../team/invites';
import { changeMemberRole as changeRole, leaveTenant as leave, removeMember as remove, transferOwnership as transfer } from '../team/members';
import { requireUid } from './callable';
import { teamDeps } from './deps';
import { toHttpsError } from './errors';

/** A team callable: signed in, the account as Auth knows it now, domain refusals mapped to their codes. */
function teamCallable<T>(name: string, run: (account: Account, data: unknown) => Promise<T>) {
  return onCall(async (request: CallableRequest) => {
    const uid = requireUid(request);
    try {
      return await run(await loadAccount(teamDeps().auth, uid), request.data);
    } catch (error) {
      throw toHttpsError(error, name);
    }
  });
}

export const inviteMember = teamCallable('inviteMember', (account, data) => invite(teamDeps(), account, data));
export const resendInvite = teamCallable('resendInvite', (account, data) => resend(teamDeps(), account, data));
export const revokeInvite = teamCallable('revokeInvite', (account, data) => revoke(teamDeps(), account, data));
export const acceptInvite = teamCallable('acceptInvite', (account, data) => accept(teamDeps(), account, data));
export const removeMember = teamCallable('removeMember', (account, data) => remove(teamDeps(), account, data));
export const changeMemberRole = teamCallable('changeMemberRole', (account, data) => changeRole(teamDeps(), account, data));
export const leaveTenant = teamCallable('leaveTenant', (account, data) => leave(teamDeps(), account, data));
export const transferOwnership = teamCallable('transferOwnership', (account, data) => transfer(teamDeps(), account, data));
export const claimDomain = teamCallable('claimDomain', (account, data) => claim(teamDeps(), account, data));
export const verifyDomain = teamCallable('verifyDomain', (account, data) => verify(teamDeps(), account, data));
export const unclaimDomain = teamCallable('unclaimDomain', (account, data) => unclaim(teamDeps(), account, data));
export const setDomainJoinPolicy = teamCallable('setDomainJoinPolicy', (account, data) => setJoinPolicy(teamDeps(), account, data));
export const lookupDomainJoin = teamCallable('lookupDomainJoin', (account) => lookup(teamDeps().db, account));
export const joinByDomain = teamCallable('joinByDomain', (account, data) => join(teamDeps().db, account, data));

/** The accept page before sign-in: whoever holds the link's token sees what it invites to. */
export const describeInvite = onCall(async (request) => {
  try {
    return await describe(teamDeps(), request.data);
  } catch (error) {
    throw toHttpsError(error, 'describeInvite');
  }
});

/** Pending invites past their expiry become `expired` and free their seats. */
export const expireInvites = onSchedule('every 1 hours', async () => {
  const report = await expire(teamDeps().db, new Date());
  if (report.errors.length) throw new Error(`expireInvites: ${report.errors.length} invites failed (see the log)`);
  logger.info('expireInvites done', { expired: report.expired.length, skipped: report.skipped.length });
});

/** Pending domain claims due for another look at their TXT record (with backoff, for up to seven days), and held domains' daily re-check. */
export const recheckDomains = onSchedule('every 5 minutes', async () => {
  const report = await recheck(teamDeps(), new Date());
  if (report.errors.length) throw new Error(`recheckDomains: ${report.errors.length} claims failed (see the log)`);
  logger.info('recheckDomains done', { settled: report.changed.length, pending: report.pending.length, held: report.held.length });
});
