/**
 * A property-based pass over every route of a real server (store on, one cloud target): generated bad
 * input (one field of a valid body made a wrong type, huge, negative, non-finite, deeply nested,
 * unicode, null or an unknown enum value; fields missing; empty, non-object, truncated or mislabelled
 * bodies; list queries of the wrong type or repeated; hostile path ids) never gets a 5xx, a hang or a
 * crash, and every error comes in the route's own dialect (OpenAI, Anthropic, Ollama, JSON-RPC for
 * /mcp). A streaming request with a bad body errors as JSON before any SSE byte. Afterwards the
 * server still answers a plain request, its target's breaker is closed and its memory has not grown
 * without bound.
 *
 * Seeds are fixed, so a failure replays; the run counts keep the file to well under a minute.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type Dialect = "openai" | "anthropic" | "ollama" | "mcp";
const MODEL = "up/gpt-4o-mini";
const EMBEDDING_MODEL = "up/text-embedding-3-small";
/** Runs per route; FUZZ_RUNS and FUZZ_SEED widen a local hunt (the committed run is bounded and fixed). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;
let heapBefore = 0;
/** Ids of real stored things, so mutated requests about them reach past "not found". */
const ids: Record<string, string> = {};

// ---------------------------------------------------------------------------------------------------
// Requests and what an answer must look like

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: unknown;
}

