// What every browser test of the web app shares: one served app and one Chromium per file, a fresh
// context per page, sign-in, screenshots, and the accessibility check run on every page and state.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { clearEmulators } from '../helpers/emulators';
import { launchBrowser, screenshotDir, serveWebApp } from './webApp';

/** The password every account of the browser tests gets (seed.ts, signedInClient). */
export const PASSWORD = 'password-123';

/**
 * Where screenshots go: test-results/screenshots by default; `SCREENSHOTS=docs npm test -- test/e2e`
 * writes the README's pictures (docs/screenshots) instead.
 */
const SHOTS = process.env.SCREENSHOTS === 'docs' ? resolve(__dirname, '..', '..', 'docs', 'screenshots') : join(screenshotDir, 'screenshots');

export interface Harness {
  origin: () => string;
  newPage: () => Promise<Page>;
}

/** Registers the file's hooks: the app and the browser for the file, emulators cleared and pages checked per test. */
export function useBrowser(): Harness {
  let web: Awaited<ReturnType<typeof serveWebApp>>;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let pageErrors: string[] = [];
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    web = await serveWebApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });
  beforeEach(async () => {
    await clearEmulators();
    pageErrors = [];
  });
  afterEach(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
    expect(pageErrors, 'the pages threw no uncaught errors').toEqual([]);
  });
  return {
    origin: () => web.origin,
    newPage: async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      // Generous: a cold Functions worker on a loaded 2-core machine; this waits for an outcome, it times nothing.
      context.setDefaultTimeout(90_000);
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      return page;
    },
  };
}

export async function signIn(page: Page, email: string, password = PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/**
 * axe-core on the page as it is now: no serious or critical violation, named with the rule, the
 * elements and how to fix it, so a failure says what to change. Minor and moderate findings are not failures.
 */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  // Animations settle first, so colours are checked as a person sees them (a spinner, which never ends, stops).
  await page.evaluate(() =>
    document.getAnimations().forEach((animation) => {
      if (animation.effect?.getComputedTiming().endTime === Infinity) animation.cancel();
      else animation.finish();
    }),
  );
  const { violations } = await new AxeBuilder({ page }).analyze();
  const blocking = violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
  expect(blocking, `accessibility of "${state}"`).toEqual([]);
}

/** A picture of the page, full length. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Every page and state a test visits: checked for accessibility, and pictured. */
export async function look(page: Page, name: string): Promise<void> {
  await expectAccessible(page, name);
  await screenshot(page, name);
}
