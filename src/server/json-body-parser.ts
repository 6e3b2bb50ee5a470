import type { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import {
  bodyDecodingError,
  contentCodings,
  decodedContent,
  GatewayError,
  markStep,
  undecodableBodyError,
} from "../core/index.js";

/** Bodies past this size are gathered as bytes as they arrive, and parsed in turns (see parseJsonInTurns). */
export const LARGE_BODY = 1024 * 1024;
/** Bytes copied per turn when a large body sent without a length is joined at its end. */
const JOIN_PIECE = 1024 * 1024;

type Done = (err: Error | null, body?: unknown) => void;
type TextParser = (request: FastifyRequest, body: string, done: Done) => void;
type BytesParser = (request: FastifyRequest, body: Buffer, done: Done) => void;

/**
 * Reads a JSON request body, enforcing `bodyLimit` (413, naming `server.bodyLimit`) and the declared
 * length as Fastify's reader does. A small body is decoded and handed to `parseText` as Fastify would.
 * A large one never makes one long step of the event loop: its bytes are copied, as they arrive, into
 * one buffer of its declared length (touching 32 MB of fresh memory at once can take a few hundred ms
 * on a loaded machine), or joined a piece per turn when it came without a length, and `parseBytes`
 * takes them from there, so a 32 MB body does not hold every other client up (a `/health` probe, a
 * stream's next token) for the whole of it.
 */
export function jsonBodyParser(
  parseText: TextParser,
  parseBytes: BytesParser,
  bodyLimit: number,
): (request: FastifyRequest, payload: Readable, done: Done) => void {
  return (request, raw, done) => {
    let declared = Number(request.headers["content-length"]);
    if (declared > bodyLimit) return done(tooLarge(bodyLimit));
    const codings = contentCodings(request.headers["content-encoding"]);
    let payload = raw;
    if (codings.length > 0) {
      const refusal = undecodableBodyError(codings);
      if (refusal !== undefined) return done(refusal);
      // A client's compressed body (the Codex CLI compresses a long conversation's): read as the JSON it holds.
      payload = decodedContent(raw, codings, (err) => bodyDecodingError(codings, err));
      // The declared length counts the coded bytes (Node's parser holds the body to it); bodyLimit
      // counts what they decode to, so a small body that inflates past it is a 413 too.
      declared = Number.NaN;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    // Large bodies of a declared length: their bytes, copied in as they arrive.
    const whole = declared >= LARGE_BODY ? Buffer.allocUnsafe(declared) : undefined;
    const finish = (err: Error | null) => {
      payload.removeListener("data", onData);
      payload.removeListener("end", onEnd);
      payload.removeListener("error", onEnd);
      if (payload !== raw) {
        // No more is decoded; the rest of the body goes unread, as an undecoded one's does.
        payload.destroy();
        raw.resume();
      }
      done(err);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      if (whole !== undefined && size + bytes.length <= whole.length) bytes.copy(whole, size);
      else chunks.push(bytes);
      size += bytes.length;
      if (size > bodyLimit) return finish(tooLarge(bodyLimit));
    };
    function onEnd(err?: Error & { statusCode?: number }) {
      markStep("body-read");
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
      if (whole !== undefined) return parseBytes(request, whole, done);
      if (size < LARGE_BODY) {
        parseText(
          request,
          chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks, size).toString("utf8"),
          done,
        );
        return;
      }
      const parts = chunks;
      chunks = [];
      void joinInTurns(parts, size).then((bytes) => parseBytes(request, bytes, done), done);
    }
    payload.on("data", onData);
    payload.on("end", onEnd);
    payload.on("error", onEnd);
    payload.resume();
  };
}

/** `chunks` as one buffer, about JOIN_PIECE bytes copied per turn. */
async function joinInTurns(chunks: Buffer[], size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  let turn = 0;
  for (const chunk of chunks) {
    if (at >= turn + JOIN_PIECE) {
      turn = at;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    at += chunk.copy(bytes, at);
  }
  return bytes;
}

function tooLarge(bodyLimit: number): GatewayError {
  return new GatewayError("payload_too_large", `Request body is too large (over server.bodyLimit, ${bodyLimit} bytes)`);
}
