import { Readable } from "node:stream";
import { GatewayError } from "../../core/index.js";
import { readTextUpTo } from "./answer-limits.js";
import { withoutByteOrderMark } from "./byte-order-mark.js";
import type { UpstreamResponse } from "./decoded-answer.js";
import { messageIn } from "./upstream-error.js";

/** How a provider tells a 200 it can stream from one it cannot (see streamedAnswer). */
export interface EventStreamCheck {
  /** How much of a body that is not a stream is read, to say what it was. */
  maxBytes: number;
  /**
   * Whether a content type is read as the wire's stream as it is. Default: it names
   * text/event-stream (any other but JSON and a web page is read as one when it begins as one).
   */
  streams?: (contentType: string) => boolean;
  /** What the answer should have been, in the error. Default: an event stream. */
  expected?: string;
  /** The provider's own error object in a JSON body, as the GatewayError it stands for (an overload stays retryable). */
  errorIn?: (body: unknown, target: string) => GatewayError | undefined;
  /**
   * Whether a JSON body is a whole answer of the wire's (a `chat.completion`, a Message, a Response):
   * what a server that ignores `stream: true` sends, as some OpenAI-compatible servers do for a
   * model that cannot stream. Such an answer is the answer; without this, a JSON body is an error.
   */
  wholeAnswer?: (body: unknown) => boolean;
}

/** A 200 to a streamed request: a stream to read, or the whole answer a server gave instead. */
export type StreamedAnswer = { stream: UpstreamResponse } | { whole: unknown };

/**
 * What a 2xx to a streamed request holds. The wire's stream (text/event-stream for SSE) is read as
 * it comes. A whole JSON answer of the wire's (`check.wholeAnswer`) is read whole (bounded, as any
 * whole answer, by `readJson`), for the provider to read as the stream it stands for. A body labelled
 * neither (`text/plain`, `application/octet-stream`, no content type) is looked at first: one that
 * begins as SSE is read as SSE, as the vendors' SDKs read any body they asked a stream for, and one
 * that begins as a JSON object is read as a JSON body would be. Anything else (an HTML proxy page, a
 * JSON error body, text) is no answer: it throws the error the body carries, or one that names what
 * came, so the stream reader is never handed a body in which it would find no events.
 */
export async function streamedAnswer(
  res: UpstreamResponse,
  target: string,
  check: EventStreamCheck,
  readJson: (res: UpstreamResponse) => Promise<unknown>,
): Promise<StreamedAnswer> {
  const contentType = String(res.headers["content-type"] ?? "");
  if (isWebPage(contentType)) return notAnAnswer(res, target, check, contentType);
  if (check.streams ? check.streams(contentType) : /^\s*text\/event-stream\b/i.test(contentType)) return { stream: res };
  if (/^\s*application\/([^\s;/]+\+)?json\b/i.test(contentType)) return wholeOrError(res, target, check, contentType, readJson);
  let peeked: Awaited<ReturnType<typeof peek>>;
  try {
    peeked = await peek(res, check.maxBytes);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError(
      "upstream_error",
      `${target}: the answer broke off before it began (${GatewayError.from(err).message})`,
      { target, cause: err },
    );
  }
  const start = peeked.head.replace(/^\uFEFF?[\s]*/, "");
  if (SSE_START.test(start) || (start === "" && peeked.ended)) return { stream: peeked.res };
  if (start.startsWith("{")) return wholeOrError(peeked.res, target, check, contentType, readJson);
  return notAnAnswer(peeked.res, target, check, contentType);
}

/** The start of an SSE stream: a comment, or a field the WHATWG parser knows, ended by a colon or a line end. */
const SSE_START = /^(?::|(?:data|event|id|retry)(?::|\r|\n|$))/;

/**
 * Whether a content type is a web page: a proxy's or captive portal's answer, never a stream,
 * whatever else a lenient reader takes as one.
 */
export function isWebPage(contentType: string): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(contentType);
}

