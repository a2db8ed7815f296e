import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Chromium, launchChromium, watch } from "./chromium";
import { type DevServer, startDevServer } from "./wrangler-dev";

const TOKEN = "browser-test-token-3b9f";

let server: DevServer | undefined;
let chromium: Chromium | undefined;

beforeAll(async () => {
  chromium = await launchChromium();
  server = await startDevServer({ API_TOKENS: TOKEN });
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

describe("/docs in a browser", () => {
  it("authorizes, sends POST /identify with Try it out, and shows the JSON answer", async () => {
    if (!server || !chromium) throw new Error("not started");
    const origin = server.url;
    const page = await chromium.browser.newPage();
    const { requested, problems } = watch(page);

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
