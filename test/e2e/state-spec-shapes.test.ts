/**
 * The state APIs' objects (Conversations and their items, Files, Vector Stores with their files,
 * batches and search, stored chat completions) checked against strict shapes derived from the openai
 * SDK's types (openai-node 6.49: resources/conversations, files, vector-stores, chat/completions) and
 * OpenAI's OpenAPI spec (openai/openai-openapi `components.schemas`): every required field present
 * with its type and nullability, nothing else. Where the spec and the SDK's types disagree, the types
 * win (they are what clients parse); the few fields beyond the types are named where their schema is.
 * Driven through the official openai SDK against a real tandem over its encrypted store, with a fake
 * chat upstream; errors checked in OpenAI's shape and status, as the SDK's error classes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { z } from "zod";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "openai/gpt-4o-mini";
let upstream: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  upstream.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], local: false } } },
    { env: { UP: "sk-upstream" }, store: true },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

/** Parses `value` with `schema`, failing with the paths zod names (an extra key, a wrong type). */
function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) assert.fail(`${what}: ${z.prettifyError(parsed.error)}\n${JSON.stringify(value)}`);
  return parsed.data;
}

/** A raw request, as curl or a client without the SDK sends it. */
async function raw(method: string, path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${tandem.url}/v1${path}`, { method, headers: init.headers, body: init.body });
  return { status: response.status, body: (await response.json()) as unknown };
}

const integer = z.number().int();
const metadata = z.record(z.string(), z.string());
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

// OpenAI's error body: all four keys, always.
const errorBody = z.strictObject({
  error: z.strictObject({
    message: z.string().min(1),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});

/**
 * A cursor list (ConversationItemList, CursorPage's body). The spec and the types make first_id and
 * last_id strings; an empty page has no first or last id, and tandem says null there, as OpenAI's
 * lists do (README, Paging a list): the SDK's pagers read only data and has_more (last_id for
 * conversation items, and only while has_more).
 */
function list<T extends z.ZodType>(item: T) {
  return z
    .strictObject({
      object: z.literal("list"),
      data: z.array(item),
      first_id: z.string().nullable(),
      last_id: z.string().nullable(),
      has_more: z.boolean(),
    })
    .refine((page) => (page.data.length === 0) === (page.first_id === null && page.last_id === null), {
      message: "first_id and last_id are null exactly when the page is empty",
    });
}

// --- Conversations (resources/conversations/conversations.d.ts, items.d.ts) ---

const conversationShape = z.strictObject({
  id: z.string().startsWith("conv_"),
  object: z.literal("conversation"),
  created_at: integer,
  metadata,
});

const deletedShape = <T extends string>(object: T) =>
  z.strictObject({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

const cacheBreakpoint = z.strictObject({ mode: z.literal("explicit") }).optional();
const inputText = z.strictObject({ type: z.literal("input_text"), text: z.string(), prompt_cache_breakpoint: cacheBreakpoint });
const outputText = z.strictObject({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.record(z.string(), z.unknown())),
  logprobs: z.array(z.unknown()).optional(),
});
const inputImage = z.strictObject({
  type: z.literal("input_image"),
  detail: z.enum(["low", "high", "auto", "original"]),
  file_id: z.string().nullable().optional(),
  image_url: z.string().nullable().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const inputFile = z.strictObject({
  type: z.literal("input_file"),
  detail: z.enum(["auto", "low", "high"]).optional(),
  file_data: z.string().optional(),
  file_id: z.string().nullable().optional(),
  file_url: z.string().optional(),
  filename: z.string().optional(),
  prompt_cache_breakpoint: cacheBreakpoint,
});
const refusal = z.strictObject({ type: z.literal("refusal"), refusal: z.string() });
const itemStatus = z.enum(["in_progress", "completed", "incomplete"]);
const caller = z
  .union([z.strictObject({ type: z.literal("direct") }), z.strictObject({ type: z.literal("program"), caller_id: z.string() })])
  .nullable()
  .optional();
const toolOutput = z.union([z.string(), z.array(z.union([inputText, inputImage, inputFile]))]);

const messageItem = z.strictObject({
  id: z.string(),
  type: z.literal("message"),
  status: itemStatus,
  role: z.enum(["unknown", "user", "assistant", "system", "critic", "discriminator", "developer", "tool"]),
  content: z.array(z.union([inputText, outputText, inputImage, inputFile, refusal])),
  phase: z.enum(["commentary", "final_answer"]).nullable().optional(),
});
const functionCallItem = z.strictObject({
  id: z.string(),
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
  status: itemStatus,
  namespace: z.string().optional(),
  caller,
});
const functionCallOutputItem = z.strictObject({
  id: z.string(),
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output: toolOutput,
  status: itemStatus,
  caller,
  created_by: z.string().optional(),
});
const reasoningItem = z.strictObject({
  id: z.string(),
  type: z.literal("reasoning"),
  summary: z.array(z.strictObject({ type: z.literal("summary_text"), text: z.string() })),
  content: z.array(z.strictObject({ type: z.literal("reasoning_text"), text: z.string() })).optional(),
  encrypted_content: z.string().nullable().optional(),
  status: itemStatus.optional(),
});
// ResponseCustomToolCallItem / ResponseCustomToolCallOutputItem: as the API returns them, with id and status.
const customToolCallItem = z.strictObject({
  id: z.string(),
  type: z.literal("custom_tool_call"),
  call_id: z.string(),
  name: z.string(),
  input: z.string(),
  status: itemStatus,
  namespace: z.string().optional(),
  caller,
});
const customToolCallOutputItem = z.strictObject({
  id: z.string(),
  type: z.literal("custom_tool_call_output"),
  call_id: z.string(),
  output: toolOutput,
  status: itemStatus,
  caller,
});
const mcpListToolsItem = z.strictObject({
  id: z.string(),
  type: z.literal("mcp_list_tools"),
  server_label: z.string(),
  tools: z.array(
    z.strictObject({
      name: z.string(),
      input_schema: z.unknown(),
      annotations: z.unknown().optional(),
      description: z.string().nullable().optional(),
    }),
  ),
  error: z.string().nullable().optional(),
});
const mcpApprovalRequestItem = z.strictObject({
  id: z.string(),
  type: z.literal("mcp_approval_request"),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
});
const mcpApprovalResponseItem = z.strictObject({
  id: z.string(),
  type: z.literal("mcp_approval_response"),
  approval_request_id: z.string(),
  approve: z.boolean(),
  reason: z.string().nullable().optional(),
});
const mcpCallItem = z.strictObject({
  id: z.string(),
  type: z.literal("mcp_call"),
  server_label: z.string(),
  name: z.string(),
  arguments: z.string(),
  approval_request_id: z.string().nullable().optional(),
  // McpToolCallError (openai-node 7.60, the OpenAPI spec): 6.49 typed it a string.
  error: z
    .discriminatedUnion("type", [
      z.strictObject({ type: z.literal("mcp_protocol_error"), code: z.number().int(), message: z.string() }),
      z.strictObject({ type: z.literal("mcp_tool_execution_error"), content: z.unknown() }),
      z.strictObject({ type: z.literal("http_error"), code: z.number().int(), message: z.string() }),
    ])
    .nullable()
    .optional(),
  output: z.string().nullable().optional(),
  status: z.enum(["in_progress", "completed", "incomplete", "calling", "failed"]).optional(),
});
const compactionItem = z.strictObject({
  id: z.string(),
  type: z.literal("compaction"),
  encrypted_content: z.string(),
  created_by: z.string().optional(),
});
const fileSearchCallItem = z.strictObject({
  id: z.string(),
  type: z.literal("file_search_call"),
  queries: z.array(z.string()),
  status: z.enum(["in_progress", "searching", "completed", "incomplete", "failed"]),
  results: z
    .array(
      z.strictObject({
        attributes: attributes.nullable().optional(),
        file_id: z.string().optional(),
        filename: z.string().optional(),
        score: z.number().optional(),
        text: z.string().optional(),
      }),
    )
    .nullable()
    .optional(),
});
const conversationItem = z.discriminatedUnion("type", [
  messageItem,
  fileSearchCallItem,
  compactionItem,
  functionCallItem,
  functionCallOutputItem,
  reasoningItem,
  customToolCallItem,
  customToolCallOutputItem,
  mcpListToolsItem,
  mcpApprovalRequestItem,
  mcpApprovalResponseItem,
  mcpCallItem,
]);

const IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";

/** One item of every kind tandem stores, as a client adds them. */
const EVERY_KIND = [
  {
    type: "message",
    role: "user",
    content: [
      { type: "input_text", text: "Look at these." },
      { type: "input_image", image_url: IMAGE, detail: "low" },
      { type: "input_file", file_id: "file-abc", filename: "notes.md" },
    ],
  },
  { type: "message", role: "assistant", content: [{ type: "output_text", text: "Seen.", annotations: [] }] },
  {
    type: "message",
    role: "user",
    content: [
      { type: "input_image", file_id: "file-img" },
      { type: "input_file", file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" },
      { type: "input_file", file_url: "https://example.test/a.pdf" },
    ],
  },
  { type: "message", role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
  { type: "message", role: "system", content: [{ type: "input_text", text: "System." }] },
  { role: "assistant", content: "Final.", phase: "final_answer" },
  { type: "message", role: "developer", content: "Be brief." },
  { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Thinking." }] },
  { type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: "Raw." }], encrypted_content: "opaque" },
  { type: "compaction", encrypted_content: "opaque" },
  { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' },
  { type: "function_call_output", call_id: "call_1", output: "found" },
  {
    type: "function_call_output",
    call_id: "call_1",
    output: [
      { type: "input_text", text: "see" },
      { type: "input_image", image_url: "https://example.test/b.png" },
      { type: "input_file", file_id: "file-out" },
    ],
  },
  { type: "custom_tool_call", call_id: "call_2", name: "shell", input: "ls" },
  { type: "custom_tool_call_output", call_id: "call_2", output: "a.txt" },
  { type: "custom_tool_call_output", call_id: "call_2", output: [{ type: "input_image", file_id: "file-shot" }] },
  { type: "mcp_list_tools", id: "mcpl_1", server_label: "docs", tools: [{ name: "search", input_schema: { type: "object" } }] },
  { type: "mcp_approval_request", id: "mcpr_1", server_label: "docs", name: "search", arguments: "{}" },
  { type: "mcp_approval_response", approval_request_id: "mcpr_1", approve: true },
  { type: "mcp_call", id: "mcp_1", server_label: "docs", name: "search", arguments: "{}", output: "hit" },
  { type: "mcp_call", server_label: "docs", name: "search", arguments: "{}", status: "failed", error: "boom" },
] as const;

describe("Conversations (Conversation, ConversationItem, ConversationItemList)", () => {
  it("creates, retrieves, updates and deletes a conversation in the SDK's shapes", async () => {
    const created = await client.conversations.create({ metadata: { topic: "shapes" } });
    check(conversationShape, created, "create");
    assert.deepEqual(created.metadata, { topic: "shapes" });
    check(conversationShape, await client.conversations.retrieve(created.id), "retrieve");
    const updated = check(conversationShape, await client.conversations.update(created.id, { metadata: { a: "1" } }), "update");
    assert.deepEqual(updated.metadata, { a: "1" });
    check(deletedShape("conversation.deleted"), await client.conversations.delete(created.id), "delete");
    await assert.rejects(client.conversations.retrieve(created.id), OpenAI.NotFoundError);
  });

  it("stores an item of every kind and answers each as ConversationItem, created, listed and retrieved", async () => {
    const conversation = await client.conversations.create({ items: [{ role: "user", content: "Hi" }] });
    // Up to 20 items a call, as OpenAI takes them.
    const created = [];
    for (const items of [EVERY_KIND.slice(0, 12), EVERY_KIND.slice(12)]) {
      const added = check(
        list(conversationItem),
        await client.conversations.items.create(conversation.id, { items: items as never }),
        "items.create",
      );
      assert.equal(added.first_id, added.data[0]?.id);
      assert.equal(added.last_id, added.data.at(-1)?.id);
      assert.equal(added.has_more, false);
      created.push(...added.data);
    }
    assert.deepEqual(
      created.map((item) => item.type),
      EVERY_KIND.map((item) => ("type" in item ? item.type : "message")),
    );
    const createdList = { data: created };

    const listed = await raw(
      "GET",
      `/conversations/${conversation.id}/items?order=asc&limit=100&include=message.input_image.image_url`,
    );
    const page = check(list(conversationItem), listed.body, "items.list");
    assert.equal(page.data.length, EVERY_KIND.length + 1);
    for (const item of createdList.data) {
      const one = await client.conversations.items.retrieve(item.id, { conversation_id: conversation.id });
      check(conversationItem, one, `items.retrieve ${item.type}`);
    }
    const afterDelete = await client.conversations.items.delete(createdList.data[0]?.id as string, {
      conversation_id: conversation.id,
    });
    check(conversationShape, afterDelete, "items.delete answers the conversation");
  });

  it("stores a turn's input and answer as ConversationItems, and lists the response's input_items as such", async () => {
    const conversation = await client.conversations.create({});
    const response = await client.responses.create({
      model: MODEL,
      conversation: conversation.id,
      input: [{ role: "user", content: [{ type: "input_text", text: "Hi" }] }],
      include: ["message.output_text.logprobs"],
    });
    const items = await raw("GET", `/conversations/${conversation.id}/items?include=message.output_text.logprobs`);
    const page = check(list(conversationItem), items.body, "a turn's items");
    assert.deepEqual(
      page.data.map((item) => (item.type === "message" ? item.role : item.type)),
      ["assistant", "user"],
    );
    const inputItems = await raw("GET", `/responses/${response.id}/input_items`);
    check(list(conversationItem), inputItems.body, "input_items");
    for await (const item of client.responses.inputItems.list(response.id)) check(conversationItem, item, "input item");

    upstream.script(() => ({ kind: "tool_calls", calls: [{ id: "call_7", name: "lookup", arguments: { q: "x" } }] }));
    try {
      const called = await client.responses.create({
        model: MODEL,
        conversation: conversation.id,
        input: "Look it up.",
        tools: [{ type: "function", name: "lookup", parameters: { type: "object" }, strict: false }],
      });
      assert.equal(called.output[0]?.type, "function_call");
    } finally {
      upstream.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
    }
    const afterCall = check(list(conversationItem), (await raw("GET", `/conversations/${conversation.id}/items`)).body, "call");
    assert.equal(afterCall.data[0]?.type, "function_call");
  });

  it("stores a file_search turn's call as a ResponseFileSearchToolCall item, with the results its turn kept", async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from("The ferry to the island leaves at seven."), "ferry.md"),
      purpose: "assistants",
    });
    const store = await client.vectorStores.create({ file_ids: [file.id] });
    await tandem.server.vectorStores.idle();
    upstream.script((request) => {
      const messages = (request.body as { messages?: { role: string }[] }).messages ?? [];
      return messages.some((m) => m.role === "tool")
        ? { kind: "text", text: "At seven." }
        : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["ferry"] } }] };
    });
    // tandem keeps a search's results only when the turn asked for them (README, the file_search tool).
    const kept = await client.conversations.create({});
    const dropped = await client.conversations.create({});
    try {
      for (const [conversation, include] of [
        [kept, ["file_search_call.results" as const]],
        [dropped, []],
      ] as const) {
        await client.responses.create({
          model: MODEL,
          conversation: conversation.id,
          input: "When does the ferry leave?",
          tools: [{ type: "file_search", vector_store_ids: [store.id] }],
          include: [...include],
        });
      }
    } finally {
      upstream.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
    }
    for (const conversation of [kept, dropped]) {
      const page = check(
        list(conversationItem),
        (await raw("GET", `/conversations/${conversation.id}/items?order=asc&include=file_search_call.results`)).body,
        "items",
      );
      const call = page.data.find((item) => item.type === "file_search_call");
      assert.ok(call?.type === "file_search_call", JSON.stringify(page.data));
      assert.deepEqual(call.queries, ["ferry"]);
      assert.equal(call.results?.[0]?.file_id, conversation === kept ? file.id : undefined);
    }
  });

  it("pages items with order, after and limit, and walks them all with for await", async () => {
    const conversation = await client.conversations.create({
      items: Array.from({ length: 5 }, (_, i) => ({ role: "user" as const, content: `turn ${i}` })),
    });
    const first = await client.conversations.items.list(conversation.id, { limit: 2, order: "asc" });
    assert.equal(first.data.length, 2);
    assert.equal(first.has_more, true);
    assert.equal(first.last_id, first.data[1]?.id);
    const second = await client.conversations.items.list(conversation.id, { limit: 2, order: "asc", after: first.last_id });
    assert.notEqual(second.data[0]?.id, first.data[0]?.id);
    const texts: string[] = [];
    for await (const item of client.conversations.items.list(conversation.id, { limit: 2, order: "asc" })) {
      if (item.type === "message" && item.content[0]?.type === "input_text") texts.push(item.content[0].text);
    }
    assert.deepEqual(texts, ["turn 0", "turn 1", "turn 2", "turn 3", "turn 4"]);
    const desc = await client.conversations.items.list(conversation.id, { limit: 1 });
    assert.equal(
      desc.data[0]?.type === "message" && desc.data[0].content[0]?.type === "input_text" && desc.data[0].content[0].text,
      "turn 4",
    );

    const empty = await client.conversations.create({});
    check(list(conversationItem), await raw("GET", `/conversations/${empty.id}/items`).then((r) => r.body), "empty list");
  });

  it("refuses bad list parameters and metadata past OpenAI's limits with its 400s naming the field", async () => {
    const conversation = await client.conversations.create({});
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["order=sideways", "order"],
      ["include=nothing", "include"],
    ] as const) {
      const answer = await raw("GET", `/conversations/${conversation.id}/items?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(check(errorBody, answer.body, query).error.param, param);
    }
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    for (const [metadata, param] of [
      [tooMany, "metadata"],
      [{ ["k".repeat(65)]: "v" }, "metadata"],
      [{ k: "v".repeat(513) }, "metadata.k"],
    ] as const) {
      const created = await client.conversations.create({ metadata }).catch((e: unknown) => e);
      assert.ok(created instanceof OpenAI.BadRequestError, JSON.stringify(created));
      check(errorBody, { error: created.error }, "create metadata");
      assert.equal(created.param, param);
      const updated = await client.conversations.update(conversation.id, { metadata }).catch((e: unknown) => e);
      assert.ok(updated instanceof OpenAI.BadRequestError);
      assert.equal(updated.param, param);
    }
    const atLimit = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, "k"), "v".repeat(512)]));
    check(conversationShape, await client.conversations.create({ metadata: atLimit }), "metadata at the limits");
  });

  it("answers unknown ids with OpenAI's 404", async () => {
    const conversation = await client.conversations.create({});
    for (const path of [
      "/conversations/conv_missing",
      "/conversations/conv_missing/items",
      `/conversations/${conversation.id}/items/msg_missing`,
    ]) {
      const answer = await raw("GET", path);
      assert.equal(answer.status, 404, path);
      check(errorBody, answer.body, path);
    }
    await assert.rejects(
      client.conversations.items.retrieve("msg_missing", { conversation_id: conversation.id }),
      OpenAI.NotFoundError,
    );
  });

  it("deletes as curl does in OpenAI's reference, with a JSON content type and no body", async () => {
    const conversation = await client.conversations.create({ items: [{ role: "user", content: "Hi" }] });
    const headers = { "content-type": "application/json" };
    const items = await client.conversations.items.list(conversation.id);
    const item = await raw("DELETE", `/conversations/${conversation.id}/items/${items.data[0]?.id}`, { headers });
    assert.equal(item.status, 200, JSON.stringify(item.body));
    check(conversationShape, item.body, "item delete");
    const deleted = await raw("DELETE", `/conversations/${conversation.id}`, { headers });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    check(deletedShape("conversation.deleted"), deleted.body, "delete");
  });
});

