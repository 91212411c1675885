export { onUserCreated } from './triggers/auth';
export { finishProvisioningRollback, provisionTenant, submitSignup, syncEmailVerified } from './triggers/callable';
export { sweepStuckProvisioning } from './triggers/scheduled';
export { probeTaskQueue, runProvisioningSteps } from './triggers/tasks';
export { changeTenantStatus, expireTrials, remindEndingTrials, suspendPastDue } from './triggers/lifecycle';
export { stripeWebhook } from './triggers/webhook';
export { openBillingPortal, startCheckout } from './triggers/billing';
export {
  acceptInvite,
  changeMemberRole,
  claimDomain,
  describeInvite,
  expireInvites,
  inviteMember,
  joinByDomain,
  leaveTenant,
  lookupDomainJoin,
  recheckDomains,
  removeMember,
  resendInvite,
  revokeInvite,
  setDomainJoinPolicy,
  transferOwnership,
  unclaimDomain,
  verifyDomain,
} from './triggers/team';
export { advanceLocalClock, indexTenantName, listTenantHistory, readLocalClock, retryProvisioning } from './triggers/console';