async function send(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" },
): Promise<Answer> {
  const res = await fetch(tandem.url + path, {
    method,
    headers,
    ...(body !== undefined && { body }),
    // A hang fails the property (the abort rejects), well inside the test's own limit.
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, body: parsed };
}

function describeCall(method: string, path: string, body: string | undefined, answer: Answer): string {
  const shown = (s: string | undefined) => (s === undefined ? "" : s.length > 300 ? `${s.slice(0, 300)}...(${s.length})` : s);
  return `${method} ${shown(path)} ${shown(body)} -> ${answer.status} ${shown(answer.text)}`;
}

/** Never a 5xx; an error in the dialect's shape; a success only where `mayPass` allows one. */
function assertAnswer(dialect: Dialect, answer: Answer, context: string, mayPass = true): void {
  assert.ok(answer.status < 500, `5xx: ${context}`);
  if (answer.status < 400) {
    assert.ok(mayPass, `accepted an invalid request: ${context}`);
    return;
  }
  assertErrorShape(dialect, answer, context);
}

/** The one 5xx a library route may give here: no local engine, said in Ollama's shape. */
function assertNoLocalEngine(answer: Answer, context: string): void {
  assertErrorShape("ollama", answer, context);
  assert.match((answer.body as { error: string }).error, /^No local engine is configured/, context);
}

function assertErrorShape(dialect: Dialect, answer: Answer, context: string): void {
  assert.match(answer.contentType, /^application\/json/, `error not JSON: ${context}`);
  const b = answer.body as Record<string, unknown>;
  assert.ok(b !== null && typeof b === "object", `error body not an object: ${context}`);
  if (dialect === "openai") {
    const e = b.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.message, "string", `OpenAI error.message: ${context}`);
    assert.equal(typeof e?.type, "string", `OpenAI error.type: ${context}`);
    assert.ok(e && "param" in e && "code" in e, `OpenAI error.param/code: ${context}`);
  } else if (dialect === "anthropic") {
    assert.equal(b.type, "error", `Anthropic type: ${context}`);
    const e = b.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.type, "string", `Anthropic error.type: ${context}`);
    assert.equal(typeof e?.message, "string", `Anthropic error.message: ${context}`);
  } else if (dialect === "ollama") {
    assert.equal(typeof b.error, "string", `Ollama error: ${context}`);
  } else {
    assert.equal(b.jsonrpc, "2.0", `JSON-RPC jsonrpc: ${context}`);
    const e = b.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.code, "number", `JSON-RPC error.code: ${context}`);
    assert.equal(typeof e?.message, "string", `JSON-RPC error.message: ${context}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Generated bad values and bodies

/** A JSON text standing for a value JSON.stringify cannot write (1e999 parses to Infinity). */
const RAW = "\u0000raw:";
const raw = (text: string) => `${RAW}${text}`;

function nest(depth: number, leaf: unknown = "x"): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    -1e300,
    1.5,
    2 ** 53 + 2,
    "",
    "NaN",
    "-Infinity",
    "sideways",
    "unknown_enum_value",
    [],
    {},
    [null],
    [{}],
    { type: "sideways" },
    "x".repeat(200_000),
    Array.from({ length: 5000 }, () => 1),
    nest(60),
    nest(97),
    raw("1e999"),
    raw("-1e999"),
    raw("-0"),
    "\ud800",
    "\u0000",
    "../../etc/passwd",
    "%2F..%2F",
  ),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Writes a body where RAW-marked strings become the JSON text they carry. */
function writeJson(value: unknown): string {
  return JSON.stringify(value).replace(/"\\u0000raw:([^"]*)"/g, "$1");
}

type BodyCase = { body?: string; contentType?: string; label: string };

/** Bad bodies for a route whose valid body is `valid`. */
function badBody(valid: Record<string, unknown>): fc.Arbitrary<BodyCase> {
  const fields = Object.keys(valid);
  const field = fields.length > 0 ? fc.constantFrom(...fields) : fc.constant("model");
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(field, badValue).map(([f, v]) => ({ label: `${f}=bad`, body: writeJson({ ...valid, [f]: v }) })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(field, fc.constantFrom("messages", "input", "content", "tools", "metadata", "options"))
        .chain(([f, inner]) =>
          badValue.map((v) => ({
            label: `${f}.${inner}=bad`,
            body: writeJson({ ...valid, [f]: [{ ...(valid[f] as object), [inner]: v }] }),
          })),
        ),
    },
    {
      weight: 2,
      arbitrary: field.map((f) => {
        const { [f]: _dropped, ...rest } = valid;
        return { label: `without ${f}`, body: JSON.stringify(rest) };
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 20 }), badValue)
        .map(([k, v]) => ({ label: "unknown field", body: writeJson({ ...valid, [k]: v }) })),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom<BodyCase>(
        { label: "empty body", body: "" },
        { label: "empty body, no content type", body: "", contentType: "" },
        { label: "array", body: "[]" },
        { label: "array of valid", body: JSON.stringify([valid]) },
        { label: "number", body: "42" },
        { label: "string", body: '"hi"' },
        { label: "null", body: "null" },
        { label: "true", body: "true" },
        { label: "truncated", body: JSON.stringify(valid).slice(0, -1) },
        { label: "half", body: JSON.stringify(valid).slice(0, Math.floor(JSON.stringify(valid).length / 2)) },
        { label: "trailing garbage", body: `${JSON.stringify(valid)}x` },
        { label: "text/plain", body: JSON.stringify(valid), contentType: "text/plain" },
        { label: "form", body: "model=x", contentType: "application/x-www-form-urlencoded" },
        { label: "multipart", body: "--b\r\n\r\n--b--", contentType: "multipart/form-data; boundary=b" },
        { label: "bad media type", body: JSON.stringify(valid), contentType: "application/json; charset" },
        { label: "latin1 charset", body: JSON.stringify(valid), contentType: "application/json; charset=latin1" },
        { label: "deep", body: `${"[".repeat(3000)}${"]".repeat(3000)}` },
        { label: "proto", body: `{"__proto__":{"polluted":true}}` },
        { label: "bom", body: `\ufeff${JSON.stringify(valid)}` },
      ),
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// The routes

interface BodyRoute {
  path: string;
  method?: "POST" | "PATCH" | "DELETE";
  dialect: Dialect;
  valid: () => Record<string, unknown>;
  /** Sends `stream: true` too: the error must come as JSON, never as a started stream. */
  streams?: boolean;
  /** Works on the local engine's library, which this server has none of: a valid body's honest answer is a 503 saying so. */
  localLibrary?: boolean;
}

const BODY_ROUTES: BodyRoute[] = [
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    streams: true,
    valid: () => ({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
  },
  { path: "/v1/completions", dialect: "openai", streams: true, valid: () => ({ model: MODEL, prompt: "Once", max_tokens: 5 }) },
  { path: "/v1/embeddings", dialect: "openai", valid: () => ({ model: EMBEDDING_MODEL, input: "hello" }) },
  {
    path: "/v1/responses",
    dialect: "openai",
    streams: true,
    valid: () => ({
      model: MODEL,
      input: [{ role: "user", content: "hi" }],
      instructions: "Be brief",
      max_output_tokens: 20,
      text: { format: { type: "text" } },
      tools: [],
    }),
  },
  { path: "/v1/responses/input_tokens", dialect: "openai", valid: () => ({ model: MODEL, input: "hi" }) },
  { path: "/v1/responses/compact", dialect: "openai", valid: () => ({ model: MODEL, input: [{ role: "user", content: "hi" }] }) },
  {
    path: "/v1/messages",
    dialect: "anthropic",
    streams: true,
    valid: () => ({ model: MODEL, max_tokens: 10, system: "Be brief", messages: [{ role: "user", content: "hi" }], tools: [] }),
  },
  {
    path: "/v1/messages/count_tokens",
    dialect: "anthropic",
    valid: () => ({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
  },
  {
    path: "/api/chat",
    dialect: "ollama",
    streams: true,
    valid: () => ({ model: MODEL, messages: [{ role: "user", content: "hi" }], options: { temperature: 0 } }),
  },
  {
    path: "/api/generate",
    dialect: "ollama",
    streams: true,
    valid: () => ({ model: MODEL, prompt: "Once", options: { num_predict: 5 } }),
  },
  { path: "/api/embed", dialect: "ollama", valid: () => ({ model: EMBEDDING_MODEL, input: ["hello"] }) },
  { path: "/api/embeddings", dialect: "ollama", valid: () => ({ model: EMBEDDING_MODEL, prompt: "hello" }) },
  { path: "/api/show", dialect: "ollama", valid: () => ({ model: MODEL }) },
  { path: "/api/copy", localLibrary: true, dialect: "ollama", valid: () => ({ source: MODEL, destination: "copy-of-it" }) },
  { path: "/api/create", localLibrary: true, dialect: "ollama", valid: () => ({ model: "made", from: MODEL }) },
  { path: "/api/pull", localLibrary: true, dialect: "ollama", valid: () => ({ model: "hf.co/none/none:Q4_K_M", stream: false }) },
  { path: "/api/delete", localLibrary: true, method: "DELETE", dialect: "ollama", valid: () => ({ model: "made" }) },
  {
    path: "/v1/conversations",
    dialect: "openai",
    valid: () => ({ items: [{ type: "message", role: "user", content: "hi" }], metadata: { a: "b" } }),
  },
  { path: "/v1/conversations/{conv}", dialect: "openai", valid: () => ({ metadata: { a: "c" } }) },
  {
    path: "/v1/conversations/{conv}/items",
    dialect: "openai",
    valid: () => ({ items: [{ type: "message", role: "user", content: "more" }] }),
  },
  { path: "/v1/chat/completions/{chat}", dialect: "openai", valid: () => ({ metadata: { a: "b" } }) },
  { path: "/v1/responses/{resp}/cancel", dialect: "openai", valid: () => ({}) },
  {
    path: "/v1/vector_stores",
    dialect: "openai",
    valid: () => ({
      name: "docs",
      file_ids: [ids.file],
      metadata: { a: "b" },
      expires_after: { anchor: "last_active_at", days: 1 },
      chunking_strategy: { type: "auto" },
    }),
  },
  {
    path: "/v1/vector_stores/{vs}",
    dialect: "openai",
    valid: () => ({ name: "renamed", metadata: { a: "c" }, expires_after: null }),
  },
  {
    path: "/v1/vector_stores/{vs}/search",
    dialect: "openai",
    valid: () => ({
      query: "hello",
      max_num_results: 3,
      rewrite_query: false,
      filters: { type: "eq", key: "a", value: "b" },
      ranking_options: { score_threshold: 0 },
    }),
  },
  { path: "/v1/vector_stores/{vs}/files", dialect: "openai", valid: () => ({ file_id: ids.file, attributes: { a: "b" } }) },
  { path: "/v1/vector_stores/{vs}/files/{file}", dialect: "openai", valid: () => ({ attributes: { a: 1 } }) },
  { path: "/v1/vector_stores/{vs}/file_batches", dialect: "openai", valid: () => ({ file_ids: [ids.file] }) },
  { path: "/v1/vector_stores/{vs}/file_batches/{batch}/cancel", dialect: "openai", valid: () => ({}) },
  {
    path: "/v1/batches",
    dialect: "openai",
    valid: () => ({
      input_file_id: ids.batchFile,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { a: "b" },
      output_expires_after: { anchor: "created_at", seconds: 3600 },
    }),
  },
  { path: "/v1/batches/{oaiBatch}/cancel", dialect: "openai", valid: () => ({}) },
  {
    path: "/v1/messages/batches",
    dialect: "anthropic",
    valid: () => ({
      requests: [{ custom_id: "a-1", params: { model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "hi" }] } }],
    }),
  },
  { path: "/v1/messages/batches/{msgBatch}/cancel", dialect: "anthropic", valid: () => ({}) },
  { path: "/v1/memories", dialect: "openai", valid: () => ({ text: "The user likes tea", metadata: { a: "b" } }) },
  { path: "/v1/memories/{memory}", method: "PATCH", dialect: "openai", valid: () => ({ text: "The user likes coffee" }) },
];

const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const SCHEMA = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };

/**
 * Valid bodies using most of each API's fields (as the SDKs type them), so a mutation deep inside one
 * (a content part, a tool's schema, a filter) reaches the code that reads it.
 */
const RICH: { path: string; dialect: Dialect; streams?: boolean; valid: () => Record<string, unknown> }[] = [
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    streams: true,
    valid: () => ({
      model: MODEL,
      messages: [
        { role: "developer", content: "Be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "hi" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}`, detail: "low" } },
            { type: "file", file: { filename: "a.txt", file_data: "data:text/plain;base64,aGk=" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":"x"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "ok" },
      ],
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: SCHEMA, strict: true } }],
      tool_choice: { type: "function", function: { name: "f" } },
      response_format: { type: "json_schema", json_schema: { name: "x", schema: SCHEMA, strict: true } },
      temperature: 0.5,
      top_p: 1,
      max_completion_tokens: 20,
      n: 1,
      stop: ["\n"],
      seed: 1,
      logprobs: true,
      top_logprobs: 2,
      presence_penalty: 0,
      frequency_penalty: 0,
      logit_bias: { "50256": -100 },
      user: "u",
      metadata: { a: "b" },
      parallel_tool_calls: true,
      reasoning_effort: "low",
      service_tier: "auto",
    }),
  },
  {
    path: "/v1/completions",
    dialect: "openai",
    streams: true,
    valid: () => ({
      model: MODEL,
      prompt: ["a", "b"],
      max_tokens: 5,
      temperature: 0,
      top_p: 1,
      n: 1,
      stop: "\n",
      echo: false,
      logprobs: 2,
      seed: 1,
      best_of: 1,
      logit_bias: { "1": 1 },
      user: "u",
      suffix: null,
    }),
  },
  {
    path: "/v1/embeddings",
    dialect: "openai",
    valid: () => ({ model: EMBEDDING_MODEL, input: ["a", "b"], encoding_format: "base64", dimensions: 4, user: "u" }),
  },
  {
    path: "/v1/responses",
    dialect: "openai",
    streams: true,
    valid: () => ({
      model: MODEL,
      instructions: "Be brief",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "hi" },
            { type: "input_image", image_url: `data:image/png;base64,${PNG}`, detail: "low" },
            { type: "input_file", filename: "a.txt", file_data: "data:text/plain;base64,aGk=" },
            { type: "input_file", file_id: ids.file },
          ],
        },
        { type: "function_call", call_id: "c1", name: "f", arguments: '{"a":"x"}' },
        { type: "function_call_output", call_id: "c1", output: "ok" },
      ],
      tools: [
        { type: "function", name: "f", description: "d", parameters: SCHEMA, strict: true },
        { type: "file_search", vector_store_ids: [ids.vs], max_num_results: 2 },
      ],
      tool_choice: "auto",
      text: { format: { type: "json_schema", name: "x", schema: SCHEMA, strict: true }, verbosity: "low" },
      reasoning: { effort: "low", summary: "auto" },
      max_output_tokens: 50,
      max_tool_calls: 2,
      temperature: 1,
      top_p: 1,
      top_logprobs: 2,
      truncation: "auto",
      metadata: { a: "b" },
      store: true,
      include: ["file_search_call.results", "message.output_text.logprobs"],
      parallel_tool_calls: true,
      previous_response_id: ids.resp,
      prompt_cache_key: "k",
      safety_identifier: "s",
      service_tier: "auto",
    }),
  },
  {
    path: "/v1/responses/input_tokens",
    dialect: "openai",
    valid: () => ({
      model: MODEL,
      instructions: "Be brief",
      input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }],
      tools: [{ type: "function", name: "f", parameters: SCHEMA }],
      text: { format: { type: "text" } },
      reasoning: { effort: "low" },
      previous_response_id: ids.resp,
      truncation: "auto",
    }),
  },
  {
    path: "/v1/responses/compact",
    dialect: "openai",
    valid: () => ({
      model: MODEL,
      instructions: "Be brief",
      input: [{ role: "user", content: [{ type: "input_text", text: "hi" }] }],
      previous_response_id: ids.resp,
    }),
  },
  {
    path: "/v1/messages",
    dialect: "anthropic",
    streams: true,
    valid: () => ({
      model: MODEL,
      max_tokens: 2048,
      system: [{ type: "text", text: "Be brief", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "hi" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            { type: "document", source: { type: "text", media_type: "text/plain", data: "doc" }, title: "t" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "tool_use", id: "toolu_1", name: "f", input: { a: "x" } },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "ok" }], is_error: false }],
        },
      ],
      tools: [{ name: "f", description: "d", input_schema: SCHEMA }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      temperature: 0.5,
      top_k: 5,
      top_p: 0.9,
      stop_sequences: ["\n"],
      metadata: { user_id: "u" },
      thinking: { type: "enabled", budget_tokens: 1024 },
      service_tier: "auto",
    }),
  },
  {
    path: "/v1/messages/count_tokens",
    dialect: "anthropic",
    valid: () => ({
      model: MODEL,
      system: "Be brief",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "hi" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
          ],
        },
      ],
      tools: [{ name: "f", input_schema: SCHEMA }],
      thinking: { type: "enabled", budget_tokens: 1024 },
    }),
  },
  {
    path: "/api/chat",
    dialect: "ollama",
    streams: true,
    valid: () => ({
      model: MODEL,
      messages: [
        { role: "system", content: "s" },
        { role: "user", content: "hi", images: [PNG] },
        { role: "assistant", content: "", tool_calls: [{ function: { name: "f", arguments: { a: "x" } } }] },
        { role: "tool", content: "ok", tool_name: "f" },
      ],
      tools: [{ type: "function", function: { name: "f", description: "d", parameters: SCHEMA } }],
      format: SCHEMA,
      options: {
        temperature: 0,
        num_predict: 5,
        num_ctx: 2048,
        stop: ["\n"],
        seed: 1,
        top_k: 5,
        top_p: 0.9,
        repeat_penalty: 1.1,
      },
      keep_alive: "5m",
      think: false,
      logprobs: true,
      top_logprobs: 2,
      stream: false,
    }),
  },
  {
    path: "/api/generate",
    dialect: "ollama",
    streams: true,
    valid: () => ({
      model: MODEL,
      prompt: "Once",
      suffix: "",
      system: "s",
      images: [PNG],
      format: "json",
      options: { temperature: 0, num_predict: 5, stop: ["\n"] },
      keep_alive: 300,
      raw: false,
      think: false,
      context: [1, 2, 3],
      stream: false,
    }),
  },
  {
    path: "/api/embed",
    dialect: "ollama",
    valid: () => ({
      model: EMBEDDING_MODEL,
      input: ["a"],
      truncate: true,
      dimensions: 4,
      keep_alive: "5m",
      options: { num_ctx: 512 },
    }),
  },
  {
    path: "/v1/conversations",
    dialect: "openai",
    valid: () => ({
      items: [
        { type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "yo", annotations: [] }] },
        { type: "function_call", call_id: "c1", name: "f", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "ok" },
      ],
      metadata: { a: "b" },
    }),
  },
  {
    path: "/v1/vector_stores/{vs}/search",
    dialect: "openai",
    valid: () => ({
      query: ["tea", "coffee"],
      max_num_results: 3,
      rewrite_query: false,
      filters: {
        type: "and",
        filters: [
          { type: "eq", key: "a", value: "b" },
          { type: "in", key: "n", value: [1, 2] },
          { type: "or", filters: [{ type: "gte", key: "n", value: 1 }] },
        ],
      },
      ranking_options: { ranker: "auto", score_threshold: 0 },
    }),
  },
  {
    path: "/v1/vector_stores/{vs}/files",
    dialect: "openai",
    valid: () => ({
      file_id: ids.file,
      attributes: { a: "b", n: 1, t: true },
      chunking_strategy: { type: "static", static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 10 } },
    }),
  },
  {
    path: "/v1/vector_stores/{vs}/file_batches",
    dialect: "openai",
    valid: () => ({ files: [{ file_id: ids.file, attributes: { a: "b" }, chunking_strategy: { type: "auto" } }] }),
  },
  {
    path: "/v1/memories",
    dialect: "openai",
    valid: () => ({ text: "The user likes tea", metadata: { a: "b" }, sensitivity: "private" }),
  },
];

