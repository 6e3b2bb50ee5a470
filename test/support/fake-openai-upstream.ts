/**
 * A fake OpenAI API on 127.0.0.1 that speaks the real wire format: chat completions (streamed as
 * `chat.completion.chunk` SSE frames with the usage chunk and `[DONE]`, or one `chat.completion`;
 * with `logprobs: true`, each text chunk's tokens' log probabilities, see fakeLogprobs),
 * embeddings (float or base64), the model list, and OpenAI's error bodies (fixtures/openai/errors.json)
 * with Retry-After on 429. Every request is recorded.
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  asksForStream,
  type EchoShape,
  echoedCredentials,
  echoHtmlPage,
  type FakeReply,
  type FakeToolCall,
  type FakeUpstream,
  type RecordedRequest,
} from "./fake-upstream.js";

export interface FakeOpenAIOptions {
  /** Model ids the fake serves; a request naming another gets OpenAI's 404 `model_not_found`. Default `["gpt-4o-mini", "text-embedding-3-small"]`. */
  models?: string[];
  /** When set, every request must carry `Authorization: Bearer <apiKey>` or gets OpenAI's 401. Default: no check. */
  apiKey?: string;
  /** Embedding length when the request has no `dimensions`. Default 8. */
  embeddingDimensions?: number;
  /** The model list answers OpenAI's 500, so tandem cannot read it and passes model names as given. Default false. */
  listFails?: boolean;
}

/** Byte-level control for what FakeReply cannot express (malformed chunks, wrong content types, hangs). */
export interface FakeOpenAIRawReply {
  kind: "raw";
  /** Default 200. */
  status?: number;
  /** Default `content-type: text/event-stream`. */
  headers?: Record<string, string>;
  /** Written in order, each as its own write. */
  body: string[];
  /** `close` ends the response; `destroy` drops the socket; `hang` keeps it open until the client leaves. Default `close`. */
  end?: "close" | "destroy" | "hang";
}

export type FakeOpenAIScript = (request: RecordedRequest) => FakeReply | FakeOpenAIRawReply;

export interface FakeOpenAIUpstream extends FakeUpstream {
  /** Replaces the script that answers chat (and, for errors and raw replies, embeddings) requests. */
  script(fn: FakeOpenAIScript): void;
}

const FIXTURES = new URL("../fixtures/openai/", import.meta.url);
const ERROR_BODIES = JSON.parse(readFileSync(new URL("errors.json", FIXTURES), "utf8")) as Record<string, unknown>;

