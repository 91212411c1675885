/**
 * Where the web app is, for links in mail: `APP_URL` (e.g. https://app.example.com) where deployed;
 * the Hosting emulator of `npm start` otherwise.
 */
export function appUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.APP_URL || 'http://127.0.0.1:5000').replace(/\/+$/, '');
}
