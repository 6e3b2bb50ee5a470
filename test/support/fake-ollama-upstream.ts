/**
 * A fake Ollama server on 127.0.0.1 that speaks Ollama's real wire (docs/api.md, api/types.go):
 * /api/chat as an NDJSON stream (the default) or one JSON object with `stream:false`, tool calls
 * sent whole with object arguments and `call_…` ids (as Ollama >= 0.12.10 does), durations in
 * nanoseconds on the final object, /api/embed, the legacy /api/embeddings, /api/tags, /api/show, /api/version, and errors as Ollama sends
 * them: `{"error": "..."}` with a status, or an error line inside a 200 stream. Asked `logprobs`
 * (Ollama 0.12.11+), each text line carries its token's, and a whole answer all of them.
 * /api/generate answers the same script as /api/chat, in generate's shape (`response` and a
 * top-level `thinking` in place of `message`; the final line with `context`). A load request (no
 * messages, no prompt) is answered `done_reason` load, or unload with `keep_alive` 0, as Ollama does.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fakeLogprobs } from "./fake-openai-upstream.js";
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

/** Replies only this fake understands, beyond the shared FakeReply kinds. */
export type FakeOllamaReply =
  | FakeReply
  /** A 200 stream that sends these text chunks, then `{"error": message}` as its last line (Ollama's mid-stream failure). */
  | { kind: "stream_error"; chunks: string[]; message: string }
  /** Exactly this body (a recorded fixture, malformed NDJSON, a stream without `done`...). */
  | { kind: "raw"; body: string; status?: number; contentType?: string };

export type FakeOllamaScript = (request: RecordedRequest) => FakeOllamaReply;

export interface FakeOllamaUpstream extends FakeUpstream {
  script(fn: FakeOllamaScript): void;
}

export interface FakeOllamaOptions {
  /** Model names /api/tags lists and /api/chat, /api/embed accept. Default: llama3.2:latest, nomic-embed-text:latest. */
  models?: string[];
  /** What /api/tags answers, exactly (an older or odder server's entries), in place of the models' own. */
  tags?: unknown[];
}

export const FAKE_OLLAMA_VERSION = "0.12.10";

/** Ollama's own wording for common statuses, used when a scripted error gives no message. */
const DEFAULT_ERRORS: Record<number, string> = {
  400: "invalid request",
  401: "unauthorized",
  403: "forbidden",
  404: "model not found",
  429: "too many requests, please try again later",
  500: "an error was encountered while running the model",
  502: "bad gateway",
  503: "server busy, please try again.  maximum pending requests exceeded",
};

const DURATIONS = {
  total_duration: 4883583458,
  load_duration: 1334875,
  prompt_eval_duration: 342546000,
  eval_duration: 4535599000,
};

/** Echo mode (see EchoShape): an Ollama-style `{"error"}` that quotes the request's Authorization header. */
export function ollamaEchoReply(shape: EchoShape, request: RecordedRequest): FakeOllamaReply {
  const { key, sentence } = echoedCredentials(request);
  switch (shape) {
    case "json":
      return { kind: "error", status: 401, body: { error: `unauthorized: ${sentence}` } };
    case "rate_limit":
      return {
        kind: "error",
        status: 429,
        headers: { "retry-after": "0" },
        body: { error: `too many requests for ${key}. ${sentence}` },
      };
    case "html":
      return { kind: "raw", status: 502, contentType: "text/html", body: echoHtmlPage(sentence) };
    case "stream":
      return asksForStream(request, true)
        ? { kind: "stream_error", chunks: ["Hel"], message: sentence }
        : { kind: "raw", contentType: "application/json", body: JSON.stringify({ error: sentence }) };
  }
}

