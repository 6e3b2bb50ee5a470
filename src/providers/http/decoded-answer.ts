import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { ACCEPTED_CODINGS, contentCodings, decodedContent, GatewayError, undecodableCoding } from "../../core/index.js";
import { destroyBody } from "./answer-limits.js";

/** An upstream's answer as the providers read it: its status, headers and content (decoded, when it came compressed). */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

/**
 * An answer with its content coding undone: a body sent `Content-Encoding: gzip`, `deflate` or `br`
 * (a server behind a compressing proxy, or one that compresses whatever it is asked) is read as the
 * JSON or events it holds, whole or streamed, and its headers lose `content-encoding` and
 * `content-length` (which count the compressed bytes). Decoding keeps pace with the reader, so every
 * limit on what tandem holds of an answer (limits.maxAnswerBytes for a whole one, maxLineBytes for a
 * stream's event, the 64 KB of an error body) counts decoded bytes and a zip bomb is cut off there.
 * A coding tandem cannot decode is the upstream's upstream_error, named, before any byte is read
 * (the same upstream would answer the same again: not retried); a body that does not decode (a
 * broken or cut compressed stream) fails as the upstream's upstream_error too, never as junk text.
 */
export function decodedAnswer(res: Dispatcher.ResponseData, target: string): UpstreamResponse {
  const codings = contentCodings(res.headers["content-encoding"]);
  if (codings.length === 0) return res;
  const undecodable = undecodableCoding(codings);
  if (undecodable !== undefined) {
    destroyBody(res.body);
    throw new GatewayError(
      "upstream_error",
      `${target} answered with Content-Encoding ${undecodable}, which tandem cannot decode (it asks for ${ACCEPTED_CODINGS})`,
      { target, retryable: false },
    );
  }
  const { "content-encoding": _encoding, "content-length": _length, ...headers } = res.headers;
  const body = decodedContent(
    res.body,
    codings,
    (err) =>
      new GatewayError("upstream_error", `${target}: its ${codings.join(", ")} answer does not decode (${err.message})`, {
        target,
        cause: err,
      }),
  );
  // The reader left before the end: the connection is dropped, as for any body.
  body.once("close", () => {
    if (!body.readableEnded) destroyBody(res.body);
  });
  return { statusCode: res.statusCode, headers, body };
}
