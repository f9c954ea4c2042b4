import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** The distribution's Chromium (`apt-get install chromium`, see scripts/setup.sh); never a downloaded one. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Whether browser tests run: `true` when Chromium is installed. Without it they are skipped
 * locally, but under `CI` the missing browser is a failure, never a silent skip.
 */
export function requireChromium(): boolean {
  const available = existsSync(CHROMIUM_PATH);
  if (!available && process.env.CI)
    throw new Error(`Browser tests need Chromium at ${CHROMIUM_PATH} in CI: run scripts/setup.sh as root`);
  return available;
}

/** Headless Chromium for UI tests; close it in `finally`/`afterEach`. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
    ],
  });
}