type JsonPath = (string | number)[];

/** Every path into a value: each object key and array index, at any depth. */
function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  if (value === null || typeof value !== "object") return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

/** A copy of `value` with the thing at `path` replaced (or, for `undefined`, removed). */
function withAt(value: unknown, path: JsonPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...JsonPath];
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(head as number, 1);
    else copy[head as number] = withAt(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && replacement === undefined) delete copy[head as string];
  else copy[head as string] = withAt(copy[head as string], rest, replacement);
  return copy;
}

/** A rich valid body with one thing somewhere inside it made bad, or taken out. */
function deepMutation(valid: Record<string, unknown>): fc.Arbitrary<{ path: string; body: string }> {
  const paths = pathsOf(valid);
  return fc.tuple(fc.constantFrom(...paths), fc.option(badValue, { freq: 6, nil: undefined })).map(([path, value]) => ({
    path: `${path.join(".")}=${value === undefined ? "(removed)" : "bad"}`,
    body: writeJson(withAt(valid, path, value)),
  }));
}

/** Fills `{name}` with the seeded id of that kind. */
function fill(path: string): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? "missing");
}

interface ListRoute {
  path: string;
  dialect: Dialect;
  headers?: Record<string, string>;
}

const LIST_ROUTES: ListRoute[] = [
  { path: "/v1/responses", dialect: "openai" },
  { path: "/v1/responses/{resp}/input_items", dialect: "openai" },
  { path: "/v1/chat/completions", dialect: "openai" },
  { path: "/v1/chat/completions/{chat}/messages", dialect: "openai" },
  { path: "/v1/conversations", dialect: "openai" },
  { path: "/v1/conversations/{conv}/items", dialect: "openai" },
  { path: "/v1/files", dialect: "openai" },
  { path: "/v1/vector_stores", dialect: "openai" },
  { path: "/v1/vector_stores/{vs}/files", dialect: "openai" },
  { path: "/v1/vector_stores/{vs}/file_batches/{batch}/files", dialect: "openai" },
  { path: "/v1/memories", dialect: "openai" },
  { path: "/v1/audit", dialect: "openai" },
  { path: "/v1/models", dialect: "openai" },
  { path: "/v1/models", dialect: "anthropic", headers: { "anthropic-version": "2023-06-01" } },
  { path: "/v1/responses/{resp}", dialect: "openai" },
  // A background response: `stream=true` replays its events, from `starting_after`.
  { path: "/v1/responses/{bg}", dialect: "openai" },
  { path: "/v1/conversations/{conv}/items/{item}", dialect: "openai" },
  { path: "/api/tags", dialect: "ollama" },
  { path: "/api/ps", dialect: "ollama" },
];

