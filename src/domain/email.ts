/** RFC 5321, 4.5.3.1.1: a local part is at most 64 octets (UTF-8 octets under RFC 6531). */
const MAX_LOCAL_OCTETS = 64;
const MAX_LABEL_LENGTH = 63;

// A local part is a dot-atom (RFC 5322) whose characters may also be non-ASCII letters,
// marks and digits (RFC 6531). Quoted local parts are refused: no checkout form produces
// them, and they would give one mailbox several spellings. Controls, spaces and symbols
// outside atext are refused, so nothing invisible can tell two addresses apart.
const ATOM = "[a-z0-9!#$%&'*+/=?^_`{|}~\\-\\p{L}\\p{M}\\p{N}]+";
const LOCAL_PART = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`, "u");
// What a domain may hold before IDNA: ASCII letters, digits, hyphens and dots, the three
// dots IDNA maps to "." (ideographic, fullwidth, halfwidth), and non-ASCII letters, marks
// and digits. Anything else (`%`, `/`, `@`, `:`, spaces) would make the URL parser read more
// than a host name.
const DOMAIN_TEXT = /^[a-z0-9.\-\u3002\uff0e\uff61\p{L}\p{M}\p{N}]+$/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

const utf8 = new TextEncoder();

// RFC 3492 (Punycode) parameters.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;

function adaptBias(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / 700) : delta >> 1;
  d += Math.floor(d / points);
  let k = 0;
  for (; d > ((BASE - T_MIN) * T_MAX) >> 1; k += BASE) d = Math.floor(d / (BASE - T_MIN));
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + 38));
}

function punycodeDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 22; // 0-9 are 26-35
  if (code >= 0x61 && code <= 0x7a) return code - 0x61; // a-z are 0-25
  return BASE;
}

/**
 * Decodes the Punycode part of an `xn--` label (RFC 3492, section 6.2), or undefined if
 * it is not valid Punycode. workerd's URL parser passes `xn--` labels through unchecked,
 * so without this a made-up label would be a second spelling of nothing.
 */
function decodePunycode(input: string): string | undefined {
  const output: number[] = [];
  const delimiter = input.lastIndexOf("-");
  for (let j = 0; j < Math.max(delimiter, 0); j++) output.push(input.charCodeAt(j));
  let n = 128;
  let bias = 72;
  let i = 0;
  for (let at = delimiter > 0 ? delimiter + 1 : 0; at < input.length; ) {
    const before = i;
    let weight = 1;
    for (let k = BASE; ; k += BASE) {
      if (at >= input.length) return undefined;
      const digit = punycodeDigit(input.charCodeAt(at++));
      if (digit >= BASE) return undefined;
      i += digit * weight;
      const threshold = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < threshold) break;
      weight *= BASE - threshold;
      if (i > 0x7fffffff || weight > 0x7fffffff) return undefined;
    }
    const length = output.length + 1;
    bias = adaptBias(i - before, length, before === 0);
    n += Math.floor(i / length);
    i %= length;
    if (n > 0x10ffff) return undefined;
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

/** The URL parser's ASCII form of a host name, or undefined if it refuses it. */
function urlHost(domain: string): string | undefined {
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return undefined; // a disallowed code point, an empty label the parser rejects
  }
}

/** An `xn--` label is valid when it decodes to non-ASCII text that encodes back to it. */
function validALabel(label: string): boolean {
  const unicode = decodePunycode(label.slice(4));
  return unicode !== undefined && /[^\0-\x7f]/.test(unicode) && urlHost(unicode) === label;
}

/**
 * The domain in its ASCII form (IDNA A-labels, `xn--`), or undefined if it is not a
 * host name of at least two labels with an alphabetic or IDN top level. The WHATWG URL
 * parser applies UTS #46 (case folding, width and Unicode normalisation), so
 * `bücher.de`, `BÜCHER.DE` and `xn--bcher-kva.de` all give `xn--bcher-kva.de`.
 */
function asciiDomain(domain: string): string | undefined {
  if (!DOMAIN_TEXT.test(domain)) return undefined;
  const host = urlHost(domain);
  if (host === undefined) return undefined;
  const labels = host.split(".");
  const top = labels[labels.length - 1] ?? "";
  if (labels.length < 2 || !TOP_LEVEL.test(top)) return undefined;
  const valid = (label: string) =>
    label.length <= MAX_LABEL_LENGTH && LABEL.test(label) && (!label.startsWith("xn--") || validALabel(label));
  return labels.every(valid) ? host : undefined;
}

/**
 * The one stored form of an email address, or undefined if it is not a valid one.
 * Unicode NFC, lower-cased local part (RFC 6531 allows UTF-8 there), and the domain in
 * IDNA ASCII form: every spelling of one address (Unicode or `xn--` domain, any case,
 * composed or decomposed accents) gives the same string.
 */
export function canonicalEmail(text: string): string | undefined {
  const address = text.normalize("NFC").toLowerCase();
  const at = address.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = address.slice(0, at);
  if (utf8.encode(local).length > MAX_LOCAL_OCTETS || !LOCAL_PART.test(local)) return undefined;
  const domain = asciiDomain(address.slice(at + 1));
  return domain === undefined ? undefined : `${local}@${domain}`;
}
