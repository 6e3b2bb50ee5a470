/**
 * A fake OpenAI Responses API on 127.0.0.1 that speaks the real wire format (API reference
 * "Responses", "Streaming events"; the openai SDK's `ResponseStreamEvent` types): POST /v1/responses
 * streamed as `event: <type>` + `data: <json>` frames with `sequence_number` from 0
 * (`response.created`, `response.in_progress`, per reasoning item `output_item.added`,
 * `reasoning_summary_part.added`, `reasoning_summary_text.delta`/`.done`,
 * `reasoning_summary_part.done`, `output_item.done`; per message `output_item.added`,
 * `content_part.added`, `output_text.delta`/`.done`, `content_part.done`, `output_item.done`; per
 * function call `output_item.added`, `function_call_arguments.delta`/`.done`, `output_item.done`;
 * then `response.completed`), or one Response object; the model list; OpenAI's error bodies. Like
 * the real API with `store: false`, it keeps nothing: a `previous_response_id` is a 400, and
 * reasoning items come back with `encrypted_content` only when `include` asks for it, and the text's
 * token logprobs (each streamed piece one token, see fakeLogprobs) only when it asks for
 * `message.output_text.logprobs`. Every request is recorded.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fakeLogprobs } from "./fake-openai-upstream.js";
import type { RecordedRequest } from "./fake-upstream.js";

export interface FakeResponsesAnswer {
  kind: "answer";
  /** A reasoning item first: its summary text (streamed in pieces), sealed as `encrypted_content` when asked. */
  reasoning?: string;
  /** The answer's text (one message item), streamed in pieces of about 4 characters. */
  text?: string;
  calls?: { name: string; arguments: string }[];
  usage?: { input: number; output: number; cached: number; reasoning: number };
  /**
   * Streamed answers wait for this after their first text delta (a test's proof that tandem passes
   * each event on as it comes rather than holding the answer).
   */
  gate?: Promise<void>;
  /**
   * Streamed answers write each event on its own, this many ms apart (a model writing its tokens at a
   * pace, so two answers at once interleave). Default: every event at once.
   */
  paceMs?: number;
  /** Streamed answers drop the connection after their first text delta (a broken stream). */
  breakAfterFirstDelta?: boolean;
  /** The Response's `access_programs` (openai-node 7); left out when not given, as an older upstream does. */
  accessPrograms?: Record<string, unknown> | null;
}

export type FakeResponsesReply =
  | FakeResponsesAnswer
  /** An HTTP error in OpenAI's body shape (`param` and `code` null unless given). */
  | { kind: "error"; status: number; message?: string; param?: string; code?: string }
  /** `response.created`, then a `response.failed` with this error code. */
  | { kind: "failed"; code: string; message: string };

export interface FakeResponsesUpstream {
  /** The base URL for a provider's config (ends in /v1). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Bodies of POST /v1/responses, in order. */
  readonly responseBodies: Record<string, unknown>[];
  /** The same bodies as the bytes arrived (UTF-8), for byte-for-byte checks. */
  readonly responseTexts: string[];
  /** How many streamed answers the client left (closed its connection) before their last event. */
  readonly unfinished: () => number;
  script(fn: (request: RecordedRequest) => FakeResponsesReply): void;
  close(): Promise<void>;
}

/** The opaque blob the fake seals a reasoning summary in (a test recognises it when it comes back). */
export function sealed(summary: string): string {
  return `gAAAA${Buffer.from(summary).toString("base64")}`;
}

function id(prefix: string): string {
  return prefix + randomBytes(16).toString("hex");
}