const QUERY_KEYS = [
  "limit",
  "order",
  "after",
  "before",
  "query",
  "purpose",
  "min_score",
  "include",
  "include[]",
  "filter",
  "metadata[a]",
  "model",
  "status",
  "target",
  "since",
  "until",
  "stream",
  "starting_after",
  "after_id",
  "before_id",
  "stream",
  "starting_after",
  "include_obfuscation",
];

const queryValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "abc",
    "-1",
    "0",
    "1e999",
    "1.5",
    "NaN",
    "sideways",
    "",
    "x".repeat(10 * 1024),
    "%00",
    "%2F..%2F",
    "%E2%82",
    "%F0%9F%98%80",
    "null",
    "[]",
    "9007199254740993",
    "true",
  ),
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
);

const query: fc.Arbitrary<string> = fc
  .array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { minLength: 1, maxLength: 4 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&"));

interface IdRoute {
  method: "GET" | "POST" | "DELETE" | "PATCH" | "HEAD";
  path: string;
  dialect: Dialect;
}

const ID_ROUTES: IdRoute[] = [
  { method: "GET", path: "/v1/responses/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/responses/{}", dialect: "openai" },
  { method: "POST", path: "/v1/responses/{}/cancel", dialect: "openai" },
  { method: "GET", path: "/v1/responses/{}/input_items", dialect: "openai" },
  { method: "GET", path: "/v1/chat/completions/{}", dialect: "openai" },
  { method: "POST", path: "/v1/chat/completions/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/chat/completions/{}", dialect: "openai" },
  { method: "GET", path: "/v1/chat/completions/{}/messages", dialect: "openai" },
  { method: "GET", path: "/v1/conversations/{}", dialect: "openai" },
  { method: "POST", path: "/v1/conversations/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/conversations/{}", dialect: "openai" },
  { method: "GET", path: "/v1/conversations/{}/items", dialect: "openai" },
  { method: "POST", path: "/v1/conversations/{}/items", dialect: "openai" },
  { method: "GET", path: "/v1/conversations/{conv}/items/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/conversations/{conv}/items/{}", dialect: "openai" },
  { method: "GET", path: "/v1/files/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/files/{}", dialect: "openai" },
  { method: "GET", path: "/v1/files/{}/content", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{}", dialect: "openai" },
  { method: "POST", path: "/v1/vector_stores/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/vector_stores/{}", dialect: "openai" },
  { method: "POST", path: "/v1/vector_stores/{}/search", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{}/files", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{vs}/files/{}", dialect: "openai" },
  { method: "POST", path: "/v1/vector_stores/{vs}/files/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/vector_stores/{vs}/files/{}", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{vs}/files/{}/content", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{vs}/file_batches/{}", dialect: "openai" },
  { method: "POST", path: "/v1/vector_stores/{vs}/file_batches/{}/cancel", dialect: "openai" },
  { method: "GET", path: "/v1/vector_stores/{vs}/file_batches/{}/files", dialect: "openai" },
  { method: "GET", path: "/v1/memories/{}", dialect: "openai" },
  { method: "PATCH", path: "/v1/memories/{}", dialect: "openai" },
  { method: "DELETE", path: "/v1/memories/{}", dialect: "openai" },
  { method: "GET", path: "/v1/models/{}", dialect: "openai" },
  { method: "HEAD", path: "/api/blobs/{}", dialect: "ollama" },
  { method: "POST", path: "/api/blobs/{}", dialect: "ollama" },
  { method: "GET", path: "/console/{}", dialect: "openai" },
];

const hostileId: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "x".repeat(101),
    "x".repeat(5000),
    "resp_%2F..%2F",
    "%2F",
    "..",
    "%2E%2E",
    "a%00b",
    "%00",
    "%",
    "%zz",
    "%E2%82",
    "%F0%9F%98%80",
    "caf%C3%A9",
    "a%20b",
    "a?b=c",
    "a#b",
    "-1",
    "null",
    "sha256:zz",
    "sha256-..%2F..%2Fx",
  ),
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).map(encodeURIComponent),
);

