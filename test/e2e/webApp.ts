// Serves the built web app (web/dist) to a real Chromium, wired to the emulators of this test run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { findBrowser } from '../../scripts/browser.mjs';
import { functionsOrigin, projectId } from '../helpers/emulators';

const root = resolve(__dirname, '..', '..');
const dist = join(root, 'web', 'dist');
export const screenshotDir = join(root, 'test-results');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function hostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

/** What web/src/firebase.ts reads at startup: this run's project id and emulator addresses. */
async function emulatorConfig() {
  return {
    projectId,
    auth: `http://${process.env.FIREBASE_AUTH_EMULATOR_HOST}`,
    firestore: hostPort(process.env.FIRESTORE_EMULATOR_HOST!),
    functions: await functionsOrigin(),
  };
}

/** Like the hosting emulator: files of web/dist first, index.html for any other path. */
export async function serveWebApp(): Promise<{ origin: string; close: () => Promise<void> }> {
  if (!existsSync(join(dist, 'index.html'))) throw new Error('web/dist is missing: run `npm run build -w web` first (`npm test` does)');
  const config = JSON.stringify(await emulatorConfig());
  const server: Server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    if (path === '/emulators.json') {
      response.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' });
      response.end(config);
      return;
    }
    const file = normalize(join(dist, path));
    const inside = file.startsWith(dist + sep) && existsSync(file) && !file.endsWith(sep);
    const served = inside && extname(file) ? file : join(dist, 'index.html');
    response.writeHead(200, { 'content-type': TYPES[extname(served)] ?? 'application/octet-stream' });
    response.end(readFileSync(served));
  });
  // On the port of APP_URL when the launcher reserved one: the links the functions mail point here.
  const port = process.env.APP_URL ? Number(new URL(process.env.APP_URL).port) : 0;
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  const address = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

let announced = false;
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(screenshotDir, { recursive: true });
  const browser = await findBrowser();
  if (!announced) {
    console.log(`e2e: driving ${browser.path} (found via ${browser.source})`);
    announced = true;
  }
  return chromium.launch({
    executablePath: browser.path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
