/** See browser.mjs: the Chromium the e2e tests drive, and how it was found. */
export function findBrowser(): Promise<{ path: string; source: string }>;
