/**
 * A fake Anthropic API on 127.0.0.1 that speaks the real wire format (docs "Messages", "Streaming
 * Messages", "Errors", "List Models"): POST /v1/messages streamed and not, POST
 * /v1/messages/count_tokens, GET /v1/models with after_id/limit paging, errors in Anthropic's body
 * shape with its statuses, and the header checks the real API makes (401 without x-api-key, 400
 * without anthropic-version).
 */
import { randomBytes } from "node:crypto";
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

/** Replies only this fake knows, beyond the shared FakeReply contract. */
export type AnthropicFakeReply =
  | FakeReply
  /** A 200 stream that sends these text chunks and then an `event: error` (Anthropic does this with overloaded_error). */
  | { kind: "stream_error"; chunks: string[]; errorType: string; message?: string }
  /** A raw SSE body sent as is (recorded fixtures). */
  | { kind: "sse"; body: string }
  /** Exactly this body with this status and content type (an HTML page from a proxy, a JSON error in a 200). */
  | { kind: "raw"; body: string; status?: number; contentType?: string }
  /** Sends message_start and these chunks, then keeps the connection open until the client goes away. */
  | { kind: "hang"; chunks: string[] };

export type AnthropicFakeScript = (request: RecordedRequest) => AnthropicFakeReply;

export interface FakeAnthropic extends FakeUpstream {
  script(fn: AnthropicFakeScript): void;
  /** How many streamed responses were closed by the client before they ended. */
  readonly clientAborts: number;
  /** How many TCP connections clients opened (keep-alive reuse keeps this low). */
  readonly connections: number;
}

export interface FakeAnthropicOptions {
  /** The model ids GET /v1/models reports. Default: two Claude models. */
  models?: string[];
  /** The largest page GET /v1/models returns (Anthropic: limit 1..1000, default 20). */
  maxPageSize?: number;
  /**
   * Refuse tool_use and tool_result blocks in a request without tools, as the Messages API does.
   * Default false: older tests send an Anthropic client's such history through as it came.
   */
  toolBlocksNeedTools?: boolean;
}

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const ERROR_MESSAGES: Record<string, string> = {
  invalid_request_error: "Invalid request",
  authentication_error: "invalid x-api-key",
  billing_error: "Your credit balance is too low to access the Anthropic API.",
  permission_error: "Your API key does not have permission to use the specified resource.",
  not_found_error: "Not found",
  request_too_large: "Request exceeds the maximum allowed number of bytes.",
  rate_limit_error: "Number of request tokens has exceeded your per-minute rate limit",
  api_error: "Internal server error",
  timeout_error: "Request timed out",
  overloaded_error: "Overloaded",
};

function id(prefix: string): string {
  return prefix + randomBytes(12).toString("base64url").replace(/[-_]/g, "x");
}

export function errorBody(type: string, message?: string): unknown {
  return { type: "error", error: { type, message: message ?? ERROR_MESSAGES[type] ?? type }, request_id: id("req_") };
}

/** One event of an Anthropic stream, as the Messages API writes it. */
export function anthropicFrame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function splitText(text: string, size = 4): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [""];
}