// --- Files (resources/files.d.ts) ---

// FileObject: expires_at and status_details are optional and never null in the types and the spec.
const fileShape = z.strictObject({
  id: z.string().startsWith("file-"),
  object: z.literal("file"),
  bytes: integer,
  created_at: integer,
  filename: z.string(),
  purpose: z.enum([
    "assistants",
    "assistants_output",
    "batch",
    "batch_output",
    "fine-tune",
    "fine-tune-results",
    "vision",
    "user_data",
  ]),
  status: z.enum(["uploaded", "processed", "error"]),
  expires_at: integer.optional(),
  status_details: z.string().optional(),
});

describe("Files (FileObject, FileDeleted, the files list)", () => {
  it("uploads with toFile, with and without expires_after, and answers FileObject everywhere", async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13, 0xff]);
    const plain = await client.files.create({ file: await toFile(bytes, "blob.bin"), purpose: "user_data" });
    check(fileShape, plain, "create");
    assert.equal(plain.bytes, bytes.length);
    assert.equal(plain.filename, "blob.bin");
    assert.ok(!("expires_at" in plain), "a file that does not expire has no expires_at");
    const expiring = await client.files.create({
      file: await toFile(Buffer.from('{"a":1}\n'), "in.jsonl"),
      purpose: "batch",
      expires_after: { anchor: "created_at", seconds: 3600 },
    });
    check(fileShape, expiring, "create with expires_after");
    assert.equal(expiring.expires_at, expiring.created_at + 3600);
    check(fileShape, await client.files.retrieve(plain.id), "retrieve");
    assert.deepEqual(Buffer.from(await (await client.files.content(plain.id)).arrayBuffer()), bytes);
    check(list(fileShape), (await raw("GET", "/files")).body, "list");
    check(deletedShape("file"), await client.files.delete(expiring.id), "delete");
  });

  it("pages files with after, limit, order and purpose, and for await walks them", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await client.files.create({ file: await toFile(Buffer.from(`v${i}`), `p${i}.txt`), purpose: "vision" })).id);
    }
    const page = await client.files.list({ purpose: "vision", limit: 2, order: "asc" });
    assert.deepEqual(
      page.data.map((f) => f.id),
      ids.slice(0, 2),
    );
    assert.equal(page.has_more, true);
    const next = await client.files.list({ purpose: "vision", limit: 2, order: "asc", after: ids[1] });
    assert.deepEqual(
      next.data.map((f) => f.id),
      ids.slice(2),
    );
    assert.equal(next.has_more, false);
    const walked: string[] = [];
    for await (const file of client.files.list({ purpose: "vision", limit: 1 })) walked.push(check(fileShape, file, "page").id);
    assert.deepEqual(walked, [...ids].reverse());
  });

  it("answers a missing file or purpose, a bad purpose and an unknown id with OpenAI's errors", async () => {
    const missingPurpose = await client.files
      .create({ file: await toFile(Buffer.from("x"), "x.txt") } as never)
      .catch((e: unknown) => e);
    assert.ok(missingPurpose instanceof OpenAI.BadRequestError);
    assert.equal(missingPurpose.param, "purpose");
    const form = new FormData();
    form.set("purpose", "user_data");
    const missingFile = await fetch(`${tandem.url}/v1/files`, { method: "POST", body: form });
    assert.equal(missingFile.status, 400);
    assert.equal(check(errorBody, await missingFile.json(), "no file").error.param, "file");
    const badPurpose = await client.files
      .create({ file: await toFile(Buffer.from("x"), "x.txt"), purpose: "nonsense" as never })
      .catch((e: unknown) => e);
    assert.ok(badPurpose instanceof OpenAI.BadRequestError);
    assert.equal(badPurpose.param, "purpose");
    for (const [method, path] of [
      ["GET", "/files/file-missing"],
      ["GET", "/files/file-missing/content"],
      ["DELETE", "/files/file-missing"],
    ] as const) {
      const answer = await raw(method, path);
      assert.equal(answer.status, 404, path);
      assert.equal(check(errorBody, answer.body, path).error.message, "No such File object: file-missing");
    }
    const limit = await raw("GET", "/files?limit=0");
    assert.equal(limit.status, 400);
    assert.equal(check(errorBody, limit.body, "limit").error.param, "limit");
  });
});

