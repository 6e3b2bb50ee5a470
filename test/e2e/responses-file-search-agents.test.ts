/**
 * The OpenAI Agents SDK's `fileSearchTool` through a real tandem: an agent whose model is a fake
 * chat-only upstream searches tandem's own vector store (the SDK sends OpenAI's `file_search` tool;
 * tandem's tool loop runs it), whole and streamed, and the SDK reads the `file_search_call` item as
 * the hosted tool call it is. Tracing is off so that nothing leaves 127.0.0.1.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  Agent,
  fileSearchTool,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  setTracingExportApiKey,
} from "@openai/agents";
import OpenAI, { toFile } from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

type WireMessage = { role: string; content?: unknown };

const messagesOf = (request: RecordedRequest | undefined): WireMessage[] =>
  ((request?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];

let upstream: FakeUpstream;
let tandem: RunningTandem;
let store: string;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP"], local: false } } },
    { env: { UP: "sk-upstream" } },
  );
  const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  setTracingDisabled(true);
  setTracingExportApiKey("");
  setDefaultOpenAIClient(client);
  setOpenAIAPI("responses");
  const vs = await client.vectorStores.create({ name: "handbook" });
  const file = await client.vectorStores.files.uploadAndPoll(
    vs.id,
    await toFile(Buffer.from("Every employee has 27 days of paid leave a year."), "handbook.md"),
  );
  assert.equal(file.status, "completed");
  store = vs.id;
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") {
      const days = /(\d+) days/.exec(String(last.content))?.[1] ?? "no";
      return { kind: "text", text: `You have ${days} days of leave (handbook.md).` };
    }
    return { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["paid leave days"] } }] };
  });
});

describe("OpenAI Agents SDK fileSearchTool through tandem", () => {
  it("runs an agent that searches tandem's vector store, whole and streamed", async () => {
    const agent = new Agent({
      name: "HR",
      instructions: "Answer from the handbook.",
      model: "openai/gpt-4o-mini",
      tools: [fileSearchTool([store], { includeSearchResults: true })],
    });
    const result = await run(agent, "How many days of leave do I get?");
    assert.equal(result.finalOutput, "You have 27 days of leave (handbook.md).");
    const hosted = result.newItems.find((item) => item.type === "tool_call_item");
    assert.ok(hosted, "the search is an item of the run");
    assert.equal((hosted.rawItem as { type: string }).type, "hosted_tool_call");
    assert.equal((hosted.rawItem as { name: string }).name, "file_search_call");
    const offered = (upstream.requests[0]?.body as { tools?: { function: { name: string } }[] }).tools;
    assert.deepEqual(
      offered?.map((t) => t.function.name),
      ["file_search"],
    );

    const streamed = await run(agent, "How many days of leave do I get?", { stream: true });
    for await (const _ of streamed) {
      // drained
    }
    await streamed.completed;
    assert.equal(streamed.finalOutput, "You have 27 days of leave (handbook.md).");
  });
});
