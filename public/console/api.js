// The console's only way out: requests to this origin's API with the admin token of the tab,
// and the sentence a person reads when one fails.

const TOKEN_KEY = "identity-console.admin-token";

/** The admin token of this tab: sessionStorage only (never a cookie, localStorage or a URL). */
export const token = {
  /** @returns {string} */
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
  /** @param {string} value */
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  forget: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * @typedef {{primaryContactId: number, emails: string[], phoneNumbers: string[], secondaryContactIds: number[]}} Cluster
 * @typedef {{at: string, kind: string, primaryContactId: number, contactIds: number[], requestId: string,
 *   bridgeId?: number, previousPrimaryContactId?: number}} HistoryEvent
 * @typedef {{code: string, message: string, path?: unknown}} ErrorDetail
 */

/** A refused request: its status, the API's error detail and `Retry-After`, if any. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {ErrorDetail} detail
   * @param {string | null} retryAfter
   */
  constructor(status, detail, retryAfter) {
    super(detail.message);
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/**
 * Sends one request to the API and answers its JSON body.
 * @param {"GET" | "POST" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<unknown>}
 * @throws {ApiError} on any answer but 2xx, or when the service cannot be reached (status 0).
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token.get()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: "unreachable", message: "The service could not be reached." }, null);
  }
  const json = await response.json().catch(() => null);
  if (response.ok) return json;
  const detail = json?.error ?? { code: "unknown", message: response.statusText };
  throw new ApiError(response.status, detail, response.headers.get("retry-after"));
}

/**
 * What a failed request means, as a sentence for a support agent (never the JSON).
 * @param {unknown} error
 * @returns {string}
 */
export function sentence(error) {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const again = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again shortly.";
  switch (error.status) {
    case 0:
      return "The service could not be reached: check the connection and try again.";
    case 401:
      return "The token was refused (401): enter a valid admin token.";
    case 403:
      return "This token is not an admin token (403): the console needs one from ADMIN_TOKENS.";
    case 404:
      return `Not found (404): ${error.detail.message}`;
    case 409:
      return `Refused (409): ${error.detail.message}${Array.isArray(error.detail.path) ? " The chain is drawn on the graph." : ""}`;
    case 429:
      return `Too many requests for this token (429).${again}`;
    case 503:
      return `The service is unavailable right now (503); retrying is safe.${again}`;
    default:
      return `The request failed (${error.status}): ${error.detail.message}`;
  }
}