/** The SSE payload lines of a `*.chunks.txt` fixture. */
export function readChunkFixture(name: string): string[] {
  return readFileSync(new URL(name, FIXTURES), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** Payload lines -> `data: <line>\n\n` frames, as OpenAI writes them. */
export function sseFrames(lines: readonly string[]): string[] {
  return lines.map((line) => `data: ${line}\n\n`);
}

/** One token's entry in a choice's `logprobs.content`, as chat completions sends it. */
export interface WireTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

/**
 * The log probabilities the fake reports for an answer's text, as chat completions sends them in
 * `choices[].logprobs.content`: each stream piece is one token (the whole answer: one per piece, in
 * order), its logprob -0.25 per position, and `top` alternatives (the token itself first, then
 * `alt1`, `alt2`... each one less likely).
 */
export function fakeLogprobs(pieces: readonly string[], top: number, from = 0): WireTokenLogprob[] {
  const bytes = (token: string) => [...Buffer.from(token, "utf8")];
  return pieces.map((token, i) => {
    const logprob = -0.25 * (from + i + 1);
    const top_logprobs = Array.from({ length: top }, (_, k) => {
      const alternative = k === 0 ? token : `alt${k}`;
      return { token: alternative, logprob: logprob - k, bytes: bytes(alternative) };
    });
    return { token, logprob, bytes: bytes(token), top_logprobs };
  });
}

/** The deterministic vector the fake returns for `text`, exactly representable as float32. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  let state = 2166136261;
  for (let i = 0; i < text.length; i++) state = Math.imul(state ^ text.charCodeAt(i), 16777619) >>> 0;
  const vector: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    vector.push(Math.fround(state / 2 ** 31 - 1));
  }
  return vector;
}

/** A realistic OpenAI error body for a status, with an optional message of our own. */
export function openAIErrorBody(status: number, message?: string): { error: Record<string, unknown> } {
  const template = (ERROR_BODIES[String(status)] as { error: Record<string, unknown> } | undefined) ?? {
    error: { message: `HTTP ${status}`, type: status >= 500 ? "server_error" : "invalid_request_error", param: null, code: null },
  };
  return { error: { ...template.error, ...(message !== undefined && { message }) } };
}

/** Echo mode (see EchoShape): an OpenAI-style error that quotes the request's key and Authorization header. */
export function openAIEchoReply(shape: EchoShape, request: RecordedRequest): FakeReply | FakeOpenAIRawReply {
  const { key, sentence } = echoedCredentials(request);
  switch (shape) {
    case "json":
      return {
        kind: "error",
        status: 401,
        body: { error: { message: sentence, type: "invalid_request_error", param: null, code: "invalid_api_key" } },
      };
    case "rate_limit":
      return {
        kind: "error",
        status: 429,
        headers: { "retry-after": "0" },
        body: {
          error: {
            message: `Rate limit reached for key ${key}. ${sentence}`,
            type: "requests",
            param: null,
            code: "rate_limit_exceeded",
          },
        },
      };
    case "html":
      return {
        kind: "raw",
        status: 502,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: [echoHtmlPage(sentence)],
      };
    case "stream": {
      const error = { error: { message: sentence, type: "server_error", param: null, code: null } };
      if (!asksForStream(request, false)) {
        return { kind: "raw", headers: { "content-type": "application/json" }, body: [JSON.stringify(error)] };
      }
      const first = {
        id: "chatcmpl-echo",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }],
      };
      return { kind: "raw", body: sseFrames([JSON.stringify(first), JSON.stringify(error)]) };
    }
  }
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIUpstream> {
  const models = options.models ?? ["gpt-4o-mini", "text-embedding-3-small"];
  const requests: RecordedRequest[] = [];
  let script: FakeOpenAIScript = () => ({ kind: "text", text: "Hello from openai" });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIErrorBody(500, `fake upstream failed: ${String(err)}`));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url ?? "/";
    let body: unknown;
    let badJson = false;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        badJson = true;
      }
    }
    const recorded: RecordedRequest = { method: req.method ?? "GET", path, headers: { ...req.headers }, body };
    requests.push(recorded);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, openAIErrorBody(401));
    }
    if (badJson) {
      return sendJson(res, 400, {
        error: {
          message:
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }
    const route = `${recorded.method} ${path.split("?")[0]}`;
    if (route === "GET /v1/models") {
      if (options.listFails) return sendJson(res, 500, openAIErrorBody(500));
      return sendJson(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 1686935002, owned_by: "openai" })),
      });
    }
    if (route !== "POST /v1/chat/completions" && route !== "POST /v1/embeddings") {
      return sendJson(res, 404, {
        error: { message: `Invalid URL (${route})`, type: "invalid_request_error", param: null, code: null },
      });
    }
    const model = (body as { model?: unknown } | undefined)?.model;
    if (typeof model !== "string" || !models.includes(model)) {
      return sendJson(
        res,
        404,
        openAIErrorBody(404, `The model \`${String(model)}\` does not exist or you do not have access to it.`),
      );
    }
    const reply = script(recorded);
    if (route === "POST /v1/embeddings") {
      if (reply.kind === "error" || reply.kind === "raw" || reply.kind === "broken_stream")
        return send(res, chatAnswer(recorded, reply));
      return send(res, embeddingsAnswer(body as Record<string, unknown>));
    }
    return send(res, chatAnswer(recorded, reply));
  }

  function embeddingsAnswer(body: Record<string, unknown>): Answer {
    const input = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((item) => typeof item === "string")) {
      return json(400, {
        error: {
          message: "'$.input' is invalid. Please check the API reference.",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      });
    }
    const dimensions = typeof body.dimensions === "number" ? body.dimensions : (options.embeddingDimensions ?? 8);
    // As OpenAI's text-embedding-3 models do: at most 3072 (a test's huge value must not make the fake build it).
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 3072) {
      return json(400, {
        error: {
          message: `Invalid value for 'dimensions' = ${dimensions}.`,
          type: "invalid_request_error",
          param: "dimensions",
          code: null,
        },
      });
    }
    const base64 = body.encoding_format === "base64";
    let tokens = 0;
    const data = (input as string[]).map((text, index) => {
      tokens += Math.max(1, Math.ceil(text.length / 4));
      const vector = fakeEmbedding(text, dimensions);
      return { object: "embedding", index, embedding: base64 ? float32Base64(vector) : vector };
    });
    return json(200, { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    models,
    script(fn: FakeOpenAIScript) {
      script = fn;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function chatAnswer(request: RecordedRequest, reply: FakeReply | FakeOpenAIRawReply): Answer {
  const body = (request.body ?? {}) as {
    model?: string;
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
    logprobs?: boolean;
    top_logprobs?: number;
  };
  const model = body.model ?? "gpt-4o-mini";
  const stream = body.stream === true;
  const includeUsage = body.stream_options?.include_usage === true;
  // As api.openai.com: null unless asked for, then `{content, refusal}` with the text's tokens.
  const top = body.top_logprobs ?? 0;
  const logprobs = (pieces: readonly string[], from = 0) =>
    body.logprobs === true ? { content: fakeLogprobs(pieces, top, from), refusal: null } : null;
  switch (reply.kind) {
    case "error": {
      const headers: Record<string, string> = { ...(reply.status === 429 && { "retry-after": "1" }), ...reply.headers };
      return json(reply.status, reply.body ?? openAIErrorBody(reply.status, reply.message), headers);
    }
    case "raw":
      return reply;
    case "broken_stream": {
      const chunk = new ChunkWriter(model, false);
      return {
        kind: "raw",
        body: stream
          ? [
              chunk.delta({ role: "assistant", content: "", refusal: null }),
              ...reply.chunks.map((text) => chunk.delta({ content: text })),
            ]
          : [
              `{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"${reply.chunks.join("")}`,
            ],
        headers: { "content-type": stream ? "text/event-stream" : "application/json" },
        end: "destroy",
      };
    }
    case "stall": {
      const chunk = new ChunkWriter(model, false);
      return {
        kind: "raw",
        body: [
          chunk.delta({ role: "assistant", content: "", refusal: null }),
          ...reply.chunks.map((text) => chunk.delta({ content: text })),
        ],
        end: "hang",
      };
    }
    case "text": {
      const pieces = reply.chunks ?? splitText(reply.text, 4);
      const usage = reply.usage ?? { input: 10, output: pieces.length };
      const finish = reply.finish ?? "stop";
      if (!stream) return json(200, completion(model, reply.text, [], finish, usage, reply.reasoning, logprobs(pieces)));
      const chunk = new ChunkWriter(model, includeUsage);
      // As DeepSeek streams it: the reasoning first, with content null, then the answer.
      const frames = reply.reasoning
        ? splitText(reply.reasoning, 4).map((piece, i) =>
            chunk.delta(
              i === 0
                ? { role: "assistant", content: null, reasoning_content: piece }
                : { content: null, reasoning_content: piece },
            ),
          )
        : [chunk.delta({ role: "assistant", content: "", refusal: null }, null, logprobs([]))];
      pieces.forEach((piece, i) => {
        frames.push(chunk.delta({ content: piece }, null, logprobs([piece], i)));
      });
      frames.push(...chunk.finish(finish, usage), "data: [DONE]\n\n");
      return { kind: "raw", body: frames };
    }
    case "tool_calls": {
      const calls = reply.calls.map((call, i) => withId(call, i));
      const usage = reply.usage ?? { input: 10, output: 10 };
      if (!stream) return json(200, completion(model, reply.text ?? null, calls, "tool_calls", usage, reply.reasoning));
      const chunk = new ChunkWriter(model, includeUsage);
      const frames: string[] = [];
      // As DeepSeek streams it: the reasoning first, with content null.
      for (const piece of splitText(reply.reasoning ?? "", 4))
        frames.push(
          chunk.delta(
            frames.length === 0 ? { role: "assistant", content: null, reasoning_content: piece } : { reasoning_content: piece },
          ),
        );
      if (reply.text) {
        frames.push(chunk.delta({ role: "assistant", content: "", refusal: null }));
        for (const piece of splitText(reply.text, 4)) frames.push(chunk.delta({ content: piece }));
      }
      calls.forEach((call, index) => {
        const head = { index, id: call.id, type: "function", function: { name: call.name, arguments: "" } };
        frames.push(
          frames.length === 0
            ? chunk.delta({ role: "assistant", content: null, tool_calls: [head], refusal: null })
            : chunk.delta({ tool_calls: [head] }),
        );
        for (const piece of splitText(JSON.stringify(call.arguments), 8)) {
          frames.push(chunk.delta({ tool_calls: [{ index, function: { arguments: piece } }] }));
        }
      });
      frames.push(...chunk.finish("tool_calls", usage), "data: [DONE]\n\n");
      return { kind: "raw", body: frames };
    }
  }
}

/** Builds chunks the way api.openai.com does: one id/created per stream, `usage: null` on every chunk when include_usage. */
class ChunkWriter {
  readonly #id = `chatcmpl-${randomTail()}`;
  readonly #created = Math.floor(Date.now() / 1000);
  constructor(
    readonly model: string,
    readonly includeUsage: boolean,
  ) {}

  delta(delta: Record<string, unknown>, finishReason: string | null = null, logprobs: unknown = null): string {
    return this.#frame([{ index: 0, delta, logprobs, finish_reason: finishReason }]);
  }

  finish(reason: string, usage: { input: number; output: number }): string[] {
    const frames = [this.delta({}, reason)];
    if (this.includeUsage) frames.push(this.#frame([], wireUsage(usage)));
    return frames;
  }

  #frame(choices: unknown[], usage: unknown = null): string {
    const chunk = {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.model,
      service_tier: "default",
      system_fingerprint: "fp_fake0openai",
      choices,
      ...(this.includeUsage && { usage }),
    };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}

function completion(
  model: string,
  text: string | null,
  calls: Required<FakeToolCall>[],
  finish: string,
  usage: { input: number; output: number },
  reasoning?: string,
  logprobs: unknown = null,
): unknown {
  return {
    id: `chatcmpl-${randomTail()}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text,
          ...(reasoning !== undefined && { reasoning_content: reasoning }),
          refusal: null,
          annotations: [],
          ...(calls.length > 0 && {
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: "function",
              function: { name: call.name, arguments: JSON.stringify(call.arguments) },
            })),
          }),
        },
        logprobs,
        finish_reason: finish,
      },
    ],
    usage: wireUsage(usage),
    service_tier: "default",
    system_fingerprint: "fp_fake0openai",
  };
}

function wireUsage(usage: { input: number; output: number }): unknown {
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function withId(call: FakeToolCall, i: number): Required<FakeToolCall> {
  return { id: call.id ?? `call_${randomTail()}${i}`, name: call.name, arguments: call.arguments };
}

function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function randomTail(): string {
  return Math.random().toString(36).slice(2, 14).padEnd(12, "0");
}

function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString("base64");
}

/** What to answer: a JSON body, or raw pieces of a body. */
type Answer = { kind: "json"; status: number; body: unknown; headers: Record<string, string> } | FakeOpenAIRawReply;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { kind: "json", status, body, headers };
}

function send(res: ServerResponse, answer: Answer): void {
  if (answer.kind === "json") sendJson(res, answer.status, answer.body, answer.headers);
  else sendRaw(res, answer);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendRaw(res: ServerResponse, reply: FakeOpenAIRawReply): void {
  res.writeHead(reply.status ?? 200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...reply.headers });
  res.flushHeaders();
  const pieces = [...reply.body];
  const writeNext = (): void => {
    const piece = pieces.shift();
    if (piece !== undefined) {
      // One piece at a time, each flushed before the next, as they would arrive from the network.
      res.write(piece, () => setImmediate(writeNext));
      return;
    }
    if (reply.end === "destroy") res.socket?.destroy();
    else if (reply.end !== "hang") res.end();
  };
  writeNext();
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
