import type { FastifyBodyParser, FastifyInstance, FastifyRequest } from "fastify";
import { GatewayError, jsonStringEnd, nestsDeeperThan, shownPath } from "../core/index.js";
import { requestRecord } from "../dialects/shared/index.js";
import { jsonBodyParser } from "./json-body-parser.js";
import { JsonBodyTooDeep, parseJsonInTurns } from "./json-body-slices.js";
import { hasMoreMembersThan, hasMoreMembersThanInTurns } from "./json-members.js";

/**
 * How deeply a request body's arrays and objects may nest (the top-level object is level 1). Real
 * requests stay far below it: a chat body with a tool whose schema nests objects ten deep is about 25
 * levels. Deeper bodies are refused with a 400 naming the field before they are parsed, because
 * JSON.parse spends about 2.5 µs per level (a 32 MiB body of `[` would hold the event loop for tens of
 * seconds) and every recursive walk after it (JSON.stringify towards an upstream, schema checks) would
 * overflow the stack.
 */
export const MAX_JSON_DEPTH = 100;

/** `application/*+json` (Fastify tests it against the normalised header, parameters included). */
const STRUCTURED_JSON = /^application\/[^\s;/]+\+json(;|$)/;

const EXPECTED = "send the body as JSON with 'Content-Type: application/json'";

/**
 * Request bodies are JSON and nothing else. A web page can send `text/plain`, form and multipart
 * bodies to any address without a CORS preflight; accepting only JSON media types means a browser
 * must ask first (and the Origin check answers). Any other content type, or a body without one, is a
 * 415 before the body is read.
 */
export function registerJsonBody(app: FastifyInstance, limits: { bodyLimit: number; bodyMaxMembers: number }): void {
  const { bodyLimit, bodyMaxMembers } = limits;
  // Fastify's own parser: it refuses `__proto__` and `constructor.prototype` keys.
  const parseJson = namingPrototypeKeys(app.getDefaultJsonParser("error", "error"));
  app.removeAllContentTypeParsers();
  const parse: FastifyBodyParser<string> = (request, body, done) => {
    // An empty body labelled JSON is no body, as one sent without a Content-Type is: OpenAI's reference
    // shows `curl -X DELETE -H "Content-Type: application/json"` with nothing after it (a stored chat
    // completion, a vector store, a batch's cancel). A route that needs a body still refuses it (400).
    if (body === "") {
      done(null, undefined);
      return;
    }
    // Nesting past the limit takes at least that many openers and as many closers.
    if (body.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(tooDeep(body), undefined);
      return;
    }
    if (hasMoreMembersThan(body, bodyMaxMembers)) {
      done(tooManyMembers(bodyMaxMembers), undefined);
      return;
    }
    requestRecord(request).bodyText = body;
    parseJson(request, body, done);
  };
  // A large body is parsed in turns, a slice at a time, each slice by the same parser.
  const parseBytes = (request: FastifyRequest, bytes: Buffer, done: (err: Error | null, body?: unknown) => void) => {
    const parseSlice = (text: string): unknown => {
      let failed: Error | null = null;
      let value: unknown;
      parseJson(request, text, (err, body) => {
        failed = err;
        value = body;
      });
      if (failed) throw failed;
      return value;
    };
    // The members are counted before the parse: a body with too many is refused before any of them is built.
    hasMoreMembersThanInTurns(bytes, bodyMaxMembers)
      .then((tooMany) => {
        if (tooMany) throw tooManyMembers(bodyMaxMembers);
        return parseJsonInTurns(bytes, { parse: parseSlice, maxDepth: MAX_JSON_DEPTH, deepPath });
      })
      .then(
        // What the request does next starts in a turn of its own, not on top of the parse's last.
        (body) => setImmediate(() => done(null, body)),
        (err: unknown) => {
          done(err instanceof JsonBodyTooDeep ? tooDeepAt(err.path) : prototypeKeysNamed(err as Error, bytes), undefined);
        },
      );
  };
  // Any parameters (`; charset=utf-8`) are accepted; the body is read as UTF-8, as JSON must be, by a
  // reader that keeps a large body from holding other clients up and enforces bodyLimit (413).
  const read = jsonBodyParser(parse, parseBytes, bodyLimit);
  app.addContentTypeParser("application/json", read);
  app.addContentTypeParser(STRUCTURED_JSON, read);
  // Everything else, including a body sent without a content type: refused unread. A route that must
  // take another type (a multipart upload) registers its parser in its own encapsulated scope.
  app.addContentTypeParser("*", (request, _payload, done) => {
    done(unsupportedMediaType(request), undefined);
  });
}

