import { resolverFromEnv } from '../adapters/dns';
import { firebase } from '../adapters/firestore';
import { appUrl } from '../adapters/links';
import { stripeClient } from '../adapters/stripe';
import { enqueueProvisioning } from '../adapters/tasks';
import type { ProvisioningDeps } from '../provisioning/provisionTenant';
import type { SagaDeps } from '../provisioning/saga';

/** Production wiring: the triggers' only source of dependencies. */
export const provisioningDeps = (): ProvisioningDeps => ({ ...firebase(), startSaga: enqueueProvisioning });
export const sagaDeps = (): SagaDeps => ({ ...firebase(), stripe: stripeClient() });
export const teamDeps = () => ({ ...firebase(), appUrl: appUrl(), resolveTxt: resolverFromEnv() });
