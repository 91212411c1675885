import { defineInt, defineSecret, defineString } from 'firebase-functions/params';

/**
 * Every setting the functions read, as Firebase params: one place, each with its default.
 * Deployed, non-secret values come from `functions/.env.<project-id>` (`firebase deploy` asks for any
 * missing one, offering its default); secrets from Secret Manager, bound only to the functions that
 * list them in `secrets`. Under the emulators `scripts/emulators.mjs` writes both files.
 */

/** Stripe's secret API key: Secret Manager. Bound to the functions that call Stripe. */
export const STRIPE_SECRET_KEY = defineSecret('STRIPE_SECRET_KEY');
/** The webhook endpoint's signing secret (`whsec_…`): Secret Manager. Bound to `stripeWebhook` only. */
export const STRIPE_WEBHOOK_SECRET = defineSecret('STRIPE_WEBHOOK_SECRET');

/** The web app's origin for mailed links and Stripe's return URLs; empty: `https://<project-id>.web.app`. */
export const APP_URL = defineString('APP_URL', {
  default: '',
  description: "The web app's origin (e.g. https://app.example.com); empty for https://<project-id>.web.app",
});

const STUCK_AFTER_DEFAULT_MS = 5 * 60_000;
/** How long a provisioning job may make no progress before the stuck-job sweeper acts. */
export const PROVISIONING_STUCK_AFTER_MS = defineInt('PROVISIONING_STUCK_AFTER_MS', {
  default: STUCK_AFTER_DEFAULT_MS,
  description: 'Milliseconds without progress after which a provisioning job is resumed or undone',
});

/** The param's value; its default where nothing set it (scripts and tests, outside the Functions runtime, read 0 otherwise). */
export const stuckAfterMs = (): number => (process.env[PROVISIONING_STUCK_AFTER_MS.name] ? PROVISIONING_STUCK_AFTER_MS.value() : STUCK_AFTER_DEFAULT_MS);

/** Comma-separated host:port DNS servers for domain verification; empty: the system's resolvers. */
export const DNS_SERVERS = defineString('DNS_SERVERS', {
  default: '',
  description: 'host:port list of DNS servers for domain verification; empty for the system resolvers',
});

/** The local Stripe simulator's base URL (set by scripts/emulators.mjs only); empty in production: the real Stripe API. */
export const STRIPE_API_BASE = defineString('STRIPE_API_BASE', {
  default: '',
  description: 'Leave empty in production (the real Stripe API); the local launcher points it at the Stripe simulator',
});

/** The non-secret params with their defaults, for the local launcher's dotenv file and deploy:check. */
export const STRING_AND_INT_PARAMS = [APP_URL, PROVISIONING_STUCK_AFTER_MS, DNS_SERVERS, STRIPE_API_BASE];
export const SECRETS = [STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET];
