import { PassThrough, type Readable, type Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { GatewayError } from "./errors.js";

/**
 * The content codings tandem decodes (RFC 9110 §8.4), in an upstream's answers and in a client's
 * request bodies: gzip (and its old name x-gzip), deflate (the zlib format RFC 9110 names) and br.
 * zstd is left out: Node 20 has no decoder for it.
 */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** What tandem names in `Accept-Encoding`: every coding it decodes, by its registered name. */
export const ACCEPTED_CODINGS = "gzip, deflate, br";

/**
 * GatewayError.reason of a request body in a coding tandem does not decode: its 415 names the codings
 * it does in `Accept-Encoding` (RFC 9110 §15.5.16), and an OpenAI client reads it as the error's `code`.
 */
export const UNSUPPORTED_CONTENT_ENCODING = "unsupported_content_encoding";

/**
 * Codings applied one over another past this many are refused, as undici, curl and urllib3 refuse
 * them: each layer can multiply the size, and no server stacks more than one in earnest.
 */
const MAX_CODINGS = 3;

/**
 * The codings a Content-Encoding header lists, in the order they were applied, lowercased, with
 * `identity` (no coding) left out: empty for a body sent as it is.
 */
export function contentCodings(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(",") : header;
  const codings: string[] = [];
  for (const part of joined.split(",")) {
    const coding = part.trim().toLowerCase();
    if (coding !== "" && coding !== "identity") codings.push(coding);
  }
  return codings;
}

/** The first of `codings` tandem cannot decode (or all of them, when there are too many); undefined when it decodes them all. */
export function undecodableCoding(codings: readonly string[]): string | undefined {
  if (codings.length > MAX_CODINGS) return codings.join(", ");
  return codings.find((coding) => !Object.hasOwn(DECODERS, coding));
}

/**
 * The content of a body sent with `codings` (as contentCodings lists them, all decodable): `raw`
 * through the decoders that undo them, the last applied first. Each decoder is a zlib stream, which
 * makes its output a piece at a time and only as fast as it is read, so a small body that expands
 * to gigabytes (a zip bomb) is never held whole: the reader's own limit on what it takes bounds it.
 * An error of `raw` (a connection gone, a time limit) reaches the reader as it came; a decoder's (a
 * broken or cut compressed body) as `decodingFailure` words it. Once the content is destroyed before
 * its end (the reader left), nothing more is decoded and `raw` is no longer read: what becomes of
 * it is the caller's call.
 */
export function decodedContent(raw: Readable, codings: readonly string[], decodingFailure: (err: Error) => Error): Readable {
  const decoders = [...codings].reverse().map((coding) => (DECODERS[coding] as () => Transform)());
  const content = new PassThrough();
  let over = false;
  const stop = (error?: Error) => {
    if (over) return;
    over = true;
    let from: Readable = raw;
    for (const decoder of decoders) {
      from.unpipe(decoder);
      from = decoder;
    }
    for (const decoder of decoders) decoder.destroy();
    if (error) content.destroy(error);
  };
  raw.on("error", (err) => stop(err));
  for (const decoder of decoders) decoder.on("error", (err) => stop(decodingFailure(err)));
  content.once("close", () => stop());
  let from: Readable = raw;
  for (const decoder of decoders) from = from.pipe(decoder);
  from.pipe(content);
  return content;
}

/**
 * The 415 for a client's request body whose codings tandem does not decode (RFC 9110 §15.5.16), or
 * undefined when it decodes them all: a coding it does not know is named with the codings it does
 * (also in the answer's Accept-Encoding, see app.ts); a chain of more than MAX_CODINGS is refused as
 * too long, since every coding in it may be one tandem decodes. One wording for every route that
 * takes a body (JSON and file uploads).
 */
export function undecodableBodyError(codings: readonly string[]): GatewayError | undefined {
  if (codings.length > MAX_CODINGS) {
    return new GatewayError(
      "unsupported_media_type",
      `Unsupported Content-Encoding '${codings.join(", ").slice(0, 100)}': ${codings.length} codings applied one over another; tandem decodes at most ${MAX_CODINGS}, so send the body with fewer`,
      { reason: UNSUPPORTED_CONTENT_ENCODING },
    );
  }
  const coding = codings.find((name) => !Object.hasOwn(DECODERS, name));
  if (coding === undefined) return undefined;
  return new GatewayError(
    "unsupported_media_type",
    `Unsupported Content-Encoding '${coding.slice(0, 100)}': send the body as it is, or encoded with one of ${ACCEPTED_CODINGS}`,
    { reason: UNSUPPORTED_CONTENT_ENCODING },
  );
}

/** The 400 for a client's request body that does not decode as its codings say (broken or cut). */
export function bodyDecodingError(codings: readonly string[], err: Error): GatewayError {
  return new GatewayError(
    "invalid_request",
    `Invalid request body: its ${codings.join(", ")} content coding does not decode (${err.message})`,
  );
}
