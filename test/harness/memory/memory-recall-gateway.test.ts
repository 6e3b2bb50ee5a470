/**
 * MemoryRecallGateway's own decisions, over a recording gateway: where the memory message goes,
 * how the request's declared level is raised, and what happens when recall cannot be made (a part
 * only the client's wire carries, a failing store): the request is answered without memories and
 * says so, never failed for them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest, ChatStream, Gateway, MemoryStore, RequestContext } from "../../../src/core/index.js";
import { InProcessMemoryStore } from "../../../src/harness/memory/in-process-memory-store.js";
import { Memories } from "../../../src/harness/memory/memories.js";
import { MemoryRecallGateway, type RecallReport } from "../../../src/harness/memory/memory-recall-gateway.js";

function recordingGateway(): { gateway: Gateway; calls: { request: ChatRequest; context: RequestContext }[] } {
  const calls: { request: ChatRequest; context: RequestContext }[] = [];
  const gateway = {
    async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
      calls.push({ request, context });
      return {
        meta: { route: request.model, target: "t/m", attempts: 1, degraded: undefined },
        events: (async function* () {})(),
      };
    },
  } as unknown as Gateway;
  return { gateway, calls };
}

const user = (text: string) => ({ role: "user" as const, content: [{ type: "text" as const, text }] });
const context = (headers: Record<string, string> = {}): RequestContext => ({ signal: new AbortController().signal, headers });
const settings = { recall: 5, minScore: 0.1 };

async function setUp(store: MemoryStore = new InProcessMemoryStore()) {
  const memories = new Memories({ store, classify: (text) => (text.includes("@") ? "private" : "public") });
  const { gateway, calls } = recordingGateway();
  const reports: RecallReport[] = [];
  const recall = new MemoryRecallGateway(
    gateway,
    memories,
    (model) => (model === "mem" ? settings : undefined),
    (r) => reports.push(r),
  );
  return { memories, recall, calls, reports };
}

describe("MemoryRecallGateway", () => {
  it("puts the memories after every leading system message, and only on routes with memory", async () => {
    const { memories, recall, calls } = await setUp();
    const kept = await memories.add({ text: "The user keeps bees" }, new AbortController().signal);
    const stream = await recall.chat(
      {
        model: "mem",
        stream: false,
        messages: [{ role: "system", content: "a" }, { role: "system", content: "b" }, user("bees?")],
        native: { wire: "openai-chat", body: {}, headers: {}, lost: () => [] },
      },
      context(),
    );
    assert.deepEqual(stream.meta.memory, [kept.id]);
    const sent = calls[0]?.request;
    assert.deepEqual(
      sent?.messages.map((m) => m.role),
      ["system", "system", "system", "user"],
    );
    assert.match(String(sent?.messages[2]?.content), /The user keeps bees/);
    assert.equal(sent?.native, undefined, "the pass-through body would not carry the memories");
    await recall.chat({ model: "other", stream: false, messages: [user("bees?")] }, context());
    assert.equal(calls[1]?.request.messages.length, 1);
  });

  it("raises a declared level to a private memory's, and declares private when nothing was declared", async () => {
    const { memories, recall, calls } = await setUp();
    await memories.add({ text: "Mail the user at a@b.example about bees" }, new AbortController().signal);
    await recall.chat({ model: "mem", stream: false, messages: [user("bees")] }, context({ "x-tandem-sensitivity": "public" }));
    assert.equal(calls[0]?.context.headers["x-tandem-sensitivity"], "private");
    await recall.chat({ model: "mem", stream: false, messages: [user("bees")] }, context());
    assert.equal(calls[1]?.context.headers["x-tandem-sensitivity"], "private");
  });

  it("leaves the level alone for public memories (detection still reads the request)", async () => {
    const { memories, recall, calls } = await setUp();
    await memories.add({ text: "The user keeps bees" }, new AbortController().signal);
    await recall.chat({ model: "mem", stream: false, messages: [user("bees")] }, context());
    assert.equal(calls[0]?.context.headers["x-tandem-sensitivity"], undefined);
  });

  it("answers without memories, and says so, when the request holds a wire-only part", async () => {
    const { memories, recall, calls, reports } = await setUp();
    await memories.add({ text: "The user keeps bees" }, new AbortController().signal);
    const native = {
      wire: "openai-chat" as const,
      body: {},
      headers: {},
      lost: () => [],
      wireOnly: [{ param: "n", what: "n: 2" }],
    };
    const stream = await recall.chat({ model: "mem", stream: false, messages: [user("bees")], native }, context());
    assert.equal(calls[0]?.request.native, native);
    assert.equal(calls[0]?.request.messages.length, 1);
    assert.deepEqual(stream.meta.warnings, ["memory (the request holds n)"]);
    assert.equal(stream.meta.memory, undefined);
    assert.equal(reports[0]?.skipped, "wire_only");
  });

  it("answers without memories, and says so, when the store fails", async () => {
    const failing = new InProcessMemoryStore();
    failing.search = async () => {
      throw Object.assign(new Error("disk I/O error"), { code: "io" });
    };
    const { recall, calls, reports } = await setUp(failing);
    const stream = await recall.chat({ model: "mem", stream: false, messages: [user("bees")] }, context());
    assert.equal(calls.length, 1);
    assert.deepEqual(stream.meta.warnings, ["memory (the memory store could not be read)"]);
    assert.equal(reports[0]?.skipped, "store_failed: io");
  });

  it("recalls nothing for a request without a user turn with text", async () => {
    const { memories, recall, calls } = await setUp();
    await memories.add({ text: "The user keeps bees" }, new AbortController().signal);
    await recall.chat({ model: "mem", stream: false, messages: [{ role: "system", content: "bees" }] }, context());
    assert.equal(calls[0]?.request.messages.length, 1);
  });
});
