import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseWebhookConfig, parseWebhookSecret, WebhookConfigError } from "../../src/webhooks/config";
import { signDelivery } from "../../src/webhooks/sign";

// A Standard Webhooks secret: whsec_ + base64 of 32 random bytes.
const SECRET = `whsec_${Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)).toString("base64")}`;

describe("signDelivery", () => {
  it("signs as Standard Webhooks: the standardwebhooks library verifies it", async () => {
    const body = JSON.stringify({ events: [{ id: "djE6MQ", kind: "created", primaryContactId: 1, contactIds: [1] }] });
    const headers = await signDelivery(parseWebhookSecret(SECRET), "msg_2f1c9b0e", new Date(), body);
    expect(headers["webhook-id"]).toBe("msg_2f1c9b0e");
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(SECRET).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("is refused by the library for another body, another id, another key or an old timestamp", async () => {
    const key = parseWebhookSecret(SECRET);
    const body = '{"events":[]}';
    const headers = await signDelivery(key, "msg_1", new Date(), body);
    const webhook = new Webhook(SECRET);
    expect(() => webhook.verify('{"events":[{}]}', headers)).toThrow();
    expect(() => webhook.verify(body, { ...headers, "webhook-id": "msg_2" })).toThrow();
    const other = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow();
    const stale = await signDelivery(key, "msg_1", new Date(Date.now() - 10 * 60_000), body);
    expect(() => webhook.verify(body, stale)).toThrow(/timestamp/i);
  });
});

describe("parseWebhookConfig", () => {
  it("is off without a URL, whatever the secret", () => {
    expect(parseWebhookConfig(undefined, undefined)).toBeUndefined();
    expect(parseWebhookConfig("", "not a secret")).toBeUndefined();
  });

  it("takes https, and http to 127.0.0.1 or localhost only", () => {
    expect(parseWebhookConfig("https://hooks.example.com/identity", SECRET)?.url.origin).toBe(
      "https://hooks.example.com",
    );
    expect(parseWebhookConfig("http://127.0.0.1:9000/hook", SECRET)?.url.port).toBe("9000");
    expect(parseWebhookConfig("http://localhost/hook", SECRET)?.key).toHaveLength(32);
    for (const url of ["http://hooks.example.com/", "ftp://127.0.0.1/", "not a url", "https://user:pw@x.example/"]) {
      expect(() => parseWebhookConfig(url, SECRET), url).toThrow(WebhookConfigError);
    }
  });

  it("refuses a URL without a well-formed secret: prefix, base64, 24 to 64 bytes", () => {
    const url = "https://hooks.example.com/";
    const b64 = (bytes: number) => Buffer.alloc(bytes, 1).toString("base64");
    expect(parseWebhookConfig(url, `whsec_${b64(24)}`)?.key).toHaveLength(24);
    expect(parseWebhookConfig(url, `whsec_${b64(64)}`)?.key).toHaveLength(64);
    for (const secret of [
      undefined,
      "",
      b64(32),
      `whsec_${b64(23)}`,
      `whsec_${b64(65)}`,
      "whsec_not*base64",
      "whsec_QQ",
    ]) {
      expect(() => parseWebhookConfig(url, secret), String(secret)).toThrow(WebhookConfigError);
    }
  });

  it("never puts the secret in its messages", () => {
    const secret = `whsec_${Buffer.alloc(10, 3).toString("base64")}`;
    expect(() => parseWebhookSecret(secret)).toThrow(/24 to 64 bytes, not 10/);
    try {
      parseWebhookSecret(secret);
    } catch (err) {
      expect(String(err)).not.toContain(secret.slice(6));
    }
  });
});