// --- Vector stores (resources/vector-stores/*.d.ts) ---

const fileCounts = z.strictObject({
  cancelled: integer,
  completed: integer,
  failed: integer,
  in_progress: integer,
  total: integer,
});
const vectorStoreShape = z.strictObject({
  id: z.string().startsWith("vs_"),
  object: z.literal("vector_store"),
  created_at: integer,
  file_counts: fileCounts,
  last_active_at: integer.nullable(),
  metadata: metadata.nullable(),
  name: z.string(),
  status: z.enum(["expired", "in_progress", "completed"]),
  usage_bytes: integer,
  expires_after: z.strictObject({ anchor: z.literal("last_active_at"), days: integer }).optional(),
  expires_at: integer.nullable().optional(),
});
const chunkingStrategy = z.union([
  z.strictObject({
    type: z.literal("static"),
    static: z.strictObject({ chunk_overlap_tokens: integer, max_chunk_size_tokens: integer }),
  }),
  z.strictObject({ type: z.literal("other") }),
]);
const vectorStoreFileShape = z.strictObject({
  id: z.string(),
  object: z.literal("vector_store.file"),
  created_at: integer,
  last_error: z
    .strictObject({ code: z.enum(["server_error", "unsupported_file", "invalid_file"]), message: z.string() })
    .nullable(),
  status: z.enum(["in_progress", "completed", "cancelled", "failed"]),
  usage_bytes: integer,
  vector_store_id: z.string(),
  attributes: attributes.nullable().optional(),
  chunking_strategy: chunkingStrategy.optional(),
});
const fileBatchShape = z.strictObject({
  id: z.string(),
  object: z.literal("vector_store.files_batch"),
  created_at: integer,
  file_counts: fileCounts,
  status: z.enum(["in_progress", "completed", "cancelled", "failed"]),
  vector_store_id: z.string(),
});
const searchResultShape = z.strictObject({
  file_id: z.string(),
  filename: z.string(),
  score: z.number().min(0).max(1),
  attributes: attributes.nullable(),
  content: z.array(z.strictObject({ type: z.literal("text"), text: z.string() })),
});
const searchPageShape = z.strictObject({
  object: z.literal("vector_store.search_results.page"),
  search_query: z.array(z.string()),
  data: z.array(searchResultShape),
  has_more: z.boolean(),
  next_page: z.string().nullable(),
});
const fileContentPageShape = z.strictObject({
  object: z.literal("vector_store.file_content.page"),
  data: z.array(z.strictObject({ type: z.literal("text"), text: z.string() })),
  has_more: z.boolean(),
  next_page: z.string().nullable(),
});

