/**
 * The Responses WebSocket mode driven as Codex drives it: a `store: false` tool-call chain continued
 * on the connection with only the call's output (the connection must carry the function call item
 * it answered, or the upstream gets a tool result without its call).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { connectResponsesSocket as connect } from "../support/responses-socket-client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
const MODEL = "openai/gpt-4o-mini";

before(async () => {
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
    { env: { UP_OPENAI: "sk-upstream-openai" }, state: new MemoryStateStore() },
  );
});

after(async () => {
  await tandem?.close();
  await openai?.close();
});

beforeEach(() => {
  openai.requests.length = 0;
});

const TOOLS = [{ type: "function", name: "read_file", parameters: { type: "object", properties: { path: { type: "string" } } } }];

describe("Responses WebSocket mode, as Codex uses it", () => {
  it("continues a store: false tool-call chain with only the call's output, as Codex does", async () => {
    let n = 0;
    openai.script(() =>
      ++n === 1
        ? { kind: "tool_calls", calls: [{ id: "call_1", name: "read_file", arguments: { path: "a.txt" } }] }
        : { kind: "text", text: "The file says hi." },
    );
    const { socket, turn } = await connect(tandem.url);
    const first = await turn({ type: "response.create", model: MODEL, store: false, tools: TOOLS, input: "Read a.txt" });
    const done = first.at(-1) as { type: string; response: { id: string; output: { type: string; call_id?: string }[] } };
    assert.equal(done.type, "response.completed", JSON.stringify(first.at(-1)));
    const call = done.response.output.find((item) => item.type === "function_call");
    assert.ok(call?.call_id, JSON.stringify(done.response.output));
    const second = await turn({
      type: "response.create",
      model: MODEL,
      store: false,
      tools: TOOLS,
      previous_response_id: done.response.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "hi" }],
    });
    assert.equal(second.at(-1)?.type, "response.completed", JSON.stringify(second.at(-1)));
    const messages = (openai.requests[1]?.body as { messages: { role: string; tool_calls?: unknown[] }[] }).messages;
    assert.deepEqual(
      messages.map((m) => m.role),
      ["user", "assistant", "tool"],
    );
    socket.close();
  });
});

describe("a Responses WebSocket message nested deeper than a request body may be", () => {
  it("is refused as the HTTP route refuses it: 400 naming the field, in its lane, and the connection goes on", async () => {
    const { socket, received, until, turn } = await connect(tandem.url);
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    socket.send(`{"type":"response.create","model":"${MODEL}","input":"hi","stream_id":"lane-1","x":${deep}}`);
    const [error] = (await until(["error"])) as Array<{
      status: number;
      stream_id?: string;
      error: { message: string; param: string };
    }>;
    assert.equal(error?.status, 400, JSON.stringify(error));
    assert.match(
      error.error.message,
      /^Invalid value for 'x\[0\]\[0\]\[0\]\[0\]\[0\]…': arrays and objects nested more than 100 levels deep/,
    );
    assert.equal(error.stream_id, "lane-1");
    openai.script(() => ({ kind: "text", text: "still here" }));
    const next = await turn({ type: "response.create", model: MODEL, input: "hi" });
    assert.equal(next.at(-1)?.type, "response.completed", JSON.stringify(received));
    socket.close();
  });
});
