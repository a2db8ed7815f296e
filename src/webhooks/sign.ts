import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../contract/headers";

const encoder = new TextEncoder();

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * The Standard Webhooks headers of one attempt of a delivery: its `webhook-id` (the same
 * on every retry of the delivery), `webhook-timestamp` (`at`, in Unix seconds) and
 * `webhook-signature`, `v1,` then the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`
 * under `key`. WebCrypto: nothing but the runtime.
 */
export async function signDelivery(
  key: Uint8Array<ArrayBuffer>,
  webhookId: string,
  at: Date,
  body: string,
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const hmac = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", hmac, encoder.encode(`${webhookId}.${timestamp}.${body}`));
  return {
    [WEBHOOK_ID_HEADER]: webhookId,
    [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
    [WEBHOOK_SIGNATURE_HEADER]: `v1,${base64(mac)}`,
  };
}
