// Which Chromium the e2e tests drive: shared by the tests (test/e2e/webApp.ts) and the launcher, which
// names it in the run's header. Plain JavaScript, so scripts/emulators.mjs can import it.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

const SYSTEM_BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

/** The first executable named `name` on PATH, or null. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/**
 * A Chromium to drive, in this order: CHROMIUM_PATH; a system Chromium or Chrome; one installed by
 * Playwright; else the binary the npm package @sparticuz/chromium ships inside itself (so a machine
 * with only Node and Java runs the browser tests too).
 * @returns {Promise<{ path: string; source: string }>}
 */
export async function findBrowser() {
  if (process.env.CHROMIUM_PATH) return { path: process.env.CHROMIUM_PATH, source: 'CHROMIUM_PATH' };
  for (const name of SYSTEM_BROWSERS) {
    const found = onPath(name);
    if (found) return { path: found, source: 'system' };
  }
  const playwrights = chromium.executablePath();
  if (playwrights && existsSync(playwrights)) return { path: playwrights, source: 'playwright' };
  const { default: packaged } = await import('@sparticuz/chromium');
  return { path: await packaged.executablePath(), source: '@sparticuz/chromium' };
}
