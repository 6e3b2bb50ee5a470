/**
 * The Responses API's `file_search` tool through a real tandem with the official openai SDK: tandem's
 * tool loop offers the model a `file_search` function, searches tandem's own vector stores when the
 * model calls it, gives the model the passages, and the client gets OpenAI's `file_search_call` item
 * (results only with `include: ["file_search_call.results"]`) and its events, then the answer —
 * through a fake OpenAI chat upstream, a fake Anthropic one, and a fake Responses-only upstream
 * (which is never sent the file_search tool), whole and streamed. Then filters, tool_choice, a stored
 * response continued on another target, bad tools, and privacy: a private passage found while a
 * cloud target answers makes the next turn local, and no cloud upstream ever receives it. The
 * answer cites (`file_citation`) the files it names.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, sealed, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CARD = "4111 1111 1111 1111";

/** The text of the last tool result an upstream was sent (OpenAI chat, Anthropic, Ollama or Responses wire), if the last turn is one. */
function lastToolResult(request: RecordedRequest): string | undefined {
  const body = request.body as {
    messages?: Array<{ role: string; content: unknown }>;
    input?: Array<{ type?: string; output?: unknown }>;
  };
  const lastInput = Array.isArray(body.input) ? body.input.at(-1) : undefined;
  if (lastInput?.type === "function_call_output") return String(lastInput.output);
  const last = body.messages?.at(-1);
  if (!last) return undefined;
  if (last.role === "tool") return typeof last.content === "string" ? last.content : JSON.stringify(last.content);
  if (Array.isArray(last.content)) {
    const block = last.content.find((b: { type?: string }) => b.type === "tool_result") as { content?: unknown } | undefined;
    if (block) return typeof block.content === "string" ? block.content : JSON.stringify(block.content);
  }
  return undefined;
}

/** The names of the tools an upstream was offered, whatever its wire. */
function offered(request: RecordedRequest | undefined): string[] {
  const tools = ((request?.body as { tools?: unknown[] }).tools ?? []) as Array<{ name?: string; function?: { name: string } }>;
  return tools.map((t) => t.function?.name ?? t.name ?? "");
}

/** What the fake model answers after a search: the passage it read, so a test sees what it was given. */
function answerFrom(result: string): string {
  const pier = /pier \d+/.exec(result)?.[0];
  return pier ? `The boat is at ${pier} (sailing.md).` : `Nothing found: ${result.slice(0, 80)}`;
}

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let ollama: FakeUpstream;
let codex: FakeResponsesUpstream;
let tandem: RunningTandem;
let client: OpenAI;
let store: string;
let privateStore: string;
let sailingId: string;

before(async () => {
  [openai, anthropic, ollama, codex] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAIResponses({ models: ["gpt-5"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"] },
        codex: { kind: "openai", baseUrl: codex.url, apiKeys: ["env:UP"], responses: "only", local: false },
        // On loopback: a local target.
        ollama: { kind: "ollama", baseUrl: ollama.url },
      },
      // Cloud first, local after: a private turn can only go to the local one.
      routes: { hybrid: { tiers: ["openai/gpt-4o-mini", "ollama/llama3.2:latest"] } },
    },
    { env: { UP: "sk-upstream" }, store: true },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const upload = async (name: string, text: string) =>
    client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "assistants" });
  const sailing = await upload("sailing.md", "Our sailboat Aurora is moored at pier 7 in the harbour.");
  const baking = await upload("baking.md", "Sourdough wants a lively starter and a hot oven.");
  sailingId = sailing.id;
  store = (await client.vectorStores.create({ name: "notes", file_ids: [sailing.id, baking.id] })).id;
  await client.vectorStores.files.update(sailing.id, { vector_store_id: store, attributes: { topic: "sea" } });
  const card = await upload("card.txt", `The sailboat mooring at pier 9 is paid with card ${CARD}.`);
  privateStore = (await client.vectorStores.create({ name: "private", file_ids: [card.id] })).id;
  await tandem.server.vectorStores.idle();
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close(), ollama?.close(), codex?.close()]);
});

