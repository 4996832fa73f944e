/**
 * Headless Chromium for end-to-end page tests: Debian's chromium driven by
 * playwright-core (a test tool's own browser download does not work here).
 * scripts/ensure-chromium.sh, run by `npm test`, installs it when missing.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags that keep Chromium off the network: without them it reaches for
 * Google's hosts at start and in the background, which this machine refuses.
 * Playwright adds --headless, --no-sandbox (needed as root) and a fresh temp
 * --user-data-dir itself, and rejects a --user-data-dir of ours in launch().
 */
const QUIET_FLAGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: run scripts/ensure-chromium.sh (npm test does), or set CHROMIUM_PATH`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: QUIET_FLAGS, timeout: 20_000 });
}