/** Echo mode (see EchoShape): an Anthropic-style error that quotes the request's x-api-key. */
export function anthropicEchoReply(shape: EchoShape, request: RecordedRequest): AnthropicFakeReply {
  const { key, sentence } = echoedCredentials(request);
  switch (shape) {
    case "json":
      return { kind: "error", status: 401, body: errorBody("authentication_error", sentence) };
    case "rate_limit":
      return {
        kind: "error",
        status: 429,
        headers: { "retry-after": "0" },
        body: errorBody("rate_limit_error", `Rate limit for key ${key}. ${sentence}`),
      };
    case "html":
      return { kind: "raw", status: 502, contentType: "text/html", body: echoHtmlPage(sentence) };
    case "stream":
      return asksForStream(request, false)
        ? { kind: "stream_error", chunks: ["Hel"], errorType: "api_error", message: sentence }
        : { kind: "raw", body: JSON.stringify(errorBody("api_error", sentence)) };
  }
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const models = options.models ?? ["claude-sonnet-4-5", "claude-haiku-4-5"];
  const maxPageSize = options.maxPageSize ?? 1000;
  const requests: RecordedRequest[] = [];
  let script: AnthropicFakeScript = () => ({ kind: "text", text: "Hello from anthropic", usage: { input: 10, output: 5 } });
  let clientAborts = 0;
  let connections = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  server.on("connection", () => connections++);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        return sendError(res, 400, errorBody("invalid_request_error", "There was an issue with the request body: invalid JSON"));
      }
    }
    const recorded: RecordedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: { ...req.headers }, body };
    requests.push(recorded);
    const url = new URL(recorded.path, "http://fake");

    if (!req.headers["x-api-key"]) {
      return sendError(res, 401, errorBody("authentication_error", "x-api-key header is required"));
    }
    if (!req.headers["anthropic-version"]) {
      return sendError(res, 400, errorBody("invalid_request_error", "anthropic-version: header is required"));
    }

    if (req.method === "GET" && url.pathname === "/v1/models") return listModels(res, url);
    if (req.method === "GET" && url.pathname.startsWith("/v1/models/")) {
      const name = decodeURIComponent(url.pathname.slice("/v1/models/".length));
      if (!models.includes(name)) return sendError(res, 404, errorBody("not_found_error", `model: ${name}`));
      return sendJson(res, 200, modelInfo(name, models.indexOf(name)));
    }
    if (req.method === "POST" && url.pathname === "/v1/messages/count_tokens") {
      return sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(text.length / 4)) });
    }
    if (req.method === "POST" && url.pathname === "/v1/messages") {
      const problem = validateMessages(body, options.toolBlocksNeedTools === true);
      if (problem) return sendError(res, 400, errorBody("invalid_request_error", problem));
      const request = body as { model: string; stream?: boolean };
      return reply(res, req, script(recorded), request.model, request.stream === true);
    }
    return sendError(res, 404, errorBody("not_found_error", "Not Found"));
  }

  function listModels(res: ServerResponse, url: URL): void {
    const limit = Math.min(maxPageSize, Number(url.searchParams.get("limit") ?? 20) || 20);
    const after = url.searchParams.get("after_id");
    const start = after === null ? 0 : models.indexOf(after) + 1;
    const page = models.slice(start, start + limit).map((m) => modelInfo(m, models.indexOf(m)));
    sendJson(res, 200, {
      data: page,
      has_more: start + limit < models.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    });
  }

  function reply(res: ServerResponse, req: IncomingMessage, r: AnthropicFakeReply, model: string, stream: boolean): void {
    switch (r.kind) {
      case "error": {
        const type = ERROR_TYPES[r.status] ?? (r.status >= 500 ? "api_error" : "invalid_request_error");
        const headers = { ...(r.status === 429 ? { "retry-after": "1" } : {}), ...r.headers };
        sendError(res, r.status, r.body ?? errorBody(type, r.message), headers);
        return;
      }
      case "text": {
        const chunks = r.chunks ?? splitText(r.text);
        const usage = r.usage ?? { input: 10, output: chunks.length };
        const stopReason = r.finish === "length" ? "max_tokens" : "end_turn";
        const signature = r.signature ?? `EqQBCgIYAh${id("sig")}`;
        if (!stream) {
          const content: unknown[] = [{ type: "text", text: r.text }];
          if (r.reasoning !== undefined) content.unshift({ type: "thinking", thinking: r.reasoning, signature });
          sendJson(res, 200, message(model, content, stopReason, usage));
          return;
        }
        startStream(res);
        res.write(anthropicMessageStart(model, usage.input));
        if (r.reasoning !== undefined) writeThinkingBlock(res, 0, splitText(r.reasoning), signature);
        writeTextBlock(res, r.reasoning !== undefined ? 1 : 0, chunks, r.reasoning === undefined);
        res.end(messageEnd(stopReason, usage.output));
        return;
      }
      case "tool_calls": {
        const calls = r.calls.map((c) => ({ ...c, id: c.id ?? id("toolu_") }));
        const usage = r.usage ?? { input: 10, output: 10 };
        if (!stream) {
          const content: unknown[] = r.text ? [{ type: "text", text: r.text }] : [];
          for (const c of calls) content.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments });
          sendJson(res, 200, message(model, content, "tool_use", usage));
          return;
        }
        startStream(res);
        res.write(anthropicMessageStart(model, usage.input));
        let index = 0;
        if (r.text) writeTextBlock(res, index++, splitText(r.text), true);
        for (const call of calls) {
          const first = index === 0;
          writeToolBlock(res, index++, call, first);
        }
        res.end(messageEnd("tool_use", usage.output));
        return;
      }
      case "broken_stream":
        startStream(res);
        res.write(anthropicMessageStart(model, 10));
        res.write(anthropicFrame("content_block_start", { index: 0, content_block: { type: "text", text: "" } }));
        for (const text of r.chunks)
          res.write(anthropicFrame("content_block_delta", { index: 0, delta: { type: "text_delta", text } }));
        // Drop the connection mid-body: the chunked encoding never gets its last chunk.
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      case "stream_error":
        startStream(res);
        res.write(anthropicMessageStart(model, 10));
        if (r.chunks.length > 0) writeTextBlock(res, 0, r.chunks, true, false);
        res.end(`event: error\ndata: ${JSON.stringify(errorBody(r.errorType, r.message))}\n\n`);
        return;
      case "sse":
        startStream(res);
        res.end(r.body);
        return;
      case "raw":
        res.writeHead(r.status ?? 200, { "content-type": r.contentType ?? "application/json" });
        res.end(r.body);
        return;
      case "hang":
      case "stall":
        startStream(res);
        res.write(anthropicMessageStart(model, 10));
        writeTextBlock(res, 0, r.chunks, true, false);
        req.socket.once("close", () => {
          if (!res.writableEnded) clientAborts++;
        });
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    models,
    get clientAborts() {
      return clientAborts;
    },
    get connections() {
      return connections;
    },
    script(fn: AnthropicFakeScript) {
      script = fn;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function validateMessages(body: unknown, toolBlocksNeedTools: boolean): string | undefined {
  if (typeof body !== "object" || body === null) return "body: Input should be an object";
  const b = body as Record<string, unknown>;
  if (typeof b.model !== "string") return "model: Field required";
  if (typeof b.max_tokens !== "number") return "max_tokens: Field required";
  if (!Array.isArray(b.messages)) return "messages: Field required";
  if (toolBlocksNeedTools && !(Array.isArray(b.tools) && b.tools.length > 0) && hasToolBlocks(b.messages)) {
    // The Messages API's own words (anthropics/anthropic-sdk-python#494); OpenAI's APIs take such a history.
    return "Requests which include `tool_use` or `tool_result` blocks must define tools.";
  }
  return undefined;
}

function hasToolBlocks(messages: unknown[]): boolean {
  return messages.some((message) => {
    const content = (message as { content?: unknown } | null)?.content;
    return (
      Array.isArray(content) &&
      content.some((block) => {
        const type = (block as { type?: unknown } | null)?.type;
        return type === "tool_use" || type === "tool_result";
      })
    );
  });
}

function modelInfo(name: string, position: number) {
  const created = new Date(Date.UTC(2025, 0, 1 + position)).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { type: "model", id: name, display_name: name, created_at: created, max_input_tokens: 200000 };
}

function message(model: string, content: unknown[], stopReason: string, usage: { input: number; output: number }) {
  return {
    id: id("msg_"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: usage.input,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: usage.output,
      service_tier: "standard",
    },
  };
}

function startStream(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": id("req_"),
  });
}