describe("Vector stores (VectorStore, VectorStoreFile, VectorStoreFileBatch, search)", () => {
  it("answers the store, its files, a batch, search results and deletes in the SDK's shapes", async () => {
    const notes = await client.files.create({
      file: await toFile(Buffer.from("The lighthouse keeper winds the clock at noon."), "keeper.md"),
      purpose: "assistants",
    });
    const image = await client.files.create({
      file: await toFile(Buffer.from(IMAGE.split(",")[1] as string, "base64"), "pixel.png"),
      purpose: "assistants",
    });
    const store = await client.vectorStores.create({
      name: "shapes",
      description: "checked against the types",
      metadata: { team: "a" },
      expires_after: { anchor: "last_active_at", days: 3 },
    });
    check(vectorStoreShape, store, "create");
    const bare = check(vectorStoreShape, await client.vectorStores.create({}), "create with nothing");
    assert.ok(!("expires_after" in bare));

    const added = await client.vectorStores.files.create(store.id, {
      file_id: notes.id,
      attributes: { year: 2024, tag: "x", ok: true },
    });
    check(vectorStoreFileShape, added, "files.create");
    const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: [image.id] });
    check(fileBatchShape, batch, "fileBatches.create");
    await tandem.server.vectorStores.idle();
    check(fileBatchShape, await client.vectorStores.fileBatches.retrieve(batch.id, { vector_store_id: store.id }), "batch");
    for await (const file of client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id })) {
      check(vectorStoreFileShape, file, "batch file");
    }
    const failed = check(
      vectorStoreFileShape,
      await client.vectorStores.files.retrieve(image.id, { vector_store_id: store.id }),
      "a file that failed",
    );
    assert.equal(failed.status, "failed");
    assert.equal(failed.last_error?.code, "unsupported_file");
    const done = check(
      vectorStoreFileShape,
      await client.vectorStores.files.retrieve(notes.id, { vector_store_id: store.id }),
      "a completed file",
    );
    assert.equal(done.status, "completed");
    assert.deepEqual(done.attributes, { year: 2024, tag: "x", ok: true });
    check(
      vectorStoreFileShape,
      await client.vectorStores.files.update(notes.id, { vector_store_id: store.id, attributes: { year: 2025 } }),
      "files.update",
    );
    for await (const file of client.vectorStores.files.list(store.id, { limit: 1 }))
      check(vectorStoreFileShape, file, "files.list");
    check(fileContentPageShape, (await raw("GET", `/vector_stores/${store.id}/files/${notes.id}/content`)).body, "content");
    const chunks = [];
    for await (const chunk of client.vectorStores.files.content(notes.id, { vector_store_id: store.id })) chunks.push(chunk);
    assert.deepEqual(chunks, [{ type: "text", text: "The lighthouse keeper winds the clock at noon." }]);
    const failedOnly = await client.vectorStores.files.list(store.id, { filter: "failed" });
    assert.deepEqual(
      failedOnly.data.map((f) => f.id),
      [image.id],
    );
    check(vectorStoreShape, await client.vectorStores.retrieve(store.id), "retrieve");
    check(vectorStoreShape, await client.vectorStores.update(store.id, { name: "renamed", expires_after: null }), "update");
    for await (const one of client.vectorStores.list({ limit: 1 })) check(vectorStoreShape, one, "list");

    const search = await raw("POST", `/vector_stores/${store.id}/search`, {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "lighthouse clock" }),
    });
    check(searchPageShape, search.body, "search");
    const results = [];
    for await (const result of client.vectorStores.search(store.id, { query: "lighthouse clock" })) {
      results.push(check(searchResultShape, result, "search result"));
    }
    assert.equal(results.length, 1);
    assert.equal(results[0]?.filename, "keeper.md");
    assert.deepEqual(results[0]?.attributes, { year: 2025 });
    for (const ranker of ["none", "auto", "default-2024-11-15"] as const) {
      const page = await client.vectorStores.search(store.id, {
        query: ["lighthouse", "clock"],
        max_num_results: 50,
        rewrite_query: true,
        ranking_options: { ranker, score_threshold: 0 },
        filters: { type: "and", filters: [{ type: "gte", key: "year", value: 2025 }] },
      });
      assert.deepEqual(
        page.data.map((r) => check(searchResultShape, r, ranker).file_id),
        [notes.id],
      );
    }

    check(
      deletedShape("vector_store.file.deleted"),
      await client.vectorStores.files.delete(image.id, { vector_store_id: store.id }),
      "files.delete",
    );
    check(deletedShape("vector_store.deleted"), await client.vectorStores.delete(store.id), "delete");
    await assert.rejects(client.vectorStores.retrieve(store.id), OpenAI.NotFoundError);
  });

  it("deletes and cancels as curl does in OpenAI's reference, with a JSON content type and no body", async () => {
    const headers = { "content-type": "application/json" };
    const file = await client.files.create({ file: await toFile(Buffer.from("tides and moons"), "t.md"), purpose: "assistants" });
    const store = await client.vectorStores.create({ file_ids: [file.id] });
    const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] });
    const cancelled = await raw("POST", `/vector_stores/${store.id}/file_batches/${batch.id}/cancel`, { headers });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    check(fileBatchShape, cancelled.body, "cancel");
    await tandem.server.vectorStores.idle();
    const removed = await raw("DELETE", `/vector_stores/${store.id}/files/${file.id}`, { headers });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    check(deletedShape("vector_store.file.deleted"), removed.body, "file delete");
    const deleted = await raw("DELETE", `/vector_stores/${store.id}`, { headers });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    check(deletedShape("vector_store.deleted"), deleted.body, "delete");
  });

  it("answers unknown ids with 404s and bad parameters with 400s naming them", async () => {
    const store = await client.vectorStores.create({});
    for (const path of ["/vector_stores/vs_missing", `/vector_stores/${store.id}/files/file-missing`]) {
      const answer = await raw("GET", path);
      assert.equal(answer.status, 404, path);
      check(errorBody, answer.body, path);
    }
    await assert.rejects(
      client.vectorStores.fileBatches.retrieve("vsfb_missing", { vector_store_id: store.id }),
      OpenAI.NotFoundError,
    );
    const search = await client.vectorStores.search(store.id, { query: "x", max_num_results: 51 }).catch((e: unknown) => e);
    assert.ok(search instanceof OpenAI.BadRequestError);
    assert.equal(search.param, "max_num_results");
    const listed = await raw("GET", "/vector_stores?limit=101");
    assert.equal(listed.status, 400);
    assert.equal(check(errorBody, listed.body, "limit").error.param, "limit");
  });
});

