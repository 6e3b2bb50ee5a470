/**
 * Files and audio in POST /v1/responses (`input_file` by `file_data`, `file_id` or `file_url`;
 * `input_audio`; an `input_image` by `file_id`), as the OpenAI Agents SDK and the Codex CLI attach
 * PDFs, through the official openai SDK against a real tandem. A part by an id tandem's Files API
 * does not have (the upstream's own), by URL, or audio, has no canonical form, so it reaches only a
 * Responses-native target, in the body exactly as the SDK sent it (but what tandem documents: the
 * upstream's model, `store: false`, `include` of the encrypted reasoning, `stream`); a target on
 * another wire is skipped, and a plan with none answers OpenAI's 400 naming the part. (Bytes sent
 * inline cross to any target: see files-in-requests.test.ts.)
 * Bytes sent inline count as an image does for privacy (a file by id or URL does not). Stored, the
 * part goes back to a Responses-native target on later turns as it was given, and input_items lists
 * it so; a later turn on another wire is given the conversation without it, named in x-tandem-warnings.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type {
  ResponseCreateParamsNonStreaming,
  ResponseInputItem,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const NATIVE = "gpt/gpt-5-mini";
const CHAT = "chat/gpt-4o-mini";
const INCLUDE = ["reasoning.encrypted_content"];

let tandem: RunningTandem;
let native: FakeResponsesUpstream;
let chat: FakeOpenAIUpstream;
let client: OpenAI;
const state = new MemoryStateStore();

before(async () => {
  [native, chat] = await Promise.all([startFakeOpenAIResponses(), startFakeOpenAI({ models: ["gpt-4o-mini"] })]);
  const once = { retry: { attempts: 1 }, streamUpstream: false };
  tandem = await startTandem(
    {
      providers: {
        gpt: { kind: "openai", baseUrl: native.url, apiKeys: ["env:UP_OPENAI"], responses: true, local: false },
        chat: { kind: "openai", baseUrl: chat.url, apiKeys: ["env:UP_OPENAI"], local: false },
      },
      routes: {
        // Default privacy (local-only, images private): a file's bytes keep a request off these cloud targets.
        native: { tiers: [NATIVE], ...once },
        "chat-only": { tiers: [CHAT], ...once },
        "chat-first": { tiers: [CHAT, NATIVE], ...once },
        // The route lets what it cannot read go, as it lets images go.
        open: { tiers: [NATIVE], imagesArePrivate: false, ...once },
        "open-chat": { tiers: [CHAT], imagesArePrivate: false, ...once },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-test" }, state },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([native?.close(), chat?.close()]);
});

beforeEach(() => {
  native.requests.length = 0;
  native.responseBodies.length = 0;
  native.responseTexts.length = 0;
  chat.requests.length = 0;
  native.script(() => ({ kind: "answer", text: "It is a report." }));
  chat.script(() => ({ kind: "text", text: "From the chat target." }));
});

const PDF = "data:application/pdf;base64,JVBERi0xLjQKJcOkw7zDtsOf";
const fileData = { type: "input_file", filename: "report.pdf", file_data: PDF } as const;
const fileId = { type: "input_file", file_id: "file-abc123" } as const;
const fileUrl = { type: "input_file", file_url: "https://example.com/report.pdf" } as const;
// The SDK's message content union has no audio part (ResponseInputAudio is a type of its own); the API takes it.
const audio = { type: "input_audio", input_audio: { data: "UklGRiQAAABXQVZF", format: "wav" } } as never;

function ask(...parts: unknown[]): ResponseInputItem[] {
  return [
    {
      role: "user",
      content: [{ type: "input_text", text: "What do these say?" }, ...parts] as never,
    },
  ];
}

/** The SDK's body (its JSON, key order kept) with only what tandem documents changed for the upstream. */
function expected(params: object, changed: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(JSON.stringify(params)), ...changed });
}

async function refused(request: Promise<unknown>, status: number): Promise<InstanceType<typeof OpenAI.APIError>> {
  let caught: unknown;
  await assert.rejects(request, (err: unknown) => {
    caught = err;
    return err instanceof OpenAI.APIError && err.status === status;
  });
  return caught as InstanceType<typeof OpenAI.APIError>;
}

