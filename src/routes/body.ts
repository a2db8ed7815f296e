import { HttpError } from "../errors";

/** CONTRACT.md: a body larger than this is answered 413 before it is parsed. */
export const MAX_BODY_BYTES = 16 * 1024;

const tooLarge = () =>
  new HttpError(413, "payload_too_large", `The request body must be at most ${MAX_BODY_BYTES} bytes.`);

/**
 * Reads a JSON body of at most MAX_BODY_BYTES. Counts bytes as they stream in,
 * so a body sent without `Content-Length` cannot exhaust memory either.
 */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();

  const bytes = new Uint8Array(MAX_BODY_BYTES);
  let length = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.byteLength > MAX_BODY_BYTES) {
        await reader.cancel();
        throw tooLarge();
      }
      bytes.set(value, length);
      length += value.byteLength;
    }
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes.subarray(0, length));
  } catch {
    throw new HttpError(400, "invalid_body", "The request body is not valid UTF-8.");
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.");
  }
}
