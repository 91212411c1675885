import type { Auth } from 'firebase-admin/auth';
import { APP_URL } from '../config';

/**
 * Where the web app is served: the `APP_URL` param; else the Hosting emulator under `npm start`, or
 * the project's default Hosting domain when deployed.
 */
export function appUrl(env: NodeJS.ProcessEnv = process.env): string {
  const configured = APP_URL.value();
  if (configured) return configured.replace(/\/+$/, '');
  if (env.FUNCTIONS_EMULATOR === 'true') return 'http://127.0.0.1:5000';
  const project = env.GCLOUD_PROJECT ?? (JSON.parse(env.FIREBASE_CONFIG ?? '{}') as { projectId?: string }).projectId;
  return `https://${project}.web.app`;
}

/**
 * An Admin SDK action link (offline on the Auth emulator), pointed at the web app's own handler,
 * `/auth/action`, which takes the same query (`mode`, `oobCode`, `continueUrl`) as Firebase's
 * hosted one: so the link works the same on the emulators and in production, and the person lands
 * on the app, not on a Firebase page.
 */
export async function ownerActionLink(auth: Auth, kind: 'setPassword' | 'verifyEmail', email: string): Promise<string> {
  const base = appUrl();
  const settings = { url: `${base}/app` };
  const link = kind === 'setPassword' ? await auth.generatePasswordResetLink(email, settings) : await auth.generateEmailVerificationLink(email, settings);
  return `${base}/auth/action?${new URL(link).searchParams}`;
}
