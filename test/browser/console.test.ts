import path from "node:path";
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
// And older data /identify no longer makes: two contacts that share a phone and are also tied
// by a legacy bridge, a cycle, so that unmerging the bridge splits nothing (409 still_linked).
const LEGACY = { phone: "+15550777", x: "legacy.x@example.com", y: "legacy.y@example.com" };
const SEED = [
  `INSERT INTO contacts (id, phoneNumber, email, linkPrecedence) VALUES (1, '${HOSTILE_PHONE}', '${HOSTILE_EMAIL.replaceAll("'", "''")}', 'primary')`,
  `INSERT INTO contacts (id, phoneNumber, email, linkedId, linkPrecedence, createdAt) VALUES (2, '${LEGACY.phone}', '${LEGACY.x}', NULL, 'primary', '2020-01-01T00:00:00.000Z')`,
  `INSERT INTO contacts (id, phoneNumber, email, linkedId, linkPrecedence, createdAt) VALUES (3, '${LEGACY.phone}', '${LEGACY.y}', 2, 'secondary', '2020-01-02T00:00:00.000Z')`,
  `INSERT INTO contact_bridges (id, kind, emailContactId, phoneContactId, createdAt) VALUES (1, 'legacy', 2, 3, '2020-01-02T00:00:00.000Z')`,
].join("; ");

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

// The picture of the graph the README shows, refreshed by every run of this test.
const SCREENSHOT = path.resolve(import.meta.dirname, "../../docs/console.png");

const rows = (page: Page) => page.locator("#contacts tbody tr");
/** The table's rows without the creation time: id, role, email, phone. */
const table = (page: Page) =>
  rows(page).evaluateAll((trs) =>
    trs.map((tr) =>
      [...tr.querySelectorAll("td")]
        .slice(0, 4)
        .map((td) => td.textContent)
        .join(" "),
    ),
  );
/** What Cytoscape.js drew, as public/console/graph.js records it on the container. */
const drawn = (page: Page) =>
  page.locator("#graph").evaluate((node) => ({
    nodes: Number(node.getAttribute("data-nodes")),
    edges: Number(node.getAttribute("data-edges")),
    chain: node.getAttribute("data-chain"),
  }));