// --- Stored chat completions (resources/chat/completions/completions.d.ts, messages.d.ts) ---

/**
 * A stored ChatCompletion: the SDK's ChatCompletion, plus the request fields OpenAI's reference shows
 * on a stored one (ChatCompletionList's example: metadata, tool_choice, seed, top_p, temperature,
 * presence_penalty, frequency_penalty, tools, response_format, input_user).
 */
const functionToolCall = z.strictObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.strictObject({ name: z.string(), arguments: z.string() }),
});
const storedCompletionShape = z.strictObject({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: integer,
  model: z.string(),
  choices: z.array(
    z.strictObject({
      index: integer,
      finish_reason: z.enum(["stop", "length", "tool_calls", "content_filter", "function_call"]),
      logprobs: z.unknown().nullable(),
      message: z.strictObject({
        role: z.literal("assistant"),
        content: z.string().nullable(),
        refusal: z.string().nullable(),
        annotations: z.array(z.unknown()).optional(),
        tool_calls: z.array(functionToolCall).optional(),
      }),
    }),
  ),
  usage: z.record(z.string(), z.unknown()).optional(),
  service_tier: z.enum(["auto", "default", "flex", "scale", "priority"]).nullable().optional(),
  system_fingerprint: z.string().optional(),
  metadata: metadata.nullable(),
  tool_choice: z.unknown(),
  seed: integer.nullable(),
  top_p: z.number().nullable(),
  temperature: z.number().nullable(),
  presence_penalty: z.number().nullable(),
  frequency_penalty: z.number().nullable(),
  tools: z.array(z.unknown()).nullable(),
  response_format: z.unknown(),
  input_user: z.string().nullable(),
});

