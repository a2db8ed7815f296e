/**
 * The merge protection an import is screened and planned under: the variables wrangler.toml
 * gives the Worker (BLOCKED_IDENTIFIERS, MAX_EMAILS_PER_CLUSTER, MAX_PHONES_PER_CLUSTER),
 * parsed by the Worker's own parsers, so that the import refuses and links exactly as the service would.
 */
import { type BlockList, parseBlockList } from "../../src/domain/blocking";
import { type ClusterLimits, parseClusterLimits } from "../../src/domain/limits";
import { readWranglerToml } from "./wrangler-toml";

/** The protection in force, and a key of its variables (part of an import's ledger id). */
export type ImportSettings = { blockList: BlockList; limits: ClusterLimits; key: string };

/**
 * Reads the protection variables of wrangler.toml (the top level: what `npm run dev` and a
 * deploy without `--env` run with).
 * @throws BlockListError or ClusterLimitError for a malformed value, as the Worker would fail closed.
 */
export function readSettings(): ImportSettings {
  const { vars } = readWranglerToml();
  const text = (name: string) => (vars[name] === undefined ? undefined : String(vars[name]));
  const blocked = text("BLOCKED_IDENTIFIERS");
  const emails = text("MAX_EMAILS_PER_CLUSTER");
  const phones = text("MAX_PHONES_PER_CLUSTER");
  return {
    blockList: parseBlockList(blocked),
    limits: parseClusterLimits(emails, phones),
    key: JSON.stringify([blocked ?? "", emails ?? "", phones ?? ""]),
  };
}
