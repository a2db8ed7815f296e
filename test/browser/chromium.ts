import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

// Debian's chromium; .ci/run installs it when it is missing. No skipping without it: a
// page nobody opened in a browser is not known to work.
const CHROMIUM = "/usr/bin/chromium";

/** A headless Debian Chromium with an empty profile of its own; `close()` deletes the profile. */
export type Chromium = { browser: BrowserContext; close: () => Promise<void> };

/**
 * Starts headless Chromium through playwright-core (which downloads no browser), with the
 * flags that keep it from calling out of this machine's closed network.
 */
export async function launchChromium(): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`apt-get install -y chromium\` (.ci/run does it on CI).`);
  }
  const profile = await mkdtemp(path.join(tmpdir(), "identity-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Records what `page` requests and what goes wrong in it: uncaught errors, and console errors
 * and warnings (a Content-Security-Policy violation is one).
 */
export function watch(page: Page): { requested: string[]; problems: string[] } {
  const requested: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  return { requested, problems };
}