/** The heap in use after a full collection. */
function liveHeap(): number {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
  return process.memoryUsage().heapUsed;
}

// ---------------------------------------------------------------------------------------------------

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] });
  // An answer every JSON format the bodies ask for accepts, so a valid request passes tandem's quality check.
  upstream.script(() => ({ kind: "text", text: '{"a":"x"}' }));
  tandem = await startTandem(
    {
      server: { bodyLimit: 1024 * 1024 },
      providers: { up: { kind: "openai", baseUrl: upstream.url, models: ["gpt-4o-mini", "text-embedding-3-small"] } },
      vectorStores: { embeddings: EMBEDDING_MODEL },
    },
    // A pull that got past its checks goes nowhere: a closed port on this machine.
    { store: true, env: { HF_ENDPOINT: "http://127.0.0.1:9" } },
  );
  // Real things to point at.
  const resp = await send("POST", "/v1/responses", JSON.stringify({ model: MODEL, input: "hi", store: true }));
  ids.resp = (resp.body as { id: string }).id;
  const background = await send(
    "POST",
    "/v1/responses",
    JSON.stringify({ model: MODEL, input: "hi", store: true, background: true }),
  );
  ids.bg = (background.body as { id: string }).id;
  const chat = await send(
    "POST",
    "/v1/chat/completions",
    JSON.stringify({ model: MODEL, store: true, messages: [{ role: "user", content: "hi" }] }),
  );
  ids.chat = (chat.body as { id: string }).id;
  const conv = await send(
    "POST",
    "/v1/conversations",
    JSON.stringify({ items: [{ type: "message", role: "user", content: "hi" }] }),
  );
  ids.conv = (conv.body as { id: string }).id;
  const items = await send("GET", `/v1/conversations/${ids.conv}/items`);
  ids.item = (items.body as { data: { id: string }[] }).data[0]?.id ?? "missing";
  const form = new FormData();
  form.append("purpose", "assistants");
  form.append("file", new Blob(["Tea is a drink. Coffee is another."], { type: "text/plain" }), "notes.txt");
  const file = await fetch(`${tandem.url}/v1/files`, { method: "POST", body: form });
  ids.file = ((await file.json()) as { id: string }).id;
  const vs = await send("POST", "/v1/vector_stores", JSON.stringify({ name: "seed", file_ids: [ids.file] }));
  ids.vs = (vs.body as { id: string }).id;
  const batch = await send("POST", `/v1/vector_stores/${ids.vs}/file_batches`, JSON.stringify({ file_ids: [ids.file] }));
  ids.batch = (batch.body as { id: string }).id;
  const batchForm = new FormData();
  batchForm.append("purpose", "batch");
  const line = {
    custom_id: "l1",
    method: "POST",
    url: "/v1/chat/completions",
    body: { model: MODEL, messages: [{ role: "user", content: "hi" }] },
  };
  batchForm.append("file", new Blob([JSON.stringify(line)], { type: "application/jsonl" }), "batch.jsonl");
  const batchFile = await fetch(`${tandem.url}/v1/files`, { method: "POST", body: batchForm });
  ids.batchFile = ((await batchFile.json()) as { id: string }).id;
  const oaiBatch = await send(
    "POST",
    "/v1/batches",
    JSON.stringify({ input_file_id: ids.batchFile, endpoint: "/v1/chat/completions", completion_window: "24h" }),
  );
  ids.oaiBatch = (oaiBatch.body as { id: string }).id;
  const msgBatch = await send(
    "POST",
    "/v1/messages/batches",
    JSON.stringify({
      requests: [{ custom_id: "a", params: { model: MODEL, max_tokens: 5, messages: [{ role: "user", content: "hi" }] } }],
    }),
  );
  ids.msgBatch = (msgBatch.body as { id: string }).id;
  const memory = await send("POST", "/v1/memories", JSON.stringify({ text: "The user likes tea" }));
  ids.memory = (memory.body as { id: string }).id;
  for (const [kind, id] of Object.entries(ids)) assert.ok(id && id !== "missing", `seeding ${kind}: ${id}`);
  heapBefore = liveHeap();
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

