import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { FastifyRequest } from "fastify";
import { GatewayError } from "../core/index.js";

/** Bodies past this size are decoded as their chunks arrive, and parsed in a turn of their own. */
const LARGE_BODY = 1024 * 1024;

type Done = (err: Error | null, body?: unknown) => void;
type TextParser = (request: FastifyRequest, body: string, done: Done) => void;

/**
 * Reads a JSON request body and parses it with Fastify's own parser (its checks for `__proto__` and
 * `constructor` included), enforcing `bodyLimit` (413, naming `server.bodyLimit`) and the declared
 * length as Fastify's reader does. A large body never makes one long step of the event loop out of
 * its copying and decoding: its chunks are decoded as they arrive, and it is joined and then parsed
 * in turns of their own, so a 32 MB body does not hold every other client up (a `/health` probe, a
 * stream's next token) for the whole of it. Small bodies are read as Fastify reads them.
 */
export function jsonBodyParser(
  parse: TextParser,
  bodyLimit: number,
): (request: FastifyRequest, payload: Readable, done: Done) => void {
  return (request, payload, done) => {
    const declared = Number(request.headers["content-length"]);
    if (declared > bodyLimit) return done(tooLarge(bodyLimit));
    const chunks: Buffer[] = [];
    let size = 0;
    let decoder: StringDecoder | undefined;
    let texts: string[] = [];
    const finish = (err: Error | null) => {
      payload.removeListener("data", onData);
      payload.removeListener("end", onEnd);
      payload.removeListener("error", onEnd);
      done(err);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > bodyLimit) return finish(tooLarge(bodyLimit));
      if (decoder) {
        texts.push(decoder.write(bytes));
        return;
      }
      chunks.push(bytes);
      if (size >= LARGE_BODY) {
        decoder = new StringDecoder("utf8");
        for (const c of chunks) texts.push(decoder.write(c));
        chunks.length = 0;
      }
    };
    function onEnd(err?: Error & { statusCode?: number }) {
      payload.removeListener("data", onData);
      payload.removeListener("end", onEnd);
      payload.removeListener("error", onEnd);
      if (err) {
        // As Fastify's reader: a broken body is the client's (400) unless the error says otherwise.
        if (!(err instanceof GatewayError) && !(typeof err.statusCode === "number" && err.statusCode >= 400))
          err.statusCode = 400;
        return done(err);
      }
      if (!Number.isNaN(declared) && size !== declared) {
        return done(new GatewayError("invalid_request", "Invalid request body: its size did not match its Content-Length"));
      }
      if (!decoder) {
        parse(
          request,
          chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, size).toString("utf8"),
          done,
        );
        return;
      }
      texts.push(decoder.end());
      setImmediate(() => {
        const text = texts.join("");
        texts = [];
        setImmediate(() => parse(request, text, done));
      });
    }
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onEnd);
    payload.resume();
  };
}

function tooLarge(bodyLimit: number): GatewayError {
  return new GatewayError("payload_too_large", `Request body is too large (over server.bodyLimit, ${bodyLimit} bytes)`);
}