describe("to a Responses-native target", () => {
  it("file_data, file_id, file_url and input_audio parts reach it byte for byte; input_items lists them as given", async () => {
    const params: ResponseCreateParamsNonStreaming = {
      model: "open",
      instructions: "Be brief.",
      input: ask(fileData, fileId, fileUrl, audio),
      metadata: { case: "files" },
    };
    const { data, response } = await client.responses.create(params).withResponse();
    assert.equal(native.responseTexts.length, 1);
    assert.equal(
      native.responseTexts[0],
      expected(params, { model: "gpt-5-mini", store: false, include: INCLUDE, stream: false }),
    );
    assert.equal(data.output_text, "It is a report.");
    assert.equal(response.headers.get("x-tandem-target"), NATIVE);
    assert.equal(response.headers.get("x-tandem-warnings"), null);
    assert.equal(chat.requests.length, 0);

    const listed = await client.responses.inputItems.list(data.id);
    const item = listed.data[0] as { type: string; role: string; content: unknown[] };
    assert.equal(listed.data.length, 1);
    assert.equal(item.type, "message");
    assert.equal(JSON.stringify(item.content), JSON.stringify((params.input as { content: unknown[] }[])[0]?.content));
  });

  it("streamed: the same bytes (the SDK's stream: true kept), and the upstream's events come back", async () => {
    const params = { model: "open", input: ask(fileData), stream: true as const };
    const stream = await client.responses.create(params);
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(native.responseTexts[0], expected(params, { model: "gpt-5-mini", store: false, include: INCLUDE }));
    const done = events.at(-1);
    assert.equal(done?.type, "response.completed");
    const message = done?.type === "response.completed" ? done.response.output[0] : undefined;
    assert.equal(
      message?.type === "message" && message.content[0]?.type === "output_text" && message.content[0].text,
      "It is a report.",
    );
  });

  it("a file in a function_call_output, and an image by file_id, go through too; the store: false the client sent stays", async () => {
    const params: ResponseCreateParamsNonStreaming = {
      model: "open",
      store: false,
      input: [
        { role: "user", content: [{ type: "input_image", file_id: "file-img1", detail: "auto" }] },
        { type: "function_call", call_id: "call_1", name: "fetch_report", arguments: "{}" },
        { type: "function_call_output", call_id: "call_1", output: [fileData] },
      ],
      tools: [{ type: "function", name: "fetch_report", parameters: { type: "object", properties: {} }, strict: false }],
    };
    await client.responses.create(params);
    assert.equal(native.responseTexts[0], expected(params, { model: "gpt-5-mini", stream: false }));
  });

  it("malformed parts are OpenAI's 400 naming the field", async () => {
    const bad = await refused(client.responses.create({ model: "open", input: ask({ type: "input_file" }) }), 400);
    assert.equal(bad.param, "input[0].content[1]");
    assert.equal(bad.code, "missing_required_parameter");
    const noFormat = await refused(
      client.responses.create({ model: "open", input: ask({ type: "input_audio", input_audio: { data: "UklGRg==" } }) }),
      400,
    );
    assert.equal(noFormat.param, "input[0].content[1].input_audio.format");
    assert.equal(native.requests.length, 0);
  });
});

describe("targets on another wire", () => {
  it("a plan with only a chat-completions target: OpenAI's 400 naming the part, nothing sent", async () => {
    for (const stream of [false, true]) {
      const err = await refused(client.responses.create({ model: "chat-only", input: ask(fileId), stream }), 400);
      assert.equal(err.type, "invalid_request_error");
      assert.equal(err.param, "input[0].content[1]");
      assert.match(err.message, /an input_file part can be sent only to a target that speaks .*openai-responses/);
    }
    const named = await refused(client.responses.create({ model: CHAT, input: ask(fileUrl) }), 400);
    assert.equal(named.param, "input[0].content[1]");
    assert.equal(chat.requests.length, 0);
  });

  it("a route with both: the chat target is skipped and the Responses-native one answers", async () => {
    const { data, response } = await client.responses.create({ model: "chat-first", input: ask(fileId) }).withResponse();
    assert.equal(data.output_text, "It is a report.");
    assert.equal(response.headers.get("x-tandem-target"), NATIVE);
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /chat\/gpt-4o-mini/);
    assert.equal(chat.requests.length, 0);
    // Without a file, the same route's first target answers.
    const plain = await client.responses.create({ model: "chat-first", input: "Hi" }).withResponse();
    assert.equal(plain.response.headers.get("x-tandem-target"), CHAT);
  });
});