describe("fuzzing every route", { timeout: 120_000 }, () => {
  for (const route of BODY_ROUTES) {
    const method = route.method ?? "POST";
    it(`${method} ${route.path}: bad bodies get a 4xx in the ${route.dialect} shape`, async () => {
      await fc.assert(
        fc.asyncProperty(badBody(route.valid()), async (c) => {
          const path = fill(route.path);
          const headers: Record<string, string> =
            c.contentType === "" ? {} : { "content-type": c.contentType ?? "application/json" };
          const answer = await send(method, path, c.body, headers);
          const context = `[${c.label}] ${describeCall(method, path, c.body, answer)}`;
          if (route.localLibrary && answer.status === 503) assertNoLocalEngine(answer, context);
          else assertAnswer(route.dialect, answer, context);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });
    if (route.streams) {
      it(`${method} ${route.path}: a bad body with stream: true errors as JSON before any stream`, async () => {
        const valid = { ...route.valid(), stream: true };
        await fc.assert(
          fc.asyncProperty(
            fc.tuple(fc.constantFrom(...Object.keys(valid).filter((k) => k !== "stream")), badValue),
            async ([field, value]) => {
              const body = writeJson({ ...valid, [field]: value });
              const path = fill(route.path);
              const answer = await send(method, path, body);
              const context = `${describeCall(method, path, body, answer)}`;
              assert.ok(answer.status < 500, `5xx: ${context}`);
              if (answer.status >= 400) {
                assert.doesNotMatch(answer.contentType, /event-stream|x-ndjson/, `an error as a stream: ${context}`);
                assertErrorShape(route.dialect, answer, context);
              }
            },
          ),
          { numRuns: Math.ceil(RUNS * 0.6), seed: SEED, endOnFailure: true },
        );
      });
    }
  }

  for (const route of RICH) {
    it(`POST ${route.path}: a rich body with one field deep inside made bad gets a 4xx in the ${route.dialect} shape`, async () => {
      const path = fill(route.path);
      for (const stream of route.streams ? [false, true] : [false]) {
        const valid = stream ? { ...route.valid(), stream: true } : route.valid();
        await fc.assert(
          fc.asyncProperty(deepMutation(valid), async (c) => {
            const answer = await send("POST", path, c.body);
            const context = `[${c.path}] ${describeCall("POST", path, c.body, answer)}`;
            // The fake model answers the same JSON whatever schema it is given; tandem checking the
            // answer against a schema it does not fit is the upstream's failure, not the input's.
            if (answer.status === 502 && /quality check 'json(_schema)?' failed/.test(answer.text)) return;
            assertAnswer(route.dialect, answer, context);
            if (answer.status >= 400)
              assert.doesNotMatch(answer.contentType, /event-stream|x-ndjson/, `an error as a stream: ${context}`);
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
      }
    });
  }

  it("request headers tandem reads, given bad values, get a 4xx in the route's shape (or are ignored)", async () => {
    const targets = [
      {
        path: "/v1/chat/completions",
        dialect: "openai" as const,
        body: { model: MODEL, messages: [{ role: "user", content: "hi" }] },
      },
      { path: "/v1/responses", dialect: "openai" as const, body: { model: MODEL, input: "hi" } },
      {
        path: "/v1/messages",
        dialect: "anthropic" as const,
        body: { model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "hi" }] },
      },
      {
        path: "/api/chat",
        dialect: "ollama" as const,
        body: { model: MODEL, messages: [{ role: "user", content: "hi" }], stream: false },
      },
      { path: "/v1/memories", dialect: "openai" as const, body: { text: "tea" } },
    ];
    const names = [
      "x-tandem-sensitivity",
      "x-tandem-route",
      "x-tandem-memory",
      "x-tandem-loopback",
      "x-tandem-background-run",
      "anthropic-version",
      "anthropic-beta",
      "accept-encoding",
      "accept",
      "authorization",
      "x-api-key",
      "idempotency-key",
    ];
    const headerValue = fc.oneof(
      fc.constantFrom("", "sideways", "-1", "1e999", "null", "x".repeat(8000), "a, b, c", "secret 1", "\t", "private, public"),
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.constantFrom(...names), headerValue, async (target, name, value) => {
        const body = JSON.stringify(target.body);
        const answer = await send("POST", target.path, body, { "content-type": "application/json", [name]: value });
        assertAnswer(
          target.dialect,
          answer,
          `[${name}: ${value.slice(0, 40)}] ${describeCall("POST", target.path, body, answer)}`,
        );
      }),
      { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
    );
  });

  it("POST /v1/files: bad multipart uploads get a 4xx in the OpenAI shape", async () => {
    const text = fc.oneof(
      fc.constantFrom(
        "",
        "assistants",
        "batch",
        "user_data",
        "vision",
        "sideways",
        "x".repeat(5000),
        "-1",
        "1e999",
        "../../etc/passwd",
        "a\u0000b",
      ),
      fc.string({ unit: "binary", maxLength: 30 }),
    );
    const upload = fc.record(
      {
        purpose: text,
        filename: text,
        content: fc.oneof(
          fc.constantFrom("", "hello", "%PDF-1.4 broken", "\u0000\u0001"),
          fc.string({ unit: "binary", maxLength: 200 }),
        ),
        anchor: text,
        seconds: text,
        extra: text,
        twoFiles: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(upload, async (u) => {
        const form = new FormData();
        if (u.purpose !== undefined) form.append("purpose", u.purpose);
        if (u.anchor !== undefined) form.append("expires_after[anchor]", u.anchor);
        if (u.seconds !== undefined) form.append("expires_after[seconds]", u.seconds);
        if (u.extra !== undefined) form.append("sideways", u.extra);
        if (u.content !== undefined) {
          form.append("file", new Blob([u.content]), u.filename ?? "a.txt");
          if (u.twoFiles) form.append("file", new Blob([u.content]), "b.txt");
        }
        const res = await fetch(`${tandem.url}/v1/files`, { method: "POST", body: form, signal: AbortSignal.timeout(15_000) });
        const textBody = await res.text();
        let parsed: unknown = textBody;
        try {
          parsed = JSON.parse(textBody);
        } catch {}
        const answer = { status: res.status, contentType: res.headers.get("content-type") ?? "", text: textBody, body: parsed };
        assertAnswer("openai", answer, `${JSON.stringify(u).slice(0, 300)} -> ${res.status} ${textBody.slice(0, 300)}`);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });

  for (const route of LIST_ROUTES) {
    it(`GET ${route.path} (${route.dialect}): bad query parameters get a 4xx in its shape`, async () => {
      await fc.assert(
        fc.asyncProperty(query, async (q) => {
          const path = `${fill(route.path)}?${q}`;
          const answer = await send("GET", path, undefined, route.headers ?? {});
          assertAnswer(route.dialect, answer, describeCall("GET", path, undefined, answer));
        }),
        { numRuns: Math.ceil(RUNS * 0.8), seed: SEED, endOnFailure: true },
      );
    });
  }

  it("hostile path ids get a 4xx in the route's shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_ROUTES), hostileId, async (route, id) => {
        const path = fill(route.path).replace("{}", id);
        const body = route.method === "POST" || route.method === "PATCH" ? "{}" : undefined;
        const answer = await send(route.method, path, body);
        const context = describeCall(route.method, path, body, answer);
        if (route.path.startsWith("/api/blobs") && answer.status === 503) {
          if (route.method === "POST") assertNoLocalEngine(answer, context);
          return;
        }
        assert.ok(answer.status < 500, `5xx: ${context}`);
        // HEAD has no body to check, and a console asset that is not there is the page's own 404.
        if (answer.status >= 400 && route.method !== "HEAD" && !route.path.startsWith("/console")) {
          assertErrorShape(route.dialect, answer, context);
        }
      }),
      { numRuns: RUNS * 4, seed: SEED, endOnFailure: true },
    );
  });

  it("unknown paths and methods get a 404 (or 405) in the dialect the path names", async () => {
    const prefix = fc.constantFrom(
      "/v1/",
      "/api/",
      "/",
      "/v1/messages/",
      "/v1/responses/",
      "/api/blobs/",
      "/v2/",
      "/console/",
      "/mcp/",
    );
    const rest = fc.oneof(
      // No dot segments: fetch resolves them before sending.
      fc.constantFrom("", "x", "chat/completions/", "models/%2F%2Fetc", "a%00", "%", "x".repeat(3000), "%F0%9F%98%80"),
      fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
    );
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE");
    await fc.assert(
      fc.asyncProperty(prefix, rest, method, fc.boolean(), async (p, r, m, anthropic) => {
        const path = p + r;
        const headers: Record<string, string> = anthropic ? { "anthropic-version": "2023-06-01" } : {};
        if (m !== "GET" && m !== "DELETE") headers["content-type"] = "application/json";
        const body = m === "GET" || m === "DELETE" ? undefined : "{}";
        const answer = await send(m, path, body, headers);
        const context = `${anthropic ? "[anthropic-version] " : ""}${describeCall(m, path, body, answer)}`;
        if (path.startsWith("/api/blobs/") && answer.status === 503) return assertNoLocalEngine(answer, context);
        assert.ok(answer.status < 500, `5xx: ${context}`);
        if (answer.status < 400) return;
        const dialect: Dialect =
          path.startsWith("/api/") || path === "/api"
            ? "ollama"
            : path === "/mcp"
              ? "mcp"
              : path.startsWith("/v1/messages") ||
                  (anthropic && !/^\/v1\/(responses|chat|completions|embeddings|files|vector_stores|conversations)/.test(path))
                ? "anthropic"
                : "openai";
        // A console asset that is not there is the page's own 404.
        if (path.startsWith("/console/")) return;
        assertErrorShape(dialect, answer, context);
      }),
      { numRuns: RUNS * 3, seed: SEED, endOnFailure: true },
    );
  });

  it("/mcp: bad bodies get a JSON-RPC error", async () => {
    const valid = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    await fc.assert(
      fc.asyncProperty(badBody(valid), async (c) => {
        const h: Record<string, string> =
          c.contentType === ""
            ? { accept: headers.accept }
            : { ...headers, "content-type": c.contentType ?? headers["content-type"] };
        const answer = await send("POST", "/mcp", c.body, h);
        const context = `[${c.label}] ${describeCall("POST", "/mcp", c.body, answer)}`;
        assert.ok(answer.status < 500, `5xx: ${context}`);
        if (answer.status >= 400) assertErrorShape("mcp", answer, context);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });

  it("still answers a plain request afterwards, with the target's breaker closed and memory bounded", async () => {
    const health = await send("GET", "/health");
    assert.equal(health.status, 200);
    const chat = await send(
      "POST",
      "/v1/chat/completions",
      JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
    );
    assert.equal(chat.status, 200, chat.text);
    const status = await send("GET", "/v1/status");
    const targets = (status.body as { targets: { target: string; breaker: string; health: string }[] }).targets;
    const target = targets.find((t) => t.target === MODEL);
    assert.ok(target, `no ${MODEL} in ${status.text.slice(0, 500)}`);
    assert.equal(target.breaker, "closed", JSON.stringify(target));
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "Object.prototype was polluted");
    // What stays reachable (the server runs in this process): garbage the fuzzing made is not counted.
    const grownMb = (liveHeap() - heapBefore) / 2 ** 20;
    assert.ok(grownMb < 256, `the live heap grew by ${Math.round(grownMb)} MiB`);
  });
});

/** The smallest examples of what the fuzzing found, each once wrong. */
describe("fuzz regressions", () => {
  const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

  it("/mcp: a body that is not JSON is a JSON-RPC parse error, not an OpenAI error", async () => {
    // JSON-RPC: a body that is not JSON is a parse error (-32700); so is an empty one, and one the
    // JSON parser refuses (a __proto__ key, which it does not read).
    for (const body of ['{"jsonrpc":"2.0"', "", `{"__proto__":{}}`]) {
      const answer = await send("POST", "/mcp", body, mcpHeaders);
      assert.equal(answer.status, 400, answer.text);
      assertErrorShape("mcp", answer, answer.text);
      assert.equal((answer.body as { error: { code: number } }).error.code, -32700, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal((answer.body as { id: unknown }).id, null, answer.text);
    }
  });

  it("a request whose headers are too large (a 20 KB query) gets a 431 in its dialect, not Fastify's own body", async () => {
    const long = "x".repeat(20 * 1024);
    for (const [path, dialect, headers] of [
      [`/v1/responses?after=${long}`, "openai", {}],
      [`/v1/models?after_id=${long}`, "anthropic", { "anthropic-version": "2023-06-01" }],
      [`/v1/messages?x=${long}`, "anthropic", {}],
      [`/api/tags?x=${long}`, "ollama", {}],
      ["/v1/files", "openai", { "x-padding": long }],
    ] as const) {
      const answer = await send("GET", path, undefined, headers);
      assert.equal(answer.status, 431, answer.text);
      assertErrorShape(dialect, answer, `${path.slice(0, 30)}: ${answer.text}`);
    }
  });

  it("a request that is not valid HTTP gets a 400 in its dialect, not Fastify's own body", async () => {
    const { port } = new URL(tandem.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nbad header\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /, reply);
    const body = reply.slice(reply.indexOf("\r\n\r\n") + 4);
    assertErrorShape("openai", { status: 400, contentType: "application/json", text: body, body: JSON.parse(body) }, reply);
  });

  it("/mcp: a body not labelled JSON is a JSON-RPC 415, as the MCP SDK answers it", async () => {
    const answer = await send("POST", "/mcp", "{}", { "content-type": "text/plain", accept: mcpHeaders.accept });
    assert.equal(answer.status, 415, answer.text);
    assertErrorShape("mcp", answer, answer.text);
  });
});
