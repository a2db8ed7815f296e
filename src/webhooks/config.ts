/**
 * Where events are pushed, and the key they are signed with: `WEBHOOK_URL` and the secret
 * `WEBHOOK_SECRET`, parsed the same way by the dispatcher at run time and by
 * `npm run check` before a deploy.
 */

/** A well-formed push configuration. */
export type WebhookConfig = {
  /** The receiver: `https://…`, or `http://` to 127.0.0.1 or localhost for local development. */
  url: URL;
  /** The HMAC-SHA256 key: the bytes the secret's base64 after `whsec_` stands for. */
  key: Uint8Array<ArrayBuffer>;
};

/** A malformed `WEBHOOK_URL` or `WEBHOOK_SECRET`; the message says which and why, never the secret. */
export class WebhookConfigError extends Error {
  override readonly name = "WebhookConfigError";
}

/** Bounds of the key, in bytes (Standard Webhooks: 24 to 64). */
const KEY_BYTES = { min: 24, max: 64 } as const;
const SECRET_PREFIX = "whsec_";
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** The receiver's URL, if `text` is one the service may post to. */
function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookConfigError("WEBHOOK_URL is not a URL");
  }
  const local = url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !local) {
    throw new WebhookConfigError("WEBHOOK_URL must be https://, or http://127.0.0.1 or http://localhost");
  }
  // The origin is reported by GET /events/delivery: credentials must not ride in the URL.
  if (url.username !== "" || url.password !== "") {
    throw new WebhookConfigError("WEBHOOK_URL must not carry a user name or password");
  }
  return url;
}

/** The key of a `whsec_<base64>` secret of 24 to 64 bytes. */
export function parseWebhookSecret(secret: string | undefined): Uint8Array<ArrayBuffer> {
  if (secret === undefined || secret === "")
    throw new WebhookConfigError("WEBHOOK_URL is set but WEBHOOK_SECRET is not");
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (encoded === undefined || !BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new WebhookConfigError(`WEBHOOK_SECRET must be ${SECRET_PREFIX} followed by base64`);
  }
  const key = Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  if (key.length < KEY_BYTES.min || key.length > KEY_BYTES.max) {
    throw new WebhookConfigError(
      `WEBHOOK_SECRET's key must be ${KEY_BYTES.min} to ${KEY_BYTES.max} bytes, not ${key.length}`,
    );
  }
  return key;
}

/**
 * The push configuration, or undefined when `WEBHOOK_URL` is unset or empty (no push;
 * a secret alone is ignored).
 * @throws WebhookConfigError when the URL is malformed, or set without a well-formed secret.
 */
export function parseWebhookConfig(url: string | undefined, secret: string | undefined): WebhookConfig | undefined {
  if (url === undefined || url.trim() === "") return undefined;
  return { url: parseUrl(url.trim()), key: parseWebhookSecret(secret) };
}
