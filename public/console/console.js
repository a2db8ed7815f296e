// The support console: find a customer's cluster, read it, and repair it through the API.
// Every value from the data goes into the page as text (textContent), never as HTML.
import { api, sentence, token } from "./api.js";

/** @typedef {import("./api.js").Cluster} Cluster */
/** @typedef {import("./api.js").HistoryEvent} HistoryEvent */

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
  values: byId("values", HTMLDListElement),
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

/** The cluster on screen, if any. @type {Cluster | undefined} */
let shown;

/** @param {string} text */
function say(text) {
  ui.status.textContent = text;
  ui.error.textContent = "";
}

/** @param {unknown} error */
function complain(error) {
  ui.error.textContent = sentence(error);
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

/** @param {Cluster} cluster */
function renderCluster(cluster) {
  const ids = memberIds(cluster);
  ui.clusterTitle.textContent = `Cluster of primary #${cluster.primaryContactId} (${ids.length} contacts)`;
  ui.values.replaceChildren(
    el("dt", "Emails"),
    el("dd", cluster.emails.join(", ") || "none"),
    el("dt", "Phones"),
    el("dd", cluster.phoneNumbers.join(", ") || "none"),
  );
  const body = ui.contacts.tBodies[0];
  body.replaceChildren(
    ...ids.map((id) => {
      const row = el("tr");
      row.append(el("td", `#${id}`), el("td", id === cluster.primaryContactId ? "primary" : "secondary"));
      return row;
    }),
  );
  ui.eraseValue.replaceChildren(
    ...cluster.emails.map((email) => optionFor("email", email)),
    ...cluster.phoneNumbers.map((phone) => optionFor("phoneNumber", phone)),
  );
}

/**
 * @param {"email" | "phoneNumber"} field
 * @param {string} value
 */
function optionFor(field, value) {
  const option = el("option", `${field === "email" ? "email" : "phone"} ${value}`);
  option.value = JSON.stringify({ [field]: value });
  return option;
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
 * Shows the cluster of contact `id`: its members and values, and its history.
 * @param {number} id
 */
async function open(id) {
  const [cluster, history] = await Promise.all([
    /** @type {Promise<Cluster>} */ (api("GET", `/contacts/${id}`)),
    /** @type {Promise<{events: HistoryEvent[]}>} */ (api("GET", `/contacts/${id}/history`)),
  ]);
  shown = cluster;
  renderCluster(cluster);
  renderHistory(history.events);
  ui.cluster.hidden = false;
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
    ui.cluster.hidden = true;
  }
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
    if (kind === "id") {
      if (!/^[1-9][0-9]*$/.test(value)) throw new Error("A contact id is a positive whole number.");
      await open(Number(value));
    } else {
      const found = /** @type {Cluster} */ (await api("POST", "/lookup", { [kind]: value }));
      await open(found.primaryContactId);
    }
    say(`Found the cluster of primary #${shown?.primaryContactId}.`);
  });
});

ui.eraseForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const cluster = shown;
  const choice = ui.eraseValue.selectedOptions[0];
  if (!cluster || !choice) return;
  run(async () => {
    const ok = await confirmAction(
      `Erase the ${choice.textContent} from every contact holding it, for good. A contact left with ` +
        "neither an email nor a phone is deleted, and the cluster splits where that value was its only link.",
      "Erase",
    );
    if (!ok) return;
    const body = JSON.parse(choice.value);
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
    const ids = memberIds(cluster);
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