describe("privacy", () => {
  it("a file by id or URL sends no new data: a cloud target takes it under the default policy", async () => {
    const { response } = await client.responses.create({ model: "native", input: ask(fileId, fileUrl) }).withResponse();
    assert.equal(response.headers.get("x-tandem-target"), NATIVE);
    assert.equal(native.requests.length, 1);
  });

  it("a file's bytes or an audio clip: private under the default policy, a 403 that says why, nothing sent", async () => {
    for (const part of [fileData, audio]) {
      const err = await refused(client.responses.create({ model: "native", input: ask(part) }), 403);
      assert.match(err.message, /found 1 attachment that cannot be read/);
    }
    assert.equal(native.requests.length, 0);
  });

  it("the same bytes go when the client declares the request public, or the route lets images go", async () => {
    const declared = await client.responses
      .create({ model: "native", input: ask(fileData) }, { headers: { "x-tandem-sensitivity": "public" } })
      .withResponse();
    assert.equal(declared.response.headers.get("x-tandem-sensitivity"), "public");
    const allowed = await client.responses.create({ model: "open", input: ask(fileData) });
    assert.equal(allowed.output_text, "It is a report.");
    assert.equal(native.requests.length, 2);
  });
});

describe("stored history", () => {
  it("goes back to a Responses-native target as given; to a chat target as a file part, the unknown id named; privacy still counts it", async () => {
    const first = await client.responses.create({ model: "open", input: ask(fileData, fileId) });
    const sentParts = JSON.stringify((ask(fileData, fileId)[0] as { content: unknown }).content);

    // Turn 2 on the native target: the stored message, its parts exactly as the client gave them.
    const second = await client.responses.create({ model: "open", previous_response_id: first.id, input: "And page 2?" });
    const input = native.responseBodies.at(-1)?.input as { role?: string; content?: unknown }[];
    assert.equal(input.length, 3);
    assert.equal(JSON.stringify(input[0]?.content), sentParts);
    assert.equal(input[1]?.role, "assistant");

    // Turn 3 on a chat target: the PDF sent inline as a chat `file` part (OpenAI chat reads PDFs);
    // the part by an id tandem does not have left out, said in x-tandem-warnings.
    const { data: third, response } = await client.responses
      .create({ model: "open-chat", previous_response_id: second.id, input: "Summarize." })
      .withResponse();
    assert.equal(third.output_text, "From the chat target.");
    assert.equal(response.headers.get("x-tandem-target"), CHAT);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /input_file parts were left out/);
    const messages = (chat.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] }).messages;
    const said = JSON.stringify(messages);
    for (const piece of ["What do these say?", "It is a report.", "And page 2?", "Summarize."])
      assert.ok(said.includes(piece), piece);
    const user = messages[0]?.content as { type: string; file?: { filename?: string; file_data?: string } }[];
    assert.deepEqual(user[1], { type: "file", file: { filename: "report.pdf", file_data: PDF } });
    assert.equal(user.length, 2, "the part by an unknown file_id did not cross");
    assert.equal(said.includes("file-abc123"), false);

    // The file's bytes in the history count on every later turn, as an image would: default privacy keeps it here.
    const err = await refused(client.responses.create({ model: "native", previous_response_id: second.id, input: "More?" }), 403);
    assert.match(err.message, /found 1 attachment that cannot be read/);

    // input_items of the first turn: the part as given.
    const listed = await client.responses.inputItems.list(first.id);
    assert.equal(JSON.stringify((listed.data[0] as { content: unknown }).content), sentParts);
  });

  it("a conversation keeps the part for its later turns; by id only, the history needs no privacy exception", async () => {
    const conversation = await client.conversations.create({});
    await client.responses.create({ model: "native", conversation: conversation.id, input: ask(fileId) });
    await client.responses.create({ model: "native", conversation: conversation.id, input: "Next page?" });
    const input = native.responseBodies.at(-1)?.input as { content?: unknown }[];
    assert.equal(JSON.stringify(input[0]?.content), JSON.stringify((ask(fileId)[0] as { content: unknown }).content));
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    const stored = items.data[0] as { content: unknown[] };
    assert.deepEqual(stored.content[1], fileId);
    // On a chat target under the default policy: answered, the file by id left out and named.
    const { response } = await client.responses
      .create({ model: "chat-only", conversation: conversation.id, input: "Thanks." })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), CHAT);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /input_file parts were left out/);
  });
});