describe("/console in a browser", () => {
  it("finds a cluster by email, phone or id from the keyboard, and lists its contacts and history", async () => {
    const { a, c, ids } = await threeContacts("0101");
    const { page, requested, problems, origin } = await openConsole();
    await useToken(page, ADMIN);

    await search(page, "Email", a.email.toUpperCase());
    await expect
      .poll(() => page.locator("#cluster-title").textContent())
      .toBe(`Cluster of primary #${ids.a} (3 contacts)`);
    expect(await table(page)).toEqual([
      `#${ids.a} primary ${a.email} ${a.phone}`,
      `#${ids.b} secondary b.0101@example.com ${a.phone}`,
      `#${ids.c} secondary ${c.email} ${c.phone}`,
    ]);
    // A node per contact; B's phone links it to A, and the bridge links A to C.
    expect(await drawn(page)).toEqual({ nodes: 3, edges: 2, chain: "" });
    expect(await page.locator("#graph-summary").textContent()).toBe(
      "3 contacts, 2 links (email: 0, phone: 1, bridge: 1).",
    );
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

  it("says what a wrong token, a caller's token, an unknown value and an outage mean, in sentences", async () => {
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

    // A 503 cannot be caused on demand here, so the browser answers one in the service's
    // envelope (src/contract/errors.ts), as a storage outage would.
    await page.route("**/lookup", (route) =>
      route.fulfill({
        status: 503,
        headers: { "content-type": "application/json", "retry-after": "2" },
        body: JSON.stringify({
          error: { code: "service_unavailable", message: "Storage is unavailable right now; retry shortly." },
        }),
      }),
    );
    await search(page, "Phone", "+15550102");
    await expect
      .poll(() => page.locator("#error").textContent())
      .toBe("The service is unavailable right now (503); retrying is safe. Try again in 2 s.");
    await page.close();
  });

  it("shows a stored value that looks like HTML as text", async () => {
    const { page, problems } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Phone", HOSTILE_PHONE);
    await expect.poll(() => page.locator("#contacts td").nth(2).textContent()).toBe(HOSTILE_EMAIL);
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
      `Erase the phone ${c.phone} from every contact holding it (#${ids.c}), for good. The cluster splits`,
    );
    await dialog.getByRole("button", { name: "Erase" }).click();

    await expect
      .poll(() => page.locator("#outcome li").allInnerTexts())
      .toEqual([`Open cluster of #${ids.a} (#${ids.a}, #${ids.b})`, `Open cluster of #${ids.c} (#${ids.c})`]);
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await drawn(page)).toEqual({ nodes: 2, edges: 1, chain: "" });
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

    // C now holds only its email: erasing it deletes C, and nothing is left to show.
    await page.getByLabel("Erase value").selectOption({ label: `email ${c.email}` });
    await page.getByRole("button", { name: "Erase…" }).click();
    expect(await page.locator("#confirm-text").textContent()).toContain(
      `(#${ids.c}), for good. Left with nothing, #${ids.c} will be deleted.`,
    );
    await page.getByRole("dialog").getByRole("button", { name: "Erase" }).click();
    await expect
      .poll(() => page.locator("#status").textContent())
      .toBe(`Erased the email ${c.email}. Deleted contacts: #${ids.c}. Clusters left: 0.`);
    expect(await page.locator("#cluster").isHidden()).toBe(true);
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

  it("highlights the chain between two chosen contacts, and saves the README's picture of it", async () => {
    // B -phone- A -bridge- C -email- D: the chain from B to D takes every link.
    const a = await identify("ana.lima@example.com", "+15550105001");
    const b = await identify("ana.work@example.com", "+15550105001");
    const c = await identify("a.lima@example.com", "+15550105002");
    const bridged = await identify("ana.lima@example.com", "+15550105002");
    const d = await identify("a.lima@example.com", "+15550105003");
    expect(bridged.secondaryContactIds).toHaveLength(2);
    const ids = {
      a: a.primaryContactId,
      b: b.secondaryContactIds[0],
      c: c.primaryContactId,
      d: d.secondaryContactIds[2],
    };

    const { page, problems } = await openConsole();
    await page.setViewportSize({ width: 1000, height: 900 });
    await useToken(page, ADMIN);
    await search(page, "Email", "a.lima@example.com");
    await expect.poll(() => drawn(page)).toEqual({ nodes: 4, edges: 3, chain: "" });
    const bridge = (await page.locator("#links li").allTextContents()).find((text) => text.includes("bridge #"));
    const bridgeId = Number(/bridge #(\d+)/.exec(bridge ?? "")?.[1]);

    await page.getByLabel("Chain from").selectOption({ label: `#${ids.b}` });
    await page.getByLabel("to", { exact: true }).selectOption({ label: `#${ids.d}` });
    await page.getByRole("button", { name: "Explain" }).click();
    const chain = [`phoneNumber-${ids.a}-${ids.b}`, `bridge-${bridgeId}`, `email-${ids.c}-${ids.d}`];
    await expect.poll(async () => (await drawn(page)).chain).toBe(chain.join(" "));
    expect(await page.locator("#chain li").allTextContents()).toEqual([
      `#${ids.b} → #${ids.a} by phone +15550105001`,
      `#${ids.a} → #${ids.c} by bridge #${bridgeId}`,
      `#${ids.c} → #${ids.d} by email a.lima@example.com`,
    ]);
    expect(await page.locator("#status").textContent()).toBe(`#${ids.b} and #${ids.d} are linked by 3 links.`);

    // Another question lights another chain, and only it.
    await page.getByLabel("Chain from").selectOption({ label: `#${ids.a}` });
    await page.getByLabel("to", { exact: true }).selectOption({ label: `#${ids.b}` });
    await page.getByRole("button", { name: "Explain" }).click();
    await expect.poll(async () => (await drawn(page)).chain).toBe(`phoneNumber-${ids.a}-${ids.b}`);

    // The README's picture: a chain through a phone link and the bridge, the email link apart.
    await page.getByLabel("Chain from").selectOption({ label: `#${ids.b}` });
    await page.getByLabel("to", { exact: true }).selectOption({ label: `#${ids.c}` });
    await page.getByRole("button", { name: "Explain" }).click();
    await expect.poll(async () => (await drawn(page)).chain).toBe(chain.slice(0, 2).join(" "));
    await page.locator("section", { has: page.locator("#graph") }).screenshot({ path: SCREENSHOT });
    expect(problems).toEqual([]);
    await page.close();
  });
  it("unmerges a bridge after a confirmation, and the drawing splits in two", async () => {
    const { a, c, ids } = await threeContacts("0106");
    const { page, origin } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Email", c.email);
    await expect.poll(() => drawn(page)).toEqual({ nodes: 3, edges: 2, chain: "" });

    const unmerge = page.getByRole("button", { name: /^Unmerge bridge #\d+…$/ });
    const label = (await unmerge.textContent()) ?? "";
    const bridgeId = Number(/#(\d+)/.exec(label)?.[1]);
    await unmerge.click();
    expect(await page.locator("#confirm-text").textContent()).toContain(
      `Unmerge bridge #${bridgeId} (made by request `,
    );
    expect(await page.locator("#confirm-text").textContent()).toContain(
      `between contact #${ids.a} and contact #${ids.c}. If nothing else links them, the cluster splits in two`,
    );
    await page
      .getByRole("dialog")
      .getByRole("button", { name: `Unmerge bridge #${bridgeId}` })
      .click();

    await expect
      .poll(() => page.locator("#status").textContent())
      .toBe(`Unmerged bridge #${bridgeId}: 2 clusters now.`);
    await expect.poll(() => drawn(page)).toEqual({ nodes: 2, edges: 1, chain: "" });
    expect(await table(page)).toEqual([
      `#${ids.a} primary ${a.email} ${a.phone}`,
      `#${ids.b} secondary b.0106@example.com ${a.phone}`,
    ]);
    await page.getByRole("button", { name: `Open cluster of #${ids.c}` }).click();
    await expect.poll(() => drawn(page)).toEqual({ nodes: 1, edges: 0, chain: "" });

    // The unmerge recorded a separation between the bridge's two contacts.
    const separations = await fetch(`${origin}/contacts/${ids.a}/separations`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    }).then((r) => r.json() as Promise<{ contactIds: number[] }[]>);
    expect(separations.map((separation) => separation.contactIds.toSorted((x, y) => x - y))).toEqual([
      [ids.a, ids.c].toSorted((x, y) => x - y),
    ]);
    await page.close();
  });

  it("refuses to unmerge a bridge its contacts do not need, and draws the chain that still links them", async () => {
    const { page } = await openConsole();
    await useToken(page, ADMIN);
    await search(page, "Email", LEGACY.x);
    await expect.poll(() => drawn(page)).toEqual({ nodes: 2, edges: 2, chain: "" });
    await page.getByRole("button", { name: "Unmerge bridge #1…" }).click();
    expect(await page.locator("#confirm-text").textContent()).toContain("Unmerge bridge #1 (a legacy bridge from ");
    await page.getByRole("dialog").getByRole("button", { name: "Unmerge bridge #1" }).click();

    await expect.poll(async () => (await drawn(page)).chain).toBe("phoneNumber-2-3");
    expect(await page.locator("#error").textContent()).toMatch(
      /^Refused \(409\): .+ The chain is drawn on the graph\.$/,
    );
    expect(await page.locator("#chain li").allTextContents()).toEqual([`#2 → #3 by phone ${LEGACY.phone}`]);
    expect(await drawn(page)).toEqual({ nodes: 2, edges: 2, chain: "phoneNumber-2-3" });
    await page.close();
  });
});