export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeOllamaUpstream> {
  const models = options.models ?? ["llama3.2:latest", "nomic-embed-text:latest"];
  const requests: RecordedRequest[] = [];
  let script: FakeOllamaScript = () => ({ kind: "text", text: "Hello from ollama", usage: { input: 12, output: 4 } });

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(err) });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    let body: unknown;
    let badJson = false;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
        badJson = true;
      }
    }
    const path = req.url ?? "/";
    const recorded: RecordedRequest = { method: req.method ?? "GET", path, headers: { ...req.headers }, body };
    requests.push(recorded);
    const route = `${req.method} ${path.split("?")[0]}`;

    if (route === "GET /api/version") return sendJson(res, 200, { version: FAKE_OLLAMA_VERSION });
    if (route === "GET /api/tags") return sendJson(res, 200, { models: options.tags ?? models.map(fakeOllamaTagsEntry) });
    if (
      route !== "POST /api/chat" &&
      route !== "POST /api/generate" &&
      route !== "POST /api/embed" &&
      route !== "POST /api/embeddings" &&
      route !== "POST /api/show"
    ) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found");
      return;
    }
    if (badJson || typeof body !== "object" || body === null) {
      return sendJson(res, 400, { error: "invalid character 'x' looking for beginning of value" });
    }
    const request = body as {
      model?: unknown;
      stream?: unknown;
      input?: unknown;
      dimensions?: unknown;
      logprobs?: unknown;
      top_logprobs?: unknown;
    };
    if (typeof request.model !== "string" || request.model === "") return sendJson(res, 400, { error: "model is required" });
    const model = withTag(request.model);
    if (!models.some((m) => withTag(m) === model)) {
      return sendJson(res, 404, { error: `model "${request.model}" not found, try pulling it first` });
    }
    if (route === "POST /api/show") return sendJson(res, 200, showEntry(model));
    if (route === "POST /api/embed") return embed(res, request.model, request.input, request.dimensions);
    if (route === "POST /api/embeddings")
      return sendJson(res, 200, { embedding: legacyEmbedding((body as { prompt?: unknown }).prompt) });
    // As Ollama 0.12.11+: asked for logprobs, each line carries its tokens' (here one token per text chunk).
    const logprobs =
      request.logprobs === true ? { top: typeof request.top_logprobs === "number" ? request.top_logprobs : 0 } : undefined;
    if (route === "POST /api/generate") GENERATE.add(res);
    const load = loadReply(route, body as Record<string, unknown>);
    if (load) return sendJson(res, 200, { model: request.model, created_at: new Date().toISOString(), ...load });
    await chat(res, request.model, request.stream !== false, script(recorded), logprobs);
  }

  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        models,
        script(fn) {
          script = fn;
        },
        close() {
          server.closeAllConnections();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}

async function chat(
  res: ServerResponse,
  model: string,
  stream: boolean,
  reply: FakeOllamaReply,
  logprobs?: { top: number },
): Promise<void> {
  const base = () => ({ model, created_at: new Date().toISOString() });
  const final = (usage: { input: number; output: number } | undefined, doneReason: string, outputFallback: number) => ({
    done_reason: doneReason,
    done: true,
    total_duration: DURATIONS.total_duration,
    load_duration: DURATIONS.load_duration,
    prompt_eval_count: usage?.input ?? 12,
    prompt_eval_duration: DURATIONS.prompt_eval_duration,
    eval_count: usage?.output ?? outputFallback,
    eval_duration: DURATIONS.eval_duration,
  });

  switch (reply.kind) {
    case "error": {
      const body = reply.body ?? { error: reply.message ?? DEFAULT_ERRORS[reply.status] ?? "an error occurred" };
      return sendJson(res, reply.status, body, reply.headers);
    }
    case "raw":
      res.writeHead(reply.status ?? 200, { "content-type": reply.contentType ?? "application/x-ndjson" });
      res.end(reply.body);
      return;
    case "text": {
      const chunks = reply.chunks ?? splitText(reply.text);
      const doneReason = reply.finish ?? "stop";
      if (!stream) {
        return sendJson(res, 200, {
          ...base(),
          message: {
            role: "assistant",
            content: reply.text,
            ...(reply.reasoning !== undefined && { thinking: reply.reasoning }),
          },
          ...(logprobs && { logprobs: fakeLogprobs(chunks, logprobs.top) }),
          ...final(reply.usage, doneReason, chunks.length),
        });
      }
      startStream(res);
      // As Ollama streams a thinking model asked `think`: thinking lines (content "") before the answer.
      for (const thinking of reply.reasoning !== undefined ? splitText(reply.reasoning) : [])
        await writeLine(res, { ...base(), message: { role: "assistant", content: "", thinking }, done: false });
      for (const [i, chunk] of chunks.entries())
        await writeLine(res, {
          ...base(),
          message: { role: "assistant", content: chunk },
          ...(logprobs && { logprobs: fakeLogprobs([chunk], logprobs.top, i) }),
          done: false,
        });
      await writeLine(res, {
        ...base(),
        message: { role: "assistant", content: "" },
        ...final(reply.usage, doneReason, chunks.length),
      });
      res.end();
      return;
    }
    case "tool_calls": {
      const calls = reply.calls.map(wireToolCall);
      if (!stream) {
        return sendJson(res, 200, {
          ...base(),
          message: { role: "assistant", content: reply.text ?? "", tool_calls: calls },
          ...final(reply.usage, "stop", calls.length * 10),
        });
      }
      startStream(res);
      for (const chunk of reply.text ? splitText(reply.text) : []) {
        await writeLine(res, { ...base(), message: { role: "assistant", content: chunk }, done: false });
      }
      // Ollama emits each tool call whole, as soon as its parser has read it.
      for (const call of calls) {
        await writeLine(res, { ...base(), message: { role: "assistant", content: "", tool_calls: [call] }, done: false });
      }
      await writeLine(res, {
        ...base(),
        message: { role: "assistant", content: "" },
        ...final(reply.usage, "stop", calls.length * 10),
      });
      res.end();
      return;
    }
    case "stream_error":
      startStream(res);
      for (const chunk of reply.chunks)
        await writeLine(res, { ...base(), message: { role: "assistant", content: chunk }, done: false });
      await writeLine(res, { error: reply.message });
      res.end();
      return;
    case "stall":
      startStream(res);
      for (const chunk of reply.chunks)
        await writeLine(res, { ...base(), message: { role: "assistant", content: chunk }, done: false });
      return;
    case "broken_stream":
      startStream(res);
      for (const chunk of reply.chunks)
        await writeLine(res, { ...base(), message: { role: "assistant", content: chunk }, done: false });
      res.socket?.destroy();
      return;
  }
}