/** An Anthropic stream's `message_start` (cache counters 0, one output token so far). */
export function anthropicMessageStart(model: string, inputTokens: number): string {
  return anthropicFrame("message_start", {
    message: {
      id: id("msg_"),
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
    },
  });
}

/** A text block; the first block of a message is followed by a ping, as in Anthropic's own streams. */
function writeTextBlock(res: ServerResponse, index: number, chunks: string[], first: boolean, stop = true): void {
  res.write(anthropicFrame("content_block_start", { index, content_block: { type: "text", text: "" } }));
  if (first) res.write(anthropicFrame("ping", {}));
  for (const text of chunks) res.write(anthropicFrame("content_block_delta", { index, delta: { type: "text_delta", text } }));
  if (stop) res.write(anthropicFrame("content_block_stop", { index }));
}

/** A thinking block as Anthropic streams it: `signature: ""` at the start, thinking_delta pieces, one signature_delta. */
function writeThinkingBlock(res: ServerResponse, index: number, chunks: string[], signature: string): void {
  res.write(anthropicFrame("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } }));
  res.write(anthropicFrame("ping", {}));
  for (const thinking of chunks)
    res.write(anthropicFrame("content_block_delta", { index, delta: { type: "thinking_delta", thinking } }));
  res.write(anthropicFrame("content_block_delta", { index, delta: { type: "signature_delta", signature } }));
  res.write(anthropicFrame("content_block_stop", { index }));
}

/** A tool_use block whose input arrives as several input_json_delta pieces, the first one empty. */
function writeToolBlock(
  res: ServerResponse,
  index: number,
  call: Required<Pick<FakeToolCall, "id">> & FakeToolCall,
  first: boolean,
) {
  res.write(
    anthropicFrame("content_block_start", {
      index,
      content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
    }),
  );
  if (first) res.write(anthropicFrame("ping", {}));
  const json = JSON.stringify(call.arguments);
  for (const partial_json of ["", ...splitText(json, 7)]) {
    res.write(anthropicFrame("content_block_delta", { index, delta: { type: "input_json_delta", partial_json } }));
  }
  res.write(anthropicFrame("content_block_stop", { index }));
}

function messageEnd(stopReason: string, outputTokens: number): string {
  return (
    anthropicFrame("message_delta", {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: outputTokens },
    }) + anthropicFrame("message_stop", {})
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "request-id": id("req_"),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, { ...(status === 529 ? { "x-should-retry": "true" } : {}), ...headers });
}
