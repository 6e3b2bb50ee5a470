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
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type Dialect = "openai" | "anthropic" | "ollama" | "mcp";
const MODEL = "up/gpt-4o-mini";
const EMBEDDING_MODEL = "up/text-embedding-3-small";
/** Runs per route; FUZZ_RUNS and FUZZ_SEED widen a local hunt (the committed run is bounded and fixed). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);

let upstream: FakeUpstream;
let tandem: RunningTandem;
let rssBefore = 0;
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
  { path: "/v1/memories", dialect: "openai", valid: () => ({ text: "The user likes tea", metadata: { a: "b" } }) },
  { path: "/v1/memories/{memory}", method: "PATCH", dialect: "openai", valid: () => ({ text: "The user likes coffee" }) },
];

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

// ---------------------------------------------------------------------------------------------------

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] });
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
  const memory = await send("POST", "/v1/memories", JSON.stringify({ text: "The user likes tea" }));
  ids.memory = (memory.body as { id: string }).id;
  for (const [kind, id] of Object.entries(ids)) assert.ok(id && id !== "missing", `seeding ${kind}: ${id}`);
  rssBefore = process.memoryUsage().rss;
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
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grownMb < 512, `the process grew by ${Math.round(grownMb)} MiB`);
  });
});

/** The smallest examples of what the fuzzing found, each once wrong. */
describe("fuzz regressions", () => {
  const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" };

  it("/mcp: a body that is not JSON is a JSON-RPC parse error, not an OpenAI error", async () => {
    for (const body of ['{"jsonrpc":"2.0"', "", `{"__proto__":{}}`]) {
      const answer = await send("POST", "/mcp", body, mcpHeaders);
      assert.equal(answer.status, 400, answer.text);
      assertErrorShape("mcp", answer, answer.text);
      assert.equal((answer.body as { error: { code: number } }).error.code, -32700, answer.text);
      assert.equal((answer.body as { id: unknown }).id, null, answer.text);
    }
  });

  it("/mcp: a body not labelled JSON is a JSON-RPC 415, as the MCP SDK answers it", async () => {
    const answer = await send("POST", "/mcp", "{}", { "content-type": "text/plain", accept: mcpHeaders.accept });
    assert.equal(answer.status, 415, answer.text);
    assertErrorShape("mcp", answer, answer.text);
  });
});
