import { resolverFromEnv } from '../adapters/dns';
import { firebase } from '../adapters/firestore';
import { appUrl } from '../adapters/links';
import { advanceLocalTestClock, readLocalTestClock, stripeClient } from '../adapters/stripe';
import { enqueueProvisioning } from '../adapters/tasks';
import { emulatorClock, realClock, type AppClock, type LocalClockDeps } from '../lifecycle/localClock';
import type { ProvisioningDeps } from '../provisioning/provisionTenant';
import type { SagaDeps } from '../provisioning/saga';

/** Production wiring: the triggers' only source of dependencies. */
export const provisioningDeps = (): ProvisioningDeps => ({ ...firebase(), startSaga: enqueueProvisioning });
export const sagaDeps = (): SagaDeps => ({ ...firebase(), stripe: stripeClient() });
export const teamDeps = () => ({ ...firebase(), appUrl: appUrl(), resolveTxt: resolverFromEnv() });

/** Scheduled functions never fire in the emulator; the local clock exists only there. */
export const onEmulators = () => process.env.FUNCTIONS_EMULATOR === 'true';

/** The local clock's wiring: the local Stripe test clock, read and moved through Stripe's API. */
export const localClockDeps = (): LocalClockDeps => {
  const stripe = stripeClient();
  return {
    db: firebase().db,
    resolveTxt: resolverFromEnv(),
    appUrl: appUrl(),
    readStripeClock: () => readLocalTestClock(stripe),
    advanceStripe: (to) => advanceLocalTestClock(stripe, to),
  };
};

/** The product's one "now" (lifecycle/localClock.ts): the real time, or on the emulators the local Stripe test clock's. */
export const appClock = (): AppClock => (onEmulators() ? emulatorClock(localClockDeps()) : realClock);
