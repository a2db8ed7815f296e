// The support console: find a customer's cluster, read it, and repair it through the API.
// Every value from the data goes into the page as text (textContent), never as HTML.
import { ApiError, api, sentence, token } from "./api.js";
import { draw, highlight, linkText } from "./graph.js";

/** @typedef {import("./api.js").Cluster} Cluster */
/** @typedef {import("./api.js").HistoryEvent} HistoryEvent */
/** @typedef {import("./graph.js").ContactGraph} ContactGraph */
/** @typedef {import("./graph.js").GraphLink} GraphLink */

/**
 * The element with `id`, of the type the page declares it with.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing`);
  return element;
}

/**
 * A new element holding `text` as text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, text = "") {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}

const ui = {
  tokenForm: byId("token-form", HTMLFormElement),
  token: byId("token", HTMLInputElement),
  tokenState: byId("token-state", HTMLSpanElement),
  searchForm: byId("search-form", HTMLFormElement),
  searchKind: byId("search-kind", HTMLSelectElement),
  searchValue: byId("search-value", HTMLInputElement),
  status: byId("status", HTMLParagraphElement),
  error: byId("error", HTMLParagraphElement),
  outcome: byId("outcome", HTMLUListElement),
  cluster: byId("cluster", HTMLElement),
  clusterTitle: byId("cluster-title", HTMLHeadingElement),
  graph: byId("graph", HTMLDivElement),
  graphSummary: byId("graph-summary", HTMLParagraphElement),
  explainForm: byId("explain-form", HTMLFormElement),
  explainFrom: byId("explain-from", HTMLSelectElement),
  explainTo: byId("explain-to", HTMLSelectElement),
  chain: byId("chain", HTMLOListElement),
  links: byId("links", HTMLUListElement),
  contacts: byId("contacts", HTMLTableElement),
  eraseForm: byId("erase-form", HTMLFormElement),
  eraseValue: byId("erase-value", HTMLSelectElement),
  deleteCluster: byId("delete-cluster", HTMLButtonElement),
  history: byId("history", HTMLOListElement),
  confirm: byId("confirm", HTMLDialogElement),
  confirmText: byId("confirm-text", HTMLParagraphElement),
  confirmOk: byId("confirm-ok", HTMLButtonElement),
  confirmCancel: byId("confirm-cancel", HTMLButtonElement),
};

/** The cluster on screen, if any. @type {ContactGraph | undefined} */
let shown;
/** Its drawing. @type {import("cytoscape").Core | undefined} */
let cy;

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
  ui.error.textContent = "";
}

/** Shows a failure as a sentence; a chain the answer carries (409 `still_linked`) is drawn too. @param {unknown} error */
function complain(error) {
  ui.error.textContent = sentence(error);
  if (error instanceof ApiError && Array.isArray(error.detail.path)) showChain(error.detail.path);
}

/**
 * Asks before a change that cannot be undone; resolves true only on the confirming button.
 * @param {string} text what will happen, naming the contacts and values
 * @param {string} action the confirming button's label
 * @returns {Promise<boolean>}
 */
function confirmAction(text, action) {
  ui.confirmText.textContent = text;
  ui.confirmOk.textContent = action;
  ui.confirm.returnValue = "";
  ui.confirm.showModal();
  return new Promise((resolve) => {
    ui.confirm.addEventListener("close", () => resolve(ui.confirm.returnValue === "ok"), { once: true });
  });
}
ui.confirmOk.addEventListener("click", () => ui.confirm.close("ok"));
ui.confirmCancel.addEventListener("click", () => ui.confirm.close("cancel"));

/** @param {Cluster} cluster */
const memberIds = (cluster) => [cluster.primaryContactId, ...cluster.secondaryContactIds];

/** @param {number[]} ids */
const idList = (ids) => ids.map((id) => `#${id}`).join(", ");