/**
 * Fastify's parser says "Body is not valid JSON" for a body it refuses for a `__proto__` key (or
 * `prototype` inside `constructor`) as well, which leaves a client whose JSON is valid looking for a
 * syntax error. When the text could hold such a key (it has `proto` in it: `__proto__`,
 * `\u005f_proto__`, `prototype`), the 400 says that it may be the reason.
 */
function namingPrototypeKeys(parse: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return (request, body, done) => {
    parse(request, body, (err, value) => (err === null ? done(null, value) : done(prototypeKeysNamed(err, body), undefined)));
  };
}

/** A refusal of a body's JSON, saying a prototype key may be why when the body could hold one (see namingPrototypeKeys). */
function prototypeKeysNamed(err: Error, body: string | Buffer): Error {
  if (err instanceof GatewayError || !body.includes("proto")) return err;
  return new GatewayError(
    "invalid_request",
    "Body is not valid JSON, or holds a key tandem refuses: '__proto__', or 'prototype' inside 'constructor' " +
      "(keys that would change what objects inherit)",
    { cause: err },
  );
}

/**
 * The 400 for a JSON text nested deeper than MAX_JSON_DEPTH, naming the field, or undefined: the check
 * a request body gets before it is parsed, for a body that does not come over HTTP (a Responses
 * WebSocket message).
 */
export function jsonTooDeep(text: string): GatewayError | undefined {
  return text.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(text, MAX_JSON_DEPTH) ? tooDeep(text) : undefined;
}

/** The 415 for a body that is not labelled JSON, naming what came and what is expected. */
export function unsupportedMediaType(request: FastifyRequest): GatewayError {
  const received = request.headers["content-type"];
  const what =
    received === undefined || received === "" ? "a body without a Content-Type" : `Content-Type '${received.slice(0, 100)}'`;
  return new GatewayError("unsupported_media_type", `Unsupported media type: tandem received ${what}; ${EXPECTED}`);
}

/**
 * The 413 for a body with more object members and array elements than `server.bodyMaxMembers`: what
 * it costs to handle grows with them (see json-members.ts), so many tiny members are as heavy as many
 * bytes.
 */
function tooManyMembers(limit: number): GatewayError {
  return new GatewayError(
    "payload_too_large",
    `Request body is too large: it holds more than ${limit} object members and array elements (server.bodyMaxMembers)`,
  );
}

/** The 400 for a body nested too deeply, naming the field where the nesting goes past the limit. */
function tooDeep(text: string): GatewayError {
  return tooDeepAt(deepPath(text, MAX_JSON_DEPTH));
}

function tooDeepAt(path: Segment[]): GatewayError {
  const { shown, more } = shownPath(path);
  if (!shown) {
    return new GatewayError(
      "invalid_request",
      `Invalid request body: arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep`,
    );
  }
  return new GatewayError(
    "invalid_request",
    `Invalid value for '${shown}${more}': arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep`,
    { param: shown },
  );
}

type Segment = string | number;

interface Frame {
  array: boolean;
  /** Arrays: the element index. Objects: the current key, once read. */
  at: Segment | undefined;
  expectKey: boolean;
}

/**
 * The path of keys and indices down to the first container past `limit`. Only runs on a body already
 * known to be too deep, so it may be slower than the check; it reads at most up to that point.
 */
export function deepPath(text: string, limit: number): Segment[] {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = jsonStringEnd(text, i);
      if (end < 0) break;
      if (top && !top.array && top.expectKey) top.at = decodeKey(text.slice(i, end + 1));
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      if (stack.length >= limit) break;
      stack.push({ array: c === 0x5b, at: c === 0x5b ? 0 : undefined, expectKey: c === 0x7b });
    } else if (c === 0x5d || c === 0x7d) {
      stack.pop();
    } else if (c === 0x3a) {
      if (top) top.expectKey = false;
    } else if (c === 0x2c && top) {
      if (top.array) top.at = (top.at as number) + 1;
      else top.expectKey = true;
    }
  }
  const path: Segment[] = [];
  for (const frame of stack) {
    if (frame.at === undefined) break;
    path.push(frame.at);
  }
  return path;
}

function decodeKey(quoted: string): string {
  try {
    return String(JSON.parse(quoted));
  } catch {
    return quoted.slice(1, -1);
  }
}