/**
 * ChatCompletionStoreMessage: ChatCompletionMessage (content and refusal required, nullable) with id
 * and content_parts. The types give role as 'assistant' only; a stored request holds every role, and
 * OpenAI's reference example lists a user message with `name: null`, which is allowed here.
 */
const storeMessageShape = z.strictObject({
  id: z.string(),
  role: z.enum(["developer", "system", "user", "assistant", "tool"]),
  content: z.string().nullable(),
  refusal: z.string().nullable(),
  name: z.string().nullable().optional(),
  content_parts: z
    .array(
      z.union([
        z.strictObject({ type: z.literal("text"), text: z.string() }),
        z.strictObject({
          type: z.literal("image_url"),
          image_url: z.strictObject({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }),
        }),
      ]),
    )
    .nullable()
    .optional(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_call_id: z.string().optional(),
});

describe("Stored chat completions (ChatCompletion as stored, ChatCompletionStoreMessage, ChatCompletionDeleted)", () => {
  it("answers retrieve, update, list with filters, messages and delete in the SDK's shapes", async () => {
    const public_ = { headers: { "x-tandem-sensitivity": "public" } };
    const made = await client.chat.completions.create(
      {
        model: MODEL,
        store: true,
        metadata: { run: "shapes" },
        messages: [
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: IMAGE, detail: "low" } },
            ],
          },
          { role: "assistant", content: "A pixel." },
          { role: "user", content: "Thanks." },
        ],
      },
      public_,
    );
    const other = await client.chat.completions.create({
      model: MODEL,
      store: true,
      messages: [{ role: "user", content: "Hi" }],
    });
    const stored = check(storedCompletionShape, await client.chat.completions.retrieve(made.id), "retrieve");
    assert.deepEqual(stored.metadata, { run: "shapes" });
    const updated = await client.chat.completions.update(made.id, { metadata: { run: "shapes", seen: "yes" } });
    assert.deepEqual(check(storedCompletionShape, updated, "update").metadata, { run: "shapes", seen: "yes" });

    const byMetadata = [];
    for await (const c of client.chat.completions.list({ metadata: { seen: "yes" } })) byMetadata.push(c.id);
    assert.deepEqual(byMetadata, [made.id]);
    const byModel = await client.chat.completions.list({ model: MODEL, limit: 1 });
    check(storedCompletionShape, byModel.data[0], "list");
    assert.equal(byModel.has_more, true);
    check(list(storedCompletionShape), (await raw("GET", "/chat/completions?limit=2")).body, "list body");

    const messages = [];
    for await (const message of client.chat.completions.messages.list(made.id, { limit: 2 })) {
      messages.push(check(storeMessageShape, message, `message ${messages.length}`));
    }
    assert.deepEqual(
      messages.map((m) => [m.id, m.role, m.content, m.refusal]),
      [
        [`${made.id}-0`, "system", "Be brief.", null],
        [`${made.id}-1`, "user", "What is this?", null],
        [`${made.id}-2`, "assistant", "A pixel.", null],
        [`${made.id}-3`, "user", "Thanks.", null],
      ],
    );
    assert.deepEqual(messages[1]?.content_parts, [
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: IMAGE, detail: "low" } },
    ]);
    assert.equal(messages[0]?.content_parts, null);

    check(deletedShape("chat.completion.deleted"), await client.chat.completions.delete(other.id), "delete");
    const curl = await raw("DELETE", `/chat/completions/${made.id}`, { headers: { "content-type": "application/json" } });
    assert.equal(curl.status, 200, JSON.stringify(curl.body));
    check(deletedShape("chat.completion.deleted"), curl.body, "delete as OpenAI's curl");
  });

  it("stores a streamed answer and a tool call answer as ChatCompletions of the same shape", async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      store: true,
      stream: true,
      messages: [{ role: "user", content: "Stream it." }],
    });
    let streamedId = "";
    for await (const chunk of stream) streamedId = chunk.id;
    const streamed = check(storedCompletionShape, await client.chat.completions.retrieve(streamedId), "streamed");
    assert.equal(streamed.choices[0]?.message.content, "Hello there.");

    upstream.script(() => ({ kind: "tool_calls", calls: [{ id: "call_9", name: "lookup", arguments: { q: "x" } }] }));
    try {
      const called = await client.chat.completions.create({
        model: MODEL,
        store: true,
        messages: [{ role: "user", content: "Look it up." }],
        tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object" } } }],
      });
      const stored = check(storedCompletionShape, await client.chat.completions.retrieve(called.id), "tool call");
      assert.equal(stored.choices[0]?.finish_reason, "tool_calls");
      assert.equal(stored.choices[0]?.message.tool_calls?.[0]?.function.name, "lookup");
      assert.equal(stored.tools?.length, 1);
    } finally {
      upstream.script(() => ({ kind: "text", text: "Hello there.", usage: { input: 7, output: 3 } }));
    }
  });

  it("answers unknown ids with OpenAI's 404 and bad parameters with 400s naming them", async () => {
    const missing = await client.chat.completions.retrieve("chatcmpl-missing").catch((e: unknown) => e);
    assert.ok(missing instanceof OpenAI.NotFoundError);
    assert.equal(missing.message, "404 Chat completion with id 'chatcmpl-missing' not found.");
    for (const path of ["/chat/completions/chatcmpl-missing", "/chat/completions/chatcmpl-missing/messages"]) {
      const answer = await raw("GET", path);
      assert.equal(answer.status, 404, path);
      check(errorBody, answer.body, path);
    }
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["order=up", "order"],
    ] as const) {
      const answer = await raw("GET", `/chat/completions?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(check(errorBody, answer.body, query).error.param, param);
    }
    const badMetadata = await client.chat.completions
      .create({ model: MODEL, store: true, metadata: { k: "v".repeat(513) }, messages: [{ role: "user", content: "Hi" }] })
      .catch((e: unknown) => e);
    assert.ok(badMetadata instanceof OpenAI.BadRequestError);
  });
});