beforeEach(() => {
  for (const fake of [openai, anthropic, ollama]) {
    fake.requests.length = 0;
    fake.script((request) => {
      const result = lastToolResult(request);
      return result !== undefined
        ? { kind: "text", text: answerFrom(result) }
        : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["sailboat pier"] } }] };
    });
  }
  codex.requests.length = 0;
  codex.script((request) => {
    const result = lastToolResult(request);
    return result !== undefined
      ? { kind: "answer", text: answerFrom(result) }
      : { kind: "answer", calls: [{ name: "file_search", arguments: JSON.stringify({ queries: ["sailboat pier"] }) }] };
  });
});

for (const target of ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "codex/gpt-5"]) {
  describe(`file_search over ${target}`, () => {
    it("searches tandem's store for the model and answers, whole: file_search_call then the message", async () => {
      const response = await client.responses.create({
        model: target,
        input: "Where is my boat?",
        tools: [{ type: "file_search", vector_store_ids: [store] }],
        include: ["file_search_call.results"],
      });
      assert.equal(response.status, "completed");
      assert.deepEqual(
        response.output.map((item) => item.type),
        ["file_search_call", "message"],
      );
      const call = response.output[0];
      assert.ok(call?.type === "file_search_call");
      assert.match(call.id, /^fs_/);
      assert.equal(call.status, "completed");
      assert.deepEqual(call.queries, ["sailboat pier"]);
      assert.equal(call.results?.[0]?.file_id, sailingId);
      assert.equal(call.results?.[0]?.filename, "sailing.md");
      assert.deepEqual(call.results?.[0]?.attributes, { topic: "sea" });
      assert.ok((call.results?.[0]?.score ?? 0) > 0);
      assert.equal(response.output_text, "The boat is at pier 7 (sailing.md).");
      // The answer names the file it read: cited there (the index is where the name ends).
      const message = response.output[1];
      assert.ok(message?.type === "message" && message.content[0]?.type === "output_text");
      assert.deepEqual(message.content[0].annotations, [
        { type: "file_citation", file_id: sailingId, filename: "sailing.md", index: "The boat is at pier 7 (sailing.md".length },
      ]);
      assert.deepEqual(response.tools, [
        {
          type: "file_search",
          vector_store_ids: [store],
          filters: null,
          max_num_results: 10,
          ranking_options: { ranker: "auto", score_threshold: 0 },
        },
      ]);
      // Stored and retrievable like other items.
      const stored = await client.responses.retrieve(response.id);
      assert.deepEqual(stored.output[0], call);
    });

    it("streams OpenAI's events: output_item.added, in_progress, searching, completed, output_item.done, then the text", async () => {
      const stream = await client.responses.create({
        model: target,
        input: "Where is my boat?",
        tools: [{ type: "file_search", vector_store_ids: [store] }],
        stream: true,
      });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      const at = (type: string) => types.indexOf(type as ResponseStreamEvent["type"]);
      for (const type of [
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
        "response.output_text.delta",
        "response.completed",
      ]) {
        assert.ok(at(type) >= 0, `${type} in ${types.join(",")}`);
      }
      assert.ok(at("response.file_search_call.in_progress") < at("response.file_search_call.searching"));
      assert.ok(at("response.file_search_call.searching") < at("response.file_search_call.completed"));
      assert.ok(at("response.file_search_call.completed") < at("response.output_text.delta"));
      const done = events.find((e) => e.type === "response.output_item.done" && e.item.type === "file_search_call");
      assert.ok(done?.type === "response.output_item.done" && done.item.type === "file_search_call");
      assert.equal(done.item.results, null, "no results without include");
      assert.deepEqual(done.item.queries, ["sailboat pier"]);
      const completed = events.at(-1);
      assert.ok(completed?.type === "response.completed");
      const message = completed.response.output[1];
      assert.ok(message?.type === "message" && message.content[0]?.type === "output_text");
      assert.equal(message.content[0].text, "The boat is at pier 7 (sailing.md).");
      const citation = { type: "file_citation", file_id: sailingId, filename: "sailing.md", index: 33 };
      assert.deepEqual(message.content[0].annotations, [citation]);
      const added = events.find((e) => e.type === "response.output_text.annotation.added");
      assert.ok(added?.type === "response.output_text.annotation.added");
      assert.deepEqual(added.annotation, citation);
      assert.equal(added.annotation_index, 0);
      assert.ok(at("response.output_text.annotation.added") < at("response.output_text.done"));
      assert.deepEqual(
        completed.response.output.map((item) => item.type),
        ["file_search_call", "message"],
      );
    });
  });
}

