import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./wrangler-dev";

// Debian's chromium; .ci/run installs it when it is missing. No skipping without it: a
// docs page nobody opened in a browser is not known to work.
const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "browser-test-token-3b9f";

let server: DevServer | undefined;
let browser: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`apt-get install -y chromium\` (.ci/run does it on CI).`);
  }
  server = await startDevServer({ API_TOKENS: TOKEN });
  profile = await mkdtemp(path.join(tmpdir(), "identity-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
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
});

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await server?.stop();
});

describe("/docs in a browser", () => {
  it("authorizes, sends POST /identify with Try it out, and shows the JSON answer", async () => {
    if (!server || !browser) throw new Error("not started");
    const origin = server.url;
    const page = await browser.newPage();
    const requested: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });

    await page.goto(`${origin}/docs`);
    const operation = page.locator("#operations-identity-identify");
    await operation.waitFor();

    await page.locator(".auth-wrapper button.authorize").click();
    // The dialog lists the callers' scheme and the admins' scheme: fill the callers' one.
    const callers = page.locator("form").filter({ hasText: "bearerAuth" });
    await callers.getByLabel("auth-bearer-value").fill(TOKEN);
    await callers.getByRole("button", { name: "Apply credentials" }).click();
    await page.locator(".modal-ux-header button.close-modal").click();

    await operation.locator(".opblock-summary-control").click();
    await operation.locator("button.try-out__btn").click();
    const email = `browser.${Date.now()}@example.com`;
    await operation.locator("textarea.body-param__text").fill(JSON.stringify({ email, phoneNumber: "+1 555 0100" }));

    const sent = page.waitForRequest((request) => request.url() === `${origin}/identify`);
    await operation.locator("button.execute").click();
    expect((await sent).headers().authorization).toBe(`Bearer ${TOKEN}`);

    const answer = operation.locator(".live-responses-table tbody tr.response");
    await expect.poll(() => answer.locator(".response-col_status").textContent()).toContain("200");
    const shown = await answer.locator(".response-col_description pre").first().textContent();
    expect(JSON.parse(shown ?? "")).toEqual({
      primaryContactId: expect.any(Number),
      emails: [email],
      phoneNumbers: ["+15550100"],
      secondaryContactIds: [],
    });

    // Everything the page loaded came from the Worker: no CDN, no validator badge.
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(requested).toContain(`${origin}/docs/vendor/swagger-ui-bundle.js`);
    expect(problems).toEqual([]);
    await page.close();
  });
});