/** A JSON body: the wire's whole answer, or the error it carries, or one naming what came. */
async function wholeOrError(
  res: UpstreamResponse,
  target: string,
  check: EventStreamCheck,
  contentType: string,
  readJson: (res: UpstreamResponse) => Promise<unknown>,
): Promise<StreamedAnswer> {
  if (check.wholeAnswer === undefined) return notAnAnswer(res, target, check, contentType);
  const body = await readJson(res);
  const error = check.errorIn?.(body, target);
  if (error) throw error;
  if (check.wholeAnswer(body)) return { whole: body };
  throw notAnAnswerError(body, JSON.stringify(body), target, check, contentType);
}

/** A body that is not the answer: the error it carries, or one naming what came. */
async function notAnAnswer(res: UpstreamResponse, target: string, check: EventStreamCheck, contentType: string): Promise<never> {
  let text = "";
  try {
    text = await readTextUpTo(res.body, check.maxBytes);
  } catch {
    // The content type alone says enough.
  }
  let body: unknown;
  try {
    body = JSON.parse(withoutByteOrderMark(text));
  } catch {
    // Not JSON: quoted below.
  }
  const error = body === undefined ? undefined : check.errorIn?.(body, target);
  if (error) throw error;
  throw notAnAnswerError(body, text, target, check, contentType);
}

function notAnAnswerError(
  body: unknown,
  text: string,
  target: string,
  check: EventStreamCheck,
  contentType: string,
): GatewayError {
  const message = body === undefined ? undefined : messageIn(body);
  return new GatewayError(
    "upstream_error",
    message !== undefined
      ? `${target}: ${message}`
      : `${target}: expected ${check.expected ?? "an event stream"} but got ${contentType || "no content type"}: ${text.slice(0, 200)}`,
    { target },
  );
}

/** Characters (after a byte order mark and blank space) enough to tell how a body begins. */
const ENOUGH_TO_TELL = 8;

/**
 * The first bytes of a body as text, read and put back, so whoever reads the body next reads it from
 * its start: at least enough to tell how it begins, at most `maxBytes`. `res` is the answer to read
 * on: the same, or, when the body ended within those bytes (its 'end' is past, so nothing can be put
 * back), one whose body holds them.
 */
async function peek(res: UpstreamResponse, maxBytes: number): Promise<{ head: string; ended: boolean; res: UpstreamResponse }> {
  const body = res.body;
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = body.readableEnded;
  while (!ended && size < maxBytes && !enoughToTell(chunks, size)) {
    const chunk = body.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      size += chunk.length;
    } else ended = await readableOrEnded(body);
  }
  const bytes = Buffer.concat(chunks, size);
  const head = bytes.toString("utf8");
  if (ended) return { head, ended, res: { ...res, body: Readable.from(size > 0 ? [bytes] : []) } };
  if (size > 0) body.unshift(bytes);
  return { head, ended, res };
}

function enoughToTell(chunks: readonly Buffer[], size: number): boolean {
  if (size < ENOUGH_TO_TELL) return false;
  const start = Buffer.concat(chunks, size)
    .toString("utf8")
    .replace(/^\uFEFF?\s*/, "");
  return start.length >= ENOUGH_TO_TELL || /[\r\n]/.test(start);
}

/** Waits until `body` has more to read (false) or has ended (true); a body that fails or is closed before its end throws. */
function readableOrEnded(body: Readable): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const settle = (then: () => void) => () => {
      body.off("readable", onReadable);
      body.off("end", onEnd);
      body.off("error", onError);
      body.off("close", onClose);
      then();
    };
    const onReadable = settle(() => resolve(false));
    const onEnd = settle(() => resolve(true));
    let failure: unknown;
    const onError = (err: unknown) => {
      failure = err;
      settle(() => reject(err))();
    };
    const onClose = settle(() => reject(failure ?? new Error("the answer was closed before its end")));
    body.on("readable", onReadable);
    body.on("end", onEnd);
    body.on("error", onError);
    body.on("close", onClose);
  });
}
