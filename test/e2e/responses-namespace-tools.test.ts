/**
 * `namespace` tools (OpenAI's NamespaceTool; the Codex CLI sends every MCP server's tools as one,
 * `mcp__<server>`) through a real tandem server with the openai SDK, to an Anthropic target: the
 * target is given each function tool under a flat name, and the model's call of one comes back with
 * its own name and its `namespace`, whole and streamed; a follow-up that sends the call back (stored
 * or stateless) pairs it with its output on the target.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: OpenAI;

const MODEL = "anthropic/claude-haiku-4-5";
const NAMESPACE = {
  type: "namespace",
  name: "mcp__tandem",
  description: "The user's local AI gateway.",
  tools: [
    { type: "function", name: "list_models", description: "List the models.", parameters: { type: "object", properties: {} } },
    {
      type: "function",
      name: "ask_model",
      description: "Ask a model.",
      parameters: {
        type: "object",
        properties: { model: { type: "string" }, prompt: { type: "string" } },
        required: ["model", "prompt"],
      },
    },
    { type: "custom", name: "apply_patch", description: "A free-form patch." },
  ],
} as unknown as OpenAI.Responses.Tool;

type AnthropicBody = {
  tools?: Array<{ name: string; description?: string }>;
  messages: Array<{ role: string; content: unknown }>;
};

before(async () => {
  anthropic = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
  tandem = await startTandem(
    { providers: { anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] } } },
    { env: { UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await anthropic?.close();
});

beforeEach(() => {
  anthropic.requests.length = 0;
  anthropic.script((request) => {
    const body = request.body as AnthropicBody;
    const last = body.messages.at(-1);
    const isResult =
      Array.isArray(last?.content) && (last.content as Array<{ type: string }>).some((p) => p.type === "tool_result");
    if (isResult) return { kind: "text", text: "Two models are there." };
    return { kind: "tool_calls", calls: [{ name: "mcp__tandem__list_models", arguments: {} }] };
  });
});

describe("namespace tools on the canonical path", () => {
  it("gives the target each function tool under a flat name, and the call back with its name and namespace", async () => {
    const { data, response } = await client.responses
      .create({ model: MODEL, input: "Which models are there?", tools: [NAMESPACE] })
      .withResponse();
    const sent = anthropic.requests[0]?.body as AnthropicBody;
    assert.deepEqual(
      sent.tools?.map((t) => t.name),
      ["mcp__tandem__list_models", "mcp__tandem__ask_model", "mcp__tandem__apply_patch"],
    );
    assert.equal(sent.tools?.[1]?.description, "Ask a model.");
    const call = data.output.find((item) => item.type === "function_call");
    assert.ok(call && call.type === "function_call", JSON.stringify(data.output));
    assert.equal(call.name, "list_models");
    assert.equal(call.namespace, "mcp__tandem");
    // The custom tool inside it crosses too (as a function of one string, custom-tools.ts): nothing left out.
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /left out/);
    // The tools are echoed as the client sent them.
    assert.equal((data.tools[0] as { type: string }).type, "namespace");

    // Continued from the stored response with the call's output: the target gets the pair, by its flat name.
    await client.responses.create({
      model: MODEL,
      previous_response_id: data.id,
      tools: [NAMESPACE],
      input: [{ type: "function_call_output", call_id: call.call_id, output: '{"models":["a","b"]}' }],
    });
    const next = anthropic.requests[1]?.body as AnthropicBody;
    const assistant = next.messages.find((m) => m.role === "assistant")?.content as Array<{
      type: string;
      name?: string;
      id?: string;
    }>;
    const use = assistant.find((p) => p.type === "tool_use");
    assert.equal(use?.name, "mcp__tandem__list_models");
    const result = (next.messages.at(-1)?.content as Array<{ type: string; tool_use_id?: string }>).find(
      (p) => p.type === "tool_result",
    );
    assert.equal(result?.tool_use_id, use?.id);
  });

  it("streams the call with its name and namespace, and a stateless follow-up sends it back as Codex does", async () => {
    const stream = await client.responses.create({
      model: MODEL,
      input: "Which models are there?",
      tools: [NAMESPACE],
      store: false,
      stream: true,
    });
    const items: OpenAI.Responses.ResponseOutputItem[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      if (event.type === "response.output_item.added" || event.type === "response.output_item.done") items.push(event.item);
      if (event.type === "response.completed") completed = event.response;
    }
    const calls = items.filter((item) => item.type === "function_call");
    assert.equal(calls.length, 2, "added and done");
    for (const call of calls) {
      assert.equal(call.type === "function_call" && call.name, "list_models");
      assert.equal(call.type === "function_call" && call.namespace, "mcp__tandem");
    }
    const call = completed?.output.find((item) => item.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.equal(call.namespace, "mcp__tandem");
    const answer = await client.responses.create({
      model: MODEL,
      store: false,
      tools: [NAMESPACE],
      input: [
        { role: "user", content: "Which models are there?" },
        { type: "function_call", call_id: call.call_id, name: "list_models", namespace: "mcp__tandem", arguments: "{}" } as never,
        { type: "function_call_output", call_id: call.call_id, output: '{"models":["a","b"]}' },
      ],
    });
    assert.equal(answer.output_text, "Two models are there.");
    const sent = anthropic.requests[1]?.body as AnthropicBody;
    const use = (sent.messages[1]?.content as Array<{ type: string; name?: string }>).find((p) => p.type === "tool_use");
    assert.equal(use?.name, "mcp__tandem__list_models");
  });

  it("gives a namespace's custom tool's call back as a custom_tool_call with its name and namespace, and takes it back", async () => {
    anthropic.script((request) => {
      const last = (request.body as AnthropicBody).messages.at(-1);
      const isResult =
        Array.isArray(last?.content) && (last.content as Array<{ type: string }>).some((p) => p.type === "tool_result");
      if (isResult) return { kind: "text", text: "Patched." };
      return { kind: "tool_calls", calls: [{ name: "mcp__tandem__apply_patch", arguments: { input: "*** Begin Patch" } }] };
    });
    const first = await client.responses.create({ model: MODEL, input: "Patch it", tools: [NAMESPACE] });
    const call = first.output.find((item) => item.type === "custom_tool_call");
    assert.ok(call && call.type === "custom_tool_call", JSON.stringify(first.output));
    assert.equal(call.name, "apply_patch");
    assert.equal(call.namespace, "mcp__tandem");
    assert.equal(call.input, "*** Begin Patch");
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      tools: [NAMESPACE],
      input: [{ type: "custom_tool_call_output", call_id: call.call_id, output: "Done." }],
    });
    assert.equal(second.output_text, "Patched.");
    const next = anthropic.requests.at(-1)?.body as AnthropicBody;
    const assistant = next.messages.find((m) => m.role === "assistant")?.content as Array<{
      type: string;
      name?: string;
      input?: unknown;
    }>;
    const use = assistant.find((p) => p.type === "tool_use");
    assert.equal(use?.name, "mcp__tandem__apply_patch");
    assert.deepEqual(use?.input, { input: "*** Begin Patch" });
  });

  it("refuses a malformed namespace tool with a 400 naming the field", async () => {
    for (const [tool, param] of [
      [{ type: "namespace", name: "ns" }, "tools[0].tools"],
      [{ type: "namespace", tools: [] }, "tools[0].name"],
      [{ type: "namespace", name: "ns", tools: [{ type: "function" }] }, "tools[0].tools[0].name"],
    ] as const) {
      await assert.rejects(
        client.responses.create({ model: MODEL, input: "x", tools: [tool as unknown as OpenAI.Responses.Tool] }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === param,
      );
    }
    assert.equal(anthropic.requests.length, 0);
  });

  it("refuses a plain function tool named as a namespaced tool is offered (either order), naming the later: neither is dropped nor sent twice", async () => {
    const plain = {
      type: "function",
      name: "mcp__tandem__list_models",
      description: "Another tool of the same flat name.",
      parameters: { type: "object", properties: {} },
    } as unknown as OpenAI.Responses.Tool;
    for (const [tools, param] of [
      [[plain, NAMESPACE], "tools[1].tools[0].name"],
      [[NAMESPACE, plain], "tools[1].name"],
    ] as const) {
      await assert.rejects(
        client.responses.create({ model: MODEL, input: "x", tools: [...tools] }),
        (err: unknown) =>
          err instanceof OpenAI.BadRequestError && err.param === param && /mcp__tandem__list_models/.test(err.message),
      );
    }
    assert.equal(anthropic.requests.length, 0);
  });
});
