import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ROOT, run } from "./runtime";

/** Another revision of the repository, checked out beside this one for `--baseline`. */
export type Checkout = {
  /** The revision as given, and the commit it resolved to. */
  revision: string;
  commit: string;
  /** The checkout's root: its own src/, wrangler.toml and migrations/. */
  root: string;
  /** Removes the checkout (and its worktree entry); safe to call twice. */
  remove(): Promise<void>;
};

/**
 * Checks `revision` out in a temporary `git worktree`, with this checkout's
 * node_modules hard-linked into it (same toolchain, no install, almost no disk), so
 * that the bench can build and serve that revision's Worker beside this one.
 */
export async function checkoutRevision(revision: string): Promise<Checkout> {
  const commit = (await run("git", ["rev-parse", "--verify", `${revision}^{commit}`])).trim();
  const root = await mkdtemp(path.join(os.tmpdir(), "identity-baseline-"));
  let removed: Promise<void> | undefined;
  const remove = (): Promise<void> => {
    removed ??= (async () => {
      await run("git", ["worktree", "remove", "--force", root]).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
      await run("git", ["worktree", "prune"]).catch(() => undefined);
    })();
    return removed;
  };
  try {
    await run("git", ["worktree", "add", "--detach", root, commit]);
    await run("cp", ["-al", path.join(ROOT, "node_modules"), path.join(root, "node_modules")]);
  } catch (err) {
    await remove();
    throw err;
  }
  return { revision, commit, root, remove };
}
