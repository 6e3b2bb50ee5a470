import type { FastifyRequest } from "fastify";

/** Bodies at least this large are decoded and parsed in turns of their own. */
const LARGE_BODY = 1024 * 1024;

type Done = (err: Error | null, body?: unknown) => void;
type TextParser = (request: FastifyRequest, body: string, done: Done) => void;

/**
 * A JSON body parser (Fastify's own, with its checks for `__proto__` and `constructor`) over the raw
 * bytes that leaves the event loop between the steps of a large body: the bytes are decoded in one
 * turn and parsed in the next, so a 32 MB body never holds every other client (a `/health` probe, a
 * stream's next token) for the whole of its decoding and parsing. Small bodies are parsed at once.
 */
export function jsonBodyParser(parse: TextParser): (request: FastifyRequest, body: Buffer, done: Done) => void {
  return (request, body, done) => {
    if (body.length < LARGE_BODY) {
      parse(request, body.toString("utf8"), done);
      return;
    }
    setImmediate(() => {
      const text = body.toString("utf8");
      setImmediate(() => parse(request, text, done));
    });
  };
}