describe("file_search", () => {
  it("is never sent to a Responses upstream as a hosted tool: the upstream gets a function", async () => {
    await client.responses.create({
      model: "codex/gpt-5",
      input: "Where?",
      tools: [{ type: "file_search", vector_store_ids: [store] }],
    });
    const body = codex.responseBodies[0] as { tools?: Array<{ type: string; name?: string }> };
    assert.deepEqual(
      body.tools?.map((t) => [t.type, t.name]),
      [["function", "file_search"]],
    );
    assert.ok(!JSON.stringify(codex.responseBodies).includes(store), "the store's id never left");
  });

  it("gives a Responses upstream its sealed reasoning back in the loop's next round, before its call", async () => {
    codex.script((request) =>
      lastToolResult(request) !== undefined
        ? { kind: "answer", text: "At pier 7." }
        : {
            kind: "answer",
            reasoning: "I should search the notes.",
            calls: [{ name: "file_search", arguments: JSON.stringify({ queries: ["sailboat pier"] }) }],
          },
    );
    const response = await client.responses.create({
      model: "codex/gpt-5",
      input: "Where is the sailboat?",
      tools: [{ type: "file_search", vector_store_ids: [store] }],
    });
    assert.equal(response.output_text, "At pier 7.");
    const second = codex.responseBodies.at(-1) as { input: Record<string, unknown>[] };
    assert.deepEqual(
      second.input.map((item) => item.type),
      ["message", "reasoning", "function_call", "function_call_output"],
    );
    assert.deepEqual(second.input[1], {
      type: "reasoning",
      encrypted_content: sealed("I should search the notes."),
      summary: [{ type: "summary_text", text: "I should search the notes." }],
    });
    // Kept for the next turn, not shown: the client did not ask for it.
    const [reasoning] = response.output;
    assert.equal(reasoning?.type, "reasoning");
    assert.equal("encrypted_content" in (reasoning ?? {}), false);
    const listed = await client.responses.retrieve(response.id, { include: ["reasoning.encrypted_content"] });
    assert.equal(
      listed.output[0]?.type === "reasoning" && listed.output[0].encrypted_content,
      sealed("I should search the notes."),
    );
  });

  it("shows the sealed reasoning to a client that asked for it with include, streamed and whole", async () => {
    codex.script((request) =>
      lastToolResult(request) !== undefined
        ? { kind: "answer", text: "At pier 7." }
        : {
            kind: "answer",
            reasoning: "Search first.",
            calls: [{ name: "file_search", arguments: JSON.stringify({ queries: ["sailboat pier"] }) }],
          },
    );
    const request = {
      model: "codex/gpt-5",
      input: "Where is the sailboat?",
      store: false,
      include: ["reasoning.encrypted_content" as const],
      tools: [{ type: "file_search" as const, vector_store_ids: [store] }],
    };
    const whole = await client.responses.create(request);
    const streamed = await client.responses.stream(request).finalResponse();
    for (const response of [whole, streamed]) {
      const [reasoning] = response.output;
      assert.ok(reasoning?.type === "reasoning");
      assert.equal(reasoning.encrypted_content, sealed("Search first."));
      assert.deepEqual(
        reasoning.summary.map((part) => part.text),
        ["Search first."],
      );
    }
  });

  it("applies the tool's filters, and the model reads that nothing matched", async () => {
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Where is my boat?",
      tools: [{ type: "file_search", vector_store_ids: [store], filters: { type: "eq", key: "topic", value: "baking" } }],
      include: ["file_search_call.results"],
    });
    const call = response.output[0];
    assert.ok(call?.type === "file_search_call");
    assert.deepEqual(call.results, []);
    assert.match(response.output_text, /^Nothing found: No passage/);
  });

  it("names only the searches made in x-tandem-tools, and the loop's limit in x-tandem-warnings", async () => {
    // A model that searches whatever it is offered: two searches run (max_tool_calls), the third is not.
    openai.script(() => ({ kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["sailboat pier"] } }] }));
    const { data, response } = await client.responses
      .create({
        model: "openai/gpt-4o-mini",
        input: "Search forever",
        tools: [{ type: "file_search", vector_store_ids: [store] }],
        max_tool_calls: 2,
      } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .withResponse();
    assert.equal(data.status, "completed");
    const searches = data.output.filter((item) => item.type === "file_search_call");
    assert.deepEqual(
      searches.map((item) => item.status),
      ["completed", "completed", "failed"],
    );
    assert.equal(response.headers.get("x-tandem-tools"), "file_search; file_search");
    assert.equal(
      response.headers.get("x-tandem-warnings"),
      "the tool loop stopped at its limit of 2 tool calls (max_tool_calls), without running file_search",
    );
  });

  it("tool_choice {type: file_search} makes the model search (the upstream is told to call it)", async () => {
    await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "hi",
      tools: [{ type: "file_search", vector_store_ids: [store] }],
      tool_choice: { type: "file_search" },
    });
    const first = openai.requests[0]?.body as { tool_choice?: unknown };
    assert.deepEqual(first.tool_choice, { type: "function", function: { name: "file_search" } });
    assert.deepEqual(offered(openai.requests[0]), ["file_search"]);
  });

  it("a stored search is part of the history a later turn on another target reads", async () => {
    const first = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Where is my boat?",
      tools: [{ type: "file_search", vector_store_ids: [store] }],
      include: ["file_search_call.results"],
    });
    anthropic.script(() => ({ kind: "text", text: "ok" }));
    await client.responses.create({ model: "anthropic/claude-haiku-4-5", input: "And again?", previous_response_id: first.id });
    const sent = JSON.stringify(anthropic.requests.at(-1)?.body);
    assert.match(sent, /file_search/);
    assert.match(sent, /pier 7/, "the passage the search found is in the history");
  });

  it("refuses an unknown vector store, a bad tool and a tool_choice without the tool, with OpenAI's 400", async () => {
    const refused = (body: Record<string, unknown>, param: RegExp) =>
      assert.rejects(
        client.responses.create({ model: "openai/gpt-4o-mini", input: "hi", ...body }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && param.test(String((err.error as { param?: string }).param)),
      );
    await refused({ tools: [{ type: "file_search", vector_store_ids: ["vs_nope"] }] }, /^tools$/);
    await refused({ tools: [{ type: "file_search", vector_store_ids: [] }] }, /tools\[0\]\.vector_store_ids/);
    await refused(
      { tools: [{ type: "file_search", vector_store_ids: [store], max_num_results: 51 }] },
      /tools\[0\]\.max_num_results/,
    );
    await refused(
      { tools: [{ type: "file_search", vector_store_ids: [store], filters: { type: "bad" } }] },
      /tools\[0\]\.filters\.type/,
    );
    await refused({ tool_choice: { type: "file_search" } }, /tool_choice/);
    assert.equal(openai.requests.length, 0);
  });

  it("a private passage found while a cloud target answers keeps the next turn local; no cloud upstream receives it", async () => {
    ollama.script((request) => {
      const result = lastToolResult(request) ?? "";
      return { kind: "text", text: result.includes(CARD) ? "The mooring at pier 9 is paid by card." : "no card seen" };
    });
    const response = await client.responses.create({
      model: "hybrid",
      input: "How is the mooring paid?",
      tools: [{ type: "file_search", vector_store_ids: [privateStore] }],
    });
    assert.equal(response.output_text, "The mooring at pier 9 is paid by card.");
    assert.equal(openai.requests.length, 1, "the cloud target answered the first turn only");
    assert.ok(!JSON.stringify(openai.requests.map((r) => r.body)).includes("4111"), "the card never reached the cloud");
    assert.equal(ollama.requests.length, 1);
    // The egress audit has the cloud turn, and no row for a body with the passage.
    const audit = (await (await fetch(`${tandem.url}/v1/audit?limit=100`)).json()) as {
      data: { target: string; sensitivity: string }[];
    };
    assert.ok(audit.data.some((row) => row.target === "openai/gpt-4o-mini"));
    assert.ok(!audit.data.some((row) => row.target.startsWith("openai/") && row.sensitivity === "private"));
    // A later turn of this conversation stays local too (the stored response is private).
    openai.script(() => ({ kind: "text", text: "cloud" }));
    await assert.rejects(
      client.responses.create({ model: "openai/gpt-4o-mini", input: "Say it again", previous_response_id: response.id }),
    );
    assert.equal(openai.requests.length, 1);
  });
});