export async function startFakeOpenAIResponses(options: { models?: string[] } = {}): Promise<FakeResponsesUpstream> {
  const models = options.models ?? ["gpt-5-mini"];
  const requests: RecordedRequest[] = [];
  const responseBodies: Record<string, unknown>[] = [];
  const responseTexts: string[] = [];
  let unfinished = 0;
  let script: (request: RecordedRequest) => FakeResponsesReply = () => ({
    kind: "answer",
    reasoning: "Thinking it over.",
    text: "Hello from responses",
  });

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
    const recorded: RecordedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: { ...req.headers }, body };
    requests.push(recorded);
    if (req.method === "GET" && recorded.path === "/v1/models") {
      return json(res, 200, {
        object: "list",
        data: models.map((m) => ({ id: m, object: "model", created: 0, owned_by: "openai" })),
      });
    }
    if (req.method !== "POST" || recorded.path !== "/v1/responses" || body === undefined) {
      return error(res, 404, "Invalid URL");
    }
    responseBodies.push(body);
    responseTexts.push(text);
    if (typeof body.previous_response_id === "string") {
      return error(res, 400, `Previous response with id '${body.previous_response_id}' not found.`);
    }
    if (!models.includes(String(body.model))) return error(res, 404, `The model '${String(body.model)}' does not exist`);
    const reply = script(recorded);
    if (reply.kind === "error") return error(res, reply.status, reply.message ?? `HTTP ${reply.status}`, reply.param, reply.code);
    const include = Array.isArray(body.include) ? body.include : [];
    await answer(res, body, reply, include.includes("reasoning.encrypted_content"), logprobsAsked(body, include));
  }

  async function answer(
    res: ServerResponse,
    body: Record<string, unknown>,
    reply: FakeResponsesAnswer | { kind: "failed"; code: string; message: string },
    seal: boolean,
    /** The alternatives per token when `include` asked for the text's logprobs; undefined: not asked. */
    top: number | undefined,
  ): Promise<void> {
    const base = {
      id: id("resp_"),
      object: "response",
      created_at: Math.floor(Date.now() / 1000),
      status: "in_progress",
      background: false,
      error: null,
      incomplete_details: null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: String(body.model),
      output: [] as Record<string, unknown>[],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: "medium", summary: "auto" },
      store: body.store ?? true,
      temperature: 1,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: body.tools ?? [],
      top_p: 1,
      truncation: "disabled",
      usage: null as Record<string, unknown> | null,
      user: null,
      metadata: body.metadata ?? {},
      service_tier: "default",
      ...(reply.kind === "answer" && reply.accessPrograms !== undefined && { access_programs: reply.accessPrograms }),
    };
    let sequence = 0;
    const stream = body.stream === true;
    const events: string[] = [];
    const event = (type: string, fields: Record<string, unknown>) =>
      events.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`);
    const snapshot = () => ({ ...base, output: [...base.output] });
    event("response.created", { response: snapshot() });
    event("response.in_progress", { response: snapshot() });
    if (reply.kind === "failed") {
      if (!stream)
        return json(res, 500, { error: { message: reply.message, type: "server_error", param: null, code: reply.code } });
      event("response.failed", {
        response: { ...snapshot(), status: "failed", error: { code: reply.code, message: reply.message } },
      });
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(events.join(""));
      return;
    }
    // Everything before the first text delta goes at once; the rest after the gate, if any.
    let held = -1;
    if (reply.reasoning !== undefined) {
      const output_index = base.output.length;
      const item: Record<string, unknown> = { id: id("rs_"), type: "reasoning", summary: [] };
      base.output.push(item);
      event("response.output_item.added", { output_index, item: { ...item } });
      const at = { item_id: item.id, output_index, summary_index: 0 };
      event("response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } });
      for (const piece of pieces(reply.reasoning)) event("response.reasoning_summary_text.delta", { ...at, delta: piece });
      event("response.reasoning_summary_text.done", { ...at, text: reply.reasoning });
      event("response.reasoning_summary_part.done", { ...at, part: { type: "summary_text", text: reply.reasoning } });
      item.summary = [{ type: "summary_text", text: reply.reasoning }];
      if (seal) item.encrypted_content = sealed(reply.reasoning);
      event("response.output_item.done", { output_index, item: { ...item } });
    }
    if (reply.text !== undefined) {
      const output_index = base.output.length;
      const item: Record<string, unknown> = {
        id: id("msg_"),
        type: "message",
        status: "in_progress",
        content: [],
        role: "assistant",
      };
      base.output.push(item);
      event("response.output_item.added", { output_index, item: { ...item } });
      const at = { item_id: item.id, output_index, content_index: 0 };
      event("response.content_part.added", { ...at, part: { type: "output_text", annotations: [], logprobs: [], text: "" } });
      const textPieces = pieces(reply.text);
      // Each piece is one token (see fakeLogprobs); a delta's entries have no bytes, as OpenAI's do.
      const tokens = top === undefined ? [] : fakeLogprobs(textPieces, top);
      textPieces.forEach((piece, i) => {
        const logprobs = tokens.slice(i, i + 1).map(({ token, logprob, top_logprobs }) => ({
          token,
          logprob,
          top_logprobs: top_logprobs.map((alt) => ({ token: alt.token, logprob: alt.logprob })),
        }));
        event("response.output_text.delta", { ...at, delta: piece, logprobs });
        if (held < 0) held = events.length;
      });
      const part = { type: "output_text", annotations: [], logprobs: tokens, text: reply.text };
      event("response.output_text.done", { ...at, text: reply.text, logprobs: tokens });
      event("response.content_part.done", { ...at, part });
      Object.assign(item, { status: "completed", content: [part] });
      event("response.output_item.done", { output_index, item: { ...item } });
    }
    for (const call of reply.calls ?? []) {
      const output_index = base.output.length;
      const item: Record<string, unknown> = {
        id: id("fc_"),
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: id("call_"),
        name: call.name,
      };
      base.output.push(item);
      event("response.output_item.added", { output_index, item: { ...item } });
      event("response.function_call_arguments.delta", { item_id: item.id, output_index, delta: call.arguments });
      event("response.function_call_arguments.done", {
        item_id: item.id,
        output_index,
        arguments: call.arguments,
        name: call.name,
      });
      Object.assign(item, { status: "completed", arguments: call.arguments });
      event("response.output_item.done", { output_index, item: { ...item } });
    }
    const usage = reply.usage ?? { input: 20, output: 10, cached: 8, reasoning: 4 };
    base.usage = {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cached },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: usage.reasoning },
      total_tokens: usage.input + usage.output,
    };
    base.status = "completed";
    event("response.completed", { response: snapshot() });
    if (!stream) return json(res, 200, snapshot());
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.on("close", () => {
      if (!res.writableFinished) unfinished++;
    });
    if (reply.paceMs !== undefined) {
      for (const frame of events) {
        if (res.destroyed) return;
        res.write(frame);
        await new Promise((resolve) => setTimeout(resolve, reply.paceMs));
      }
      res.end();
    } else if (reply.breakAfterFirstDelta && held > 0) {
      res.write(events.slice(0, held).join(""));
      setTimeout(() => res.destroy(), 20);
    } else if (reply.gate !== undefined && held > 0) {
      res.write(events.slice(0, held).join(""));
      await reply.gate;
      res.end(events.slice(held).join(""));
    } else {
      res.end(events.join(""));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    responseBodies,
    responseTexts,
    unfinished: () => unfinished,
    script(fn) {
      script = fn;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The alternatives per token a request asks with `include: ["message.output_text.logprobs"]` (`top_logprobs`, default 0). */
function logprobsAsked(body: Record<string, unknown>, include: unknown[]): number | undefined {
  if (!include.includes("message.output_text.logprobs")) return undefined;
  return typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
}

function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(text.slice(i, i + 4));
  return out;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, message: string, param?: string, code?: string): void {
  json(res, status, {
    error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", param: param ?? null, code: code ?? null },
  });
}
