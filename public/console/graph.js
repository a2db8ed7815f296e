// The cluster drawn with Cytoscape.js (vendor/cytoscape.min.js, copied from the npm package
// at build): a node per contact, an edge per link, styled by what links them. Labels are
// painted on a canvas, so no value from the data ever becomes markup.

/**
 * @typedef {{id: number, email: string | null, phoneNumber: string | null,
 *   linkPrecedence: "primary" | "secondary", createdAt: string}} GraphContact
 * @typedef {{from: number, to: number, via: "email" | "phoneNumber", value: string}
 *   | {from: number, to: number, via: "bridge", bridgeId: number, at: string, requestId: string | null}} GraphLink
 * @typedef {{primaryContactId: number, contacts: GraphContact[], links: GraphLink[]}} ContactGraph
 */

// The UMD build defines this global (index.html loads it before the modules).
const cytoscape = /** @type {{cytoscape: typeof import("cytoscape")}} */ (/** @type {unknown} */ (globalThis))
  .cytoscape;

const COLOURS = { email: "#1f6feb", phoneNumber: "#1a7f37", bridge: "#bc4c00", chain: "#cf222e" };

/**
 * The one edge id of a link, whichever way it is oriented (explain answers links oriented
 * along the chain). Two contacts share at most one email and one phone, so `via` and the pair
 * tell links apart; a bridge has its own id.
 * @param {GraphLink} link
 */
export function linkId(link) {
  if (link.via === "bridge") return `bridge-${link.bridgeId}`;
  return `${link.via}-${Math.min(link.from, link.to)}-${Math.max(link.from, link.to)}`;
}

/** How a link reads as text. @param {GraphLink} link */
export function linkText(link) {
  if (link.via === "bridge") return `#${link.from} → #${link.to} by bridge #${link.bridgeId}`;
  return `#${link.from} → #${link.to} by ${link.via === "email" ? "email" : "phone"} ${link.value}`;
}

/** @type {import("cytoscape").StylesheetJson} */
const STYLE = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      shape: "round-rectangle",
      width: "data(width)",
      height: "data(height)",
      "text-wrap": "wrap",
      "text-valign": "center",
      "text-halign": "center",
      "font-size": "12px",
      "background-color": "#f6f8fa",
      "border-width": 1,
      "border-color": "#57606a",
    },
  },
  { selector: "node.primary", style: { "border-width": 5, "border-style": "double", "background-color": "#fff8c5" } },
  {
    selector: "edge",
    style: {
      width: 3,
      "curve-style": "bezier",
      label: "data(label)",
      "font-size": "9px",
      "text-rotation": "autorotate",
      "text-background-color": "#ffffff",
      "text-background-opacity": 1,
    },
  },
  { selector: "edge.email", style: { "line-color": COLOURS.email } },
  { selector: "edge.phoneNumber", style: { "line-color": COLOURS.phoneNumber, "line-style": "dashed" } },
  { selector: "edge.bridge", style: { "line-color": COLOURS.bridge, "line-style": "dotted", width: 4 } },
  { selector: "edge.chain", style: { "line-color": COLOURS.chain, width: 7, "z-index": 9 } },
  { selector: "node.chain", style: { "border-color": COLOURS.chain, "border-width": 4 } },
];

/**
 * A node's data: its label (id, role, values) and a box that holds it, sized from the
 * longest line at the 12px font (Cytoscape.js deprecates sizing a node to its label).
 * @param {GraphContact} contact
 */
function nodeData(contact) {
  const role = contact.linkPrecedence === "primary" ? " (primary)" : "";
  const lines = [`#${contact.id}${role}`, contact.email ?? "no email", contact.phoneNumber ?? "no phone"];
  const longest = Math.max(...lines.map((line) => line.length));
  return { id: `c${contact.id}`, label: lines.join("\n"), width: longest * 7.2 + 24, height: 68 };
}

/**
 * Draws `graph` into `container`, laid out breadth-first from the primary (a cluster grown
 * through /identify is a tree of links, so this reads as one), replacing any earlier drawing.
 * The container's `data-nodes`, `data-edges` and `data-chain` tell what is drawn.
 * @param {HTMLElement} container
 * @param {ContactGraph} graph
 * @param {import("cytoscape").Core | undefined} previous
 * @returns {import("cytoscape").Core}
 */
export function draw(container, graph, previous) {
  previous?.destroy();
  const cy = cytoscape({
    container,
    style: STYLE,
    elements: [
      ...graph.contacts.map((contact) => ({
        data: nodeData(contact),
        classes: contact.linkPrecedence,
      })),
      ...graph.links.map((link) => ({
        data: {
          id: linkId(link),
          source: `c${link.from}`,
          target: `c${link.to}`,
          label: link.via === "bridge" ? `bridge #${link.bridgeId}` : link.value,
        },
        classes: link.via,
      })),
    ],
    layout: {
      name: "breadthfirst",
      roots: [`c${graph.primaryContactId}`],
      directed: false,
      spacingFactor: 1.1,
      padding: 24,
      nodeDimensionsIncludeLabels: true,
    },
    minZoom: 0.3,
    maxZoom: 2.5,
  });
  container.dataset.nodes = String(cy.nodes().length);
  container.dataset.edges = String(cy.edges().length);
  container.dataset.chain = "";
  return cy;
}

/**
 * Marks the chain `path` on the drawing (and clears the last one).
 * @param {import("cytoscape").Core} cy
 * @param {GraphLink[]} path
 */
export function highlight(cy, path) {
  cy.elements().removeClass("chain");
  const ids = path.map(linkId);
  for (const id of ids) cy.getElementById(id).addClass("chain").connectedNodes().addClass("chain");
  // In the chain's order, of the edges found in the drawing.
  const container = cy.container();
  if (container) container.dataset.chain = ids.filter((id) => cy.getElementById(id).nonempty()).join(" ");
}
