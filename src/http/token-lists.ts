import { commaSeparated } from "../text";

// Free of Worker types, so that scripts/check-config.ts runs the same check under Node.

/** A token secret by the name of the variable that holds it. */
export type TokenLists = Record<string, string | undefined>;

/** One token configured in more than one list: the lists' names, and its place (from 1) in each. */
export type SharedToken = { lists: string[]; positions: number[] };

/**
 * Every token that more than one of `lists` holds. A token in two lists is a
 * misconfiguration (easily made during a rotation): it must never get the wider scope,
 * so `npm run check` refuses it and `requireToken` refuses the token itself.
 * The token is not returned, so that no report prints it.
 */
export function sharedTokens(lists: TokenLists): SharedToken[] {
  const seen = new Map<string, SharedToken>();
  for (const [name, secret] of Object.entries(lists)) {
    commaSeparated(secret).forEach((token, index) => {
      const entry = seen.get(token) ?? { lists: [], positions: [] };
      if (entry.lists.at(-1) === name) return;
      entry.lists.push(name);
      entry.positions.push(index + 1);
      seen.set(token, entry);
    });
  }
  return [...seen.values()].filter((entry) => entry.lists.length > 1);
}