function embed(res: ServerResponse, model: string, input: unknown, dimensions: unknown): void {
  const texts = typeof input === "string" ? [input] : input;
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) {
    sendJson(res, 400, { error: "invalid input type" });
    return;
  }
  const size = typeof dimensions === "number" && dimensions > 0 ? dimensions : 8;
  sendJson(res, 200, {
    model,
    embeddings: (texts as string[]).map((t) => fakeEmbedding(t, size)),
    total_duration: 14143917,
    load_duration: 1019500,
    prompt_eval_count: (texts as string[]).reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0),
  });
}

/**
 * The legacy /api/embeddings vector, as Ollama answers it: the model's own, not scaled to unit length
 * (here the unit vector of /api/embed, three times as long); none for an empty prompt (a load).
 */
export function legacyEmbedding(prompt: unknown): number[] {
  if (typeof prompt !== "string" || prompt === "") return [];
  return fakeEmbedding(prompt).map((v) => v * 3);
}

/**
 * Ollama's answer to a load request (routes.go): /api/chat with no messages, /api/generate with no
 * prompt, loads the model; with `keep_alive` 0 it unloads it. Undefined for any other request.
 */
function loadReply(route: string, body: Record<string, unknown>): Record<string, unknown> | undefined {
  const empty =
    route === "POST /api/chat"
      ? !Array.isArray(body.messages) || body.messages.length === 0
      : route === "POST /api/generate" && !body.prompt && !(Array.isArray(body.images) && body.images.length > 0);
  if (!empty) return undefined;
  const unload = body.keep_alive === 0 || body.keep_alive === "0" || body.keep_alive === "0s";
  const done = { done_reason: unload ? "unload" : "load", done: true };
  return route === "POST /api/chat" ? { message: { role: "assistant", content: "" }, ...done } : { response: "", ...done };
}

/** A deterministic unit vector for a text, so tests can compare embeddings. */
export function fakeEmbedding(text: string, size = 8): number[] {
  const digest = createHash("sha256").update(text).digest();
  const raw = Array.from({ length: size }, (_, i) => (digest[i % digest.length] as number) / 127.5 - 1);
  const norm = Math.hypot(...raw) || 1;
  return raw.map((v) => v / norm);
}

function wireToolCall(call: FakeToolCall, index: number) {
  return {
    id: call.id ?? `call_${randomBytes(6).toString("hex").slice(0, 8)}`,
    function: { index, name: call.name, arguments: call.arguments },
  };
}

/** A model's /api/tags entry, as this fake lists it (its size, digest, date and details are its own, not tandem's). */
export function fakeOllamaTagsEntry(name: string) {
  return {
    name,
    model: name,
    modified_at: "2025-10-17T23:14:07.414671Z",
    size: 2019393189,
    digest: createHash("sha256").update(name).digest("hex"),
    details: {
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "3.2B",
      quantization_level: "Q4_K_M",
    },
  };
}

/** A model's /api/show, as Ollama answers it for a vision model that thinks. */
export function showEntry(name: string) {
  return {
    license: "",
    modelfile: `FROM ${name}\n`,
    parameters: "",
    template: "{{ .Prompt }}",
    details: fakeOllamaTagsEntry(name).details,
    model_info: { "general.architecture": "llama", "llama.context_length": 131072 },
    capabilities: ["completion", "tools", "thinking", "vision"],
    modified_at: "2025-10-17T23:14:07.414671Z",
  };
}

/** Ollama names without a tag mean `:latest`. */
function withTag(name: string): string {
  return name.includes(":") ? name : `${name}:latest`;
}

function splitText(text: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 4) chunks.push(text.slice(i, i + 4));
  return chunks.length > 0 ? chunks : [""];
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
}

/** The answers to /api/generate: their lines are written in generate's shape (see generateShape). */
const GENERATE = new WeakSet<ServerResponse>();

/** An /api/chat line as /api/generate writes it: `response` and `thinking` for `message`, `context` on the final line. */
function generateShape(value: unknown): unknown {
  if (typeof value !== "object" || value === null || !("message" in value)) return value;
  const { message, ...rest } = value as { message: { content?: string; thinking?: string }; done?: boolean };
  return {
    ...rest,
    response: message.content ?? "",
    ...(message.thinking !== undefined && { thinking: message.thinking }),
    ...(rest.done === true && { context: [1, 2, 3] }),
  };
}

function writeLine(res: ServerResponse, value: unknown): Promise<void> {
  const line = GENERATE.has(res) ? generateShape(value) : value;
  return new Promise((resolve) => {
    res.write(JSON.stringify(line) + "\n", () => resolve());
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(GENERATE.has(res) && status === 200 ? generateShape(body) : body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
