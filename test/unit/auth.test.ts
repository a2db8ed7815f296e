import { afterEach, describe, expect, it, vi } from "vitest";
import { configuredTokens, matchToken } from "../../src/http/auth";
import { sharedTokens } from "../../src/http/token-lists";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("configuredTokens", () => {
  it("splits the secret on commas, trims, and drops empty entries", () => {
    expect(configuredTokens(" one ,two,, three ,")).toEqual(["one", "two", "three"]);
    expect(configuredTokens(undefined)).toEqual([]);
    expect(configuredTokens(" , ")).toEqual([]);
  });
});

describe("matchToken", () => {
  const secret = "alpha-token,beta-token";

  it("returns a stable fingerprint per configured token, never the token itself", async () => {
    const alpha = await matchToken("alpha-token", secret);
    const beta = await matchToken("beta-token", secret);
    expect(alpha).toMatch(/^[0-9a-f]{16}$/);
    expect(beta).toMatch(/^[0-9a-f]{16}$/);
    expect(alpha).not.toBe(beta);
    expect(await matchToken("alpha-token", "beta-token,alpha-token")).toBe(alpha);
  });

  it("matches nothing else", async () => {
    for (const presented of ["alpha", "alpha-token ", "alpha-tokenx", "ALPHA-TOKEN", "", secret]) {
      expect(await matchToken(presented, secret)).toBeUndefined();
    }
  });

  it("compares SHA-256 digests in constant time, against every configured token", async () => {
    const compare = vi.spyOn(crypto.subtle, "timingSafeEqual");
    // A match on the first token must not cut the comparisons short.
    expect(await matchToken("alpha-token", secret)).toBeDefined();
    expect(compare).toHaveBeenCalledTimes(2);
    for (const [a, b] of compare.mock.calls) {
      expect(a.byteLength).toBe(32);
      expect(b.byteLength).toBe(32);
    }
  });
});

describe("sharedTokens", () => {
  it("names each token that two lists hold, by list and place, never the token", () => {
    const shared = sharedTokens({ API_TOKENS: "a, b,c", ADMIN_TOKENS: "x,b", FEED: "c" });
    expect(shared).toEqual([
      { lists: ["API_TOKENS", "ADMIN_TOKENS"], positions: [2, 2] },
      { lists: ["API_TOKENS", "FEED"], positions: [3, 1] },
    ]);
    expect(JSON.stringify(shared)).not.toMatch(/"[abc]"/);
  });

  it("finds nothing in distinct lists, unset ones, or a token repeated inside one list", () => {
    expect(sharedTokens({ API_TOKENS: "a,b", ADMIN_TOKENS: "c" })).toEqual([]);
    expect(sharedTokens({ API_TOKENS: "a,a", ADMIN_TOKENS: undefined })).toEqual([]);
  });
});
