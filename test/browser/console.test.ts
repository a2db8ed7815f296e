import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Chromium, launchChromium, watch } from "./chromium";
import { type DevServer, startDevServer } from "./wrangler-dev";

const CALLER = "console-test-caller-7e21";
const ADMIN = "console-test-admin-5c90";
// A stored value that would run script if the page ever put data into HTML. The API refuses
// `<` in an email, so the test stores it straight into the local D1 before the server starts.
const HOSTILE_EMAIL = `<img src=x onerror="document.title='pwned'">@example.com`;
const HOSTILE_PHONE = "+15550666";
const SEED = `INSERT INTO contacts (phoneNumber, email, linkPrecedence) VALUES ('${HOSTILE_PHONE}', '${HOSTILE_EMAIL.replaceAll("'", "''")}', 'primary')`;

let server: DevServer | undefined;
let chromium: Chromium | undefined;

beforeAll(async () => {
  chromium = await launchChromium();
  server = await startDevServer({ API_TOKENS: CALLER, ADMIN_TOKENS: ADMIN }, SEED);
});

afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

function started(): { origin: string; chromium: Chromium } {
  if (!server || !chromium) throw new Error("not started");
  return { origin: server.url, chromium };
}

/** Sends `/identify` as a caller would, and answers the cluster. */
async function identify(email: string | null, phoneNumber: string | null) {
  const res = await fetch(`${started().origin}/identify`, {
    method: "POST",
    headers: { authorization: `Bearer ${CALLER}`, "content-type": "application/json" },
    body: JSON.stringify({ email, phoneNumber }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { primaryContactId: number; secondaryContactIds: number[] };
}

/**
 * A cluster of three contacts: A and B share a phone, and a request that sent A's email with
 * C's phone bridged C in. Answers the ids and values.
 */
async function threeContacts(tag: string) {
  const a = { email: `a.${tag}@example.com`, phone: `+1555${tag}01` };
  const b = { email: `b.${tag}@example.com` };
  const c = { email: `c.${tag}@example.com`, phone: `+1555${tag}02` };
  const first = await identify(a.email, a.phone);
  const second = await identify(b.email, a.phone);
  const third = await identify(c.email, c.phone);
  const merged = await identify(a.email, c.phone);
  expect(merged.secondaryContactIds).toHaveLength(2);
  const ids = { a: first.primaryContactId, b: second.secondaryContactIds[0], c: third.primaryContactId };
  return { a, b, c, ids };
}

/** A console page whose every request and problem is recorded. */
async function openConsole() {
  const { origin, chromium } = started();
  const page = await chromium.browser.newPage();
  const { requested, problems } = watch(page);
  const response = await page.goto(`${origin}/console`);
  // public/_headers: the page may load and call nothing but this origin.
  expect(response?.headers()["content-security-policy"]).toMatch(
    /^default-src 'none'; script-src 'self'; style-src 'self';/,
  );
  return { page, requested, problems, origin };
}

async function useToken(page: Page, token: string) {
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Use token" }).click();
}

async function search(page: Page, kind: "Email" | "Phone" | "Contact id", value: string) {
  await page.getByLabel("Search by").selectOption({ label: kind });
  await page.getByLabel("Search for").fill(value);
  await page.getByLabel("Search for").press("Enter");
}

const rows = (page: Page) => page.locator("#contacts tbody tr");

describe("/console in a browser", () => {
  it("finds a cluster by email, phone or id from the keyboard, and lists its contacts and history", async () => {
    const { a, c, ids } = await threeContacts("0101");
    const { page, requested, problems, origin } = await openConsole();
    await useToken(page, ADMIN);

    await search(page, "Email", a.email.toUpperCase());
    await expect
      .poll(() => page.locator("#cluster-title").textContent())
      .toBe(`Cluster of primary #${ids.a} (3 contacts)`);
    expect(await rows(page).allInnerTexts()).toEqual([
      `#${ids.a}\tprimary`,
      `#${ids.b}\tsecondary`,
      `#${ids.c}\tsecondary`,
    ]);
    expect(await page.locator("#values dd").allInnerTexts()).toEqual([
      `${a.email}, b.0101@example.com, ${c.email}`,
      `${a.phone}, ${c.phone}`,
    ]);
    const kinds = await page.locator("#history .kind").allInnerTexts();
    expect(kinds).toEqual(["created", "linked", "created", "merged"]);
    expect(await page.locator("#history li").last().textContent()).toContain(
      `primaries #${ids.c} merged into #${ids.a}`,
    );

    // The same cluster by phone, then by id, typed and submitted from the keyboard alone.
    await search(page, "Phone", "+1 555 0101 02");
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Found the cluster of primary #${ids.a}.`);
    await page.locator("#status").evaluate((node) => {
      node.textContent = "";
    });
    await page.getByLabel("Search by").focus();
    await page.keyboard.press("End"); // "Contact id"
    await page.keyboard.press("Tab");
    await page.keyboard.type(String(ids.c));
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#status").textContent()).toBe(`Found the cluster of primary #${ids.a}.`);
    expect(await rows(page).count()).toBe(3);

    // The token lives in this tab's sessionStorage only.
    const stored = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
      url: location.href,
    }));
    expect(stored).toEqual({ session: [ADMIN], local: 0, cookie: "", url: `${origin}/console` });
    // Nothing from another origin, and nothing the Content-Security-Policy refused.
    expect(requested.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(problems).toEqual([]);
    // public/.assetsignore: the page's tsconfig is not an asset (the Worker answers, wanting a token).
    expect((await fetch(`${origin}/console/tsconfig.json`)).status).toBe(401);
    await page.close();
  });

  it("says what a wrong token, a caller's token and an unknown value mean, in sentences", async () => {
    const { page } = await openConsole();
    await useToken(page, "not-a-token");
    await search(page, "Email", "nobody@example.com");
    await expect
      .poll(() => page.locator("#error").textContent())
      .toBe("The token was refused (401): enter a valid admin token.");

    await useToken(page, CALLER);
    await search(page, "Contact id", "1");
    await expect
      .poll(() => page.locator("#error").textContent())
      .toBe("This token is not an admin token (403): the console needs one from ADMIN_TOKENS.");

    await useToken(page, ADMIN);
    await search(page, "Email", "nobody.0102@example.com");
    await expect
      .poll(() => page.locator("#error").textContent())
      .toBe("Not found (404): No contact holds this email or phone number.");
    await search(page, "Contact id", "x1");
    await expect.poll(() => page.locator("#error").textContent()).toBe("A contact id is a positive whole number.");
    await page.close();
  });

  it("shows a stored value that looks like HTML as text", async () => {
    const { page, problems } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Phone", HOSTILE_PHONE);
    await expect.poll(() => page.locator("#values dd").first().textContent()).toBe(HOSTILE_EMAIL);
    expect(await page.locator("#erase-value option").first().textContent()).toBe(`email ${HOSTILE_EMAIL}`);
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.title()).toBe("Identity console");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("erases a value after a confirmation naming it, and shows the clusters it leaves", async () => {
    const { c, ids } = await threeContacts("0103");
    const { page, origin } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Contact id", String(ids.a));
    await expect.poll(() => rows(page).count()).toBe(3);

    // C's phone is what the bridge matched: erasing it splits C off.
    await page.getByLabel("Erase value").selectOption({ label: `phone ${c.phone}` });
    await page.getByRole("button", { name: "Erase…" }).click();
    const dialog = page.getByRole("dialog");
    expect(await dialog.locator("#confirm-text").textContent()).toContain(
      `Erase the phone ${c.phone} from every contact`,
    );
    await dialog.getByRole("button", { name: "Erase" }).click();

    await expect
      .poll(() => page.locator("#outcome li").allInnerTexts())
      .toEqual([`Open cluster of #${ids.a} (#${ids.a}, #${ids.b})`, `Open cluster of #${ids.c} (#${ids.c})`]);
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await page.locator("#status").textContent()).toBe(
      `Erased the phone ${c.phone}. Deleted contacts: none. Clusters left: 2.`,
    );
    const lookup = await fetch(`${origin}/lookup`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ phoneNumber: c.phone }),
    });
    expect(lookup.status).toBe(404);

    await page.getByRole("button", { name: `Open cluster of #${ids.c}` }).click();
    await expect
      .poll(() => page.locator("#cluster-title").textContent())
      .toBe(`Cluster of primary #${ids.c} (1 contacts)`);
    await page.close();
  });

  it("deletes the cluster only after a confirmation naming its contacts", async () => {
    const { ids } = await threeContacts("0104");
    const { page, origin } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Contact id", String(ids.b));
    await expect.poll(() => rows(page).count()).toBe(3);

    const contact = () =>
      fetch(`${origin}/contacts/${ids.a}`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.status);
    await page.getByRole("button", { name: "Delete this cluster…" }).click();
    const text = `contacts #${ids.a}, #${ids.b}, #${ids.c} and every email and phone they hold are removed for good`;
    expect(await page.locator("#confirm-text").textContent()).toContain(text);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    expect(await contact()).toBe(200);

    await page.getByRole("button", { name: "Delete this cluster…" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete 3 contacts" }).click();
    await expect
      .poll(() => page.locator("#status").textContent())
      .toBe(`Deleted contacts #${ids.a}, #${ids.b}, #${ids.c}.`);
    expect(await page.locator("#cluster").isHidden()).toBe(true);
    expect(await contact()).toBe(404);
    await page.close();
  });
});