/** @param {ContactGraph} graph */
function renderGraph(graph) {
  const { contacts, links } = graph;
  ui.clusterTitle.textContent = `Cluster of primary #${graph.primaryContactId} (${contacts.length} contacts)`;
  cy = draw(ui.graph, graph, cy);
  const count = (/** @type {string} */ via) => links.filter((link) => link.via === via).length;
  ui.graphSummary.textContent =
    `${cy.nodes().length} contacts, ${cy.edges().length} links ` +
    `(email: ${count("email")}, phone: ${count("phoneNumber")}, bridge: ${count("bridge")}).`;
  ui.links.replaceChildren(
    ...links.map((link) => {
      const item = el("li", linkText(link));
      if (link.via === "bridge") {
        const button = el("button", `Unmerge bridge #${link.bridgeId}…`);
        button.type = "button";
        button.addEventListener("click", () => run(() => unmerge(graph, link)));
        item.append(" ", button);
      }
      return item;
    }),
  );
  const options = () => contacts.map((contact) => option(`#${contact.id}`, String(contact.id)));
  ui.explainFrom.replaceChildren(...options());
  ui.explainTo.replaceChildren(...options());
  ui.explainTo.selectedIndex = contacts.length - 1;
  ui.chain.replaceChildren();
  ui.contacts.tBodies[0].replaceChildren(
    ...contacts.map((contact) => {
      const row = el("tr");
      row.append(
        el("td", `#${contact.id}`),
        el("td", contact.linkPrecedence),
        el("td", contact.email ?? ""),
        el("td", contact.phoneNumber ?? ""),
        el("td", contact.createdAt),
      );
      return row;
    }),
  );
  const values = (/** @type {"email" | "phoneNumber"} */ field) => [
    ...new Set(contacts.flatMap((contact) => contact[field] ?? [])),
  ];
  ui.eraseValue.replaceChildren(
    ...values("email").map((email) => option(`email ${email}`, JSON.stringify({ email }))),
    ...values("phoneNumber").map((phone) => option(`phone ${phone}`, JSON.stringify({ phoneNumber: phone }))),
  );
}

/**
 * @param {string} text
 * @param {string} value
 */
function option(text, value) {
  const element = el("option", text);
  element.value = value;
  return element;
}

/** Marks `path` on the graph and lists it. @param {GraphLink[]} path */
function showChain(path) {
  if (cy) highlight(cy, path);
  ui.chain.replaceChildren(...path.map((link) => el("li", linkText(link))));
}

/** What one event says, in words: ids only, as the history holds. @param {HistoryEvent} event */
function describe(event) {
  const ids = idList(event.contactIds);
  const primary = `#${event.primaryContactId}`;
  switch (event.kind) {
    case "created":
      return `contact ${ids} created as a primary`;
    case "linked":
      return `contact ${ids} linked to primary ${primary}`;
    case "merged":
      return `primaries ${ids} merged into ${primary}${event.bridgeId ? ` (bridge #${event.bridgeId})` : ""}`;
    case "split":
      return `re-formed after an erasure: ${ids} under ${primary}`;
    case "unmerged":
      return `re-formed after unmerging bridge #${event.bridgeId ?? "?"}: ${ids} under ${primary}`;
    case "erased":
      return `contacts ${ids} deleted`;
    default:
      return `${event.kind}: ${ids} under ${primary}`;
  }
}

/** @param {HistoryEvent[]} events */
function renderHistory(events) {
  ui.history.replaceChildren(
    ...events.map((event) => {
      const item = el("li");
      const time = el("time", event.at);
      time.dateTime = event.at;
      const kind = el("strong", event.kind);
      kind.className = `kind ${event.kind}`;
      item.append(time, " ", kind, " ", describe(event), " ", el("small", `request ${event.requestId}`));
      return item;
    }),
  );
  if (events.length === 0) ui.history.append(el("li", "No events."));
}

/**
 * Shows the cluster of contact `id`: its graph, its contacts and its history.
 * @param {number} id
 */
async function open(id) {
  const [graph, history] = await Promise.all([
    /** @type {Promise<ContactGraph>} */ (api("GET", `/contacts/${id}/graph`)),
    /** @type {Promise<{events: HistoryEvent[]}>} */ (api("GET", `/contacts/${id}/history`)),
  ]);
  shown = graph;
  // Drawn once visible: Cytoscape.js sizes the drawing to its container.
  ui.cluster.hidden = false;
  renderGraph(graph);
  renderHistory(history.events);
}

/**
 * Lists the clusters a repair left, each with a button that opens it, and opens the one
 * holding `keep` (else the first).
 * @param {Cluster[]} clusters
 * @param {number} keep
 */
async function showOutcome(clusters, keep) {
  ui.outcome.replaceChildren(
    ...clusters.map((cluster) => {
      const button = el("button", `Open cluster of #${cluster.primaryContactId} (${idList(memberIds(cluster))})`);
      button.type = "button";
      button.addEventListener("click", () => run(() => open(cluster.primaryContactId)));
      const item = el("li");
      item.append(button);
      return item;
    }),
  );
  const next = clusters.find((cluster) => memberIds(cluster).includes(keep)) ?? clusters[0];
  if (next) await open(next.primaryContactId);
  else {
    shown = undefined;
    cy?.destroy();
    cy = undefined;
    ui.cluster.hidden = true;
  }
}

/**
 * Removes bridge `link` after a confirmation, then shows the clusters left; a bridge whose
 * contacts stay linked otherwise is refused (409) and the chain that links them is drawn.
 * @param {ContactGraph} graph
 * @param {Extract<GraphLink, {via: "bridge"}>} link
 */
async function unmerge(graph, link) {
  const made = link.requestId ? `made by request ${link.requestId} at ${link.at}` : `a legacy bridge from ${link.at}`;
  const ok = await confirmAction(
    `Unmerge bridge #${link.bridgeId} (${made}) between contact #${link.from} and contact #${link.to}. ` +
      "If nothing else links them, the cluster splits in two, and a separation keeps them from being " +
      "merged again; no contact or value is deleted.",
    `Unmerge bridge #${link.bridgeId}`,
  );
  if (!ok) return;
  const result = /** @type {{clusters: Cluster[]}} */ (
    await api("POST", `/contacts/${graph.primaryContactId}/unmerge`, { bridgeId: link.bridgeId })
  );
  say(`Unmerged bridge #${link.bridgeId}: ${result.clusters.length} clusters now.`);
  await showOutcome(result.clusters, graph.primaryContactId);
}

/**
 * Runs one user action: clears the last error, shows a failure as a sentence.
 * @param {() => Promise<void>} action
 */
function run(action) {
  ui.error.textContent = "";
  action().catch(complain);
}

ui.token.value = token.get();
ui.tokenState.textContent = token.get() ? "Token kept for this tab." : "";
ui.tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  token.set(ui.token.value.trim());
  ui.tokenState.textContent = "Token kept for this tab.";
});
byId("forget-token", HTMLButtonElement).addEventListener("click", () => {
  token.forget();
  ui.token.value = "";
  ui.tokenState.textContent = "Token forgotten.";
});

