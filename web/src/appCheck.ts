// App Check for the callables (the functions enforce it in production, functions/src/triggers/options.ts).
// Loaded with the first callable, never with a page, so no route's first download grows (budget in
// scripts/bundle-size.ts).
import type { FirebaseApp } from 'firebase/app';
import type { StartupConfig } from './firebase';

/**
 * Production: the reCAPTCHA Enterprise provider with `appCheckSiteKey`. Emulators: App Check's debug
 * provider, only when `appCheckDebugToken` is configured; the Functions emulator cannot verify tokens
 * and does not demand them, and the debug provider needs Google's App Check service, so offline runs
 * (npm start, npm test) go without.
 */
export async function installAppCheck(app: FirebaseApp, config: StartupConfig): Promise<void> {
  if (config.useEmulators === false && !config.appCheckSiteKey) {
    console.error('emulators.json has no appCheckSiteKey: callables will refuse this app (README, Deploying: App Check)');
    return;
  }
  if (config.useEmulators !== false && !config.appCheckDebugToken) return;
  const { initializeAppCheck, ReCaptchaEnterpriseProvider } = await import('firebase/app-check');
  if (config.useEmulators !== false) (self as { FIREBASE_APPCHECK_DEBUG_TOKEN?: string }).FIREBASE_APPCHECK_DEBUG_TOKEN = config.appCheckDebugToken;
  initializeAppCheck(app, { provider: new ReCaptchaEnterpriseProvider(config.useEmulators === false ? config.appCheckSiteKey! : 'debug'), isTokenAutoRefreshEnabled: true });
}