ui.searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const kind = ui.searchKind.value;
  const value = ui.searchValue.value.trim();
  run(async () => {
    ui.outcome.replaceChildren();
    if (kind === "id" && !/^[1-9][0-9]*$/.test(value)) throw new Error("A contact id is a positive whole number.");
    const found = /** @type {Cluster} */ (
      kind === "id" ? await api("GET", `/contacts/${value}`) : await api("POST", "/lookup", { [kind]: value })
    );
    await open(found.primaryContactId);
    say(`Found the cluster of primary #${shown?.primaryContactId}.`);
  });
});

ui.explainForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const from = ui.explainFrom.value;
  const to = ui.explainTo.value;
  run(async () => {
    const { path } = /** @type {{path: GraphLink[]}} */ (
      await api("GET", `/contacts/${from}/explain?to=${encodeURIComponent(to)}`)
    );
    showChain(path);
    say(
      path.length === 0
        ? `#${from} is #${to}: the same contact.`
        : `#${from} and #${to} are linked by ${path.length} links.`,
    );
  });
});

ui.eraseForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const cluster = shown;
  const choice = ui.eraseValue.selectedOptions[0];
  if (!cluster || !choice) return;
  run(async () => {
    const body = /** @type {{email: string} | {phoneNumber: string}} */ (JSON.parse(choice.value));
    const field = "email" in body ? "email" : "phoneNumber";
    const other = field === "email" ? "phoneNumber" : "email";
    const value = "email" in body ? body.email : body.phoneNumber;
    const holders = cluster.contacts.filter((contact) => contact[field] === value);
    // A holder without the other field is left with nothing, and erasure deletes it.
    const emptied = holders.filter((contact) => contact[other] === null);
    const ok = await confirmAction(
      `Erase the ${choice.textContent} from every contact holding it (${idList(holders.map((c) => c.id))}), ` +
        `for good. ${emptied.length > 0 ? `Left with nothing, ${idList(emptied.map((c) => c.id))} will be deleted. ` : ""}` +
        "The cluster splits where that value was its only link.",
      "Erase",
    );
    if (!ok) return;
    const result = /** @type {{erasedContactIds: number[], clusters: Cluster[]}} */ (await api("POST", "/erase", body));
    say(
      `Erased the ${choice.textContent}. Deleted contacts: ${idList(result.erasedContactIds) || "none"}. ` +
        `Clusters left: ${result.clusters.length}.`,
    );
    await showOutcome(result.clusters, cluster.primaryContactId);
  });
});

ui.deleteCluster.addEventListener("click", () => {
  const cluster = shown;
  if (!cluster) return;
  run(async () => {
    const ids = cluster.contacts.map((contact) => contact.id);
    const ok = await confirmAction(
      `Delete the whole cluster of primary #${cluster.primaryContactId}: contacts ${idList(ids)} and every ` +
        "email and phone they hold are removed for good. Its history stays, with ids only.",
      `Delete ${ids.length} contacts`,
    );
    if (!ok) return;
    const result = /** @type {{erasedContactIds: number[]}} */ (
      await api("DELETE", `/contacts/${cluster.primaryContactId}`)
    );
    say(`Deleted contacts ${idList(result.erasedContactIds)}.`);
    await showOutcome([], cluster.primaryContactId);
  });
});
