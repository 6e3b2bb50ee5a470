/**
 * Custom tools (OpenAI's CustomTool: free-form text input, such as an `apply_patch` tool with a
 * Lark grammar) through a real tandem server with the openai SDK, to targets that have no custom
 * tools (an OpenAI-compatible chat upstream, Anthropic): the target is given a function of one string,
 * `input`, with the tool's grammar in its description, and the model's call comes back as a
 * `custom_tool_call` whose input is that string, whole and streamed (the SDK's own events); a
 * follow-up that sends the call and its `custom_tool_call_output` back, stored or stateless, pairs
 * them on the target; tool_choice names a custom tool; a malformed one is a 400 naming its field.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const GRAMMAR = 'start: "*** Begin Patch" LF body "*** End Patch"\nbody: /(.|\\n)*/\nLF: "\\n"';
const APPLY_PATCH = {
  type: "custom",
  name: "apply_patch",
  description: "Use the `apply_patch` tool to edit files.",
  format: { type: "grammar", syntax: "lark", definition: GRAMMAR },
} as const satisfies OpenAI.Responses.CustomTool;
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+Hello, "world"\n*** End Patch';

let openai: FakeOpenAIUpstream;
let anthropic: FakeAnthropic;
let tandem: RunningTandem;
let client: OpenAI;

type ChatBody = {
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: Record<string, unknown> } }>;
  tool_choice?: unknown;
  messages: Array<{
    role: string;
    content?: unknown;
    tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
    tool_call_id?: string;
  }>;
};

before(async () => {
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  anthropic = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], models: ["gpt-4o-mini"] },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
      },
    },
    { env: { UP_OPENAI: "sk-upstream", UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await openai?.close();
  await anthropic?.close();
});

beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  const answer = (last: { role?: string } | undefined) =>
    last?.role === "tool" ? { kind: "text" as const, text: "Patched." } : undefined;
  openai.script((request) => {
    const body = request.body as ChatBody;
    return answer(body.messages.at(-1)) ?? { kind: "tool_calls", calls: [{ name: "apply_patch", arguments: { input: PATCH } }] };
  });
  anthropic.script((request) => {
    const last = (request.body as { messages: Array<{ content: unknown }> }).messages.at(-1);
    const isResult =
      Array.isArray(last?.content) && (last.content as Array<{ type: string }>).some((p) => p.type === "tool_result");
    if (isResult) return { kind: "text", text: "Patched." };
    return { kind: "tool_calls", calls: [{ name: "apply_patch", arguments: { input: PATCH } }] };
  });
});

const chatRequest = (i: number) => openai.requests.filter((r) => r.path.endsWith("/chat/completions"))[i]?.body as ChatBody;

describe("custom tools on the canonical path", () => {
  it("offers a custom tool as a function of one string, and gives its call back as a custom_tool_call", async () => {
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Add hello.txt", tools: [APPLY_PATCH] });
    const sent = chatRequest(0);
    const tool = sent.tools?.[0];
    assert.equal(tool?.type, "function");
    assert.equal(tool?.function.name, "apply_patch");
    assert.deepEqual(tool?.function.parameters, {
      type: "object",
      properties: { input: { type: "string", description: "The tool's raw text input." } },
      required: ["input"],
      additionalProperties: false,
    });
    assert.match(tool?.function.description ?? "", /^Use the `apply_patch` tool to edit files\./);
    assert.ok(tool?.function.description?.includes(GRAMMAR), "the grammar goes in the description");

    const call = response.output.find((item) => item.type === "custom_tool_call");
    assert.ok(call && call.type === "custom_tool_call", JSON.stringify(response.output));
    assert.equal(call.name, "apply_patch");
    assert.equal(call.input, PATCH);
    assert.match(call.id ?? "", /^ctc_/);
    assert.ok(call.call_id);
    assert.equal(
      response.output.some((item) => item.type === "function_call"),
      false,
    );
    // The tools are echoed as the client gave them.
    assert.deepEqual(response.tools[0], {
      type: "custom",
      name: "apply_patch",
      description: APPLY_PATCH.description,
      format: APPLY_PATCH.format,
    });
    // The stored response keeps the item as it was answered.
    const stored = await client.responses.retrieve(response.id);
    assert.deepEqual(stored.output, response.output);
  });

  it("streams the call as OpenAI does: the item added, its input deltas as they come and done, the item done", async () => {
    const stream = client.responses.stream({ model: "openai/gpt-4o-mini", input: "Add hello.txt", tools: [APPLY_PATCH] });
    const types: string[] = [];
    let delta = "";
    let deltas = 0;
    let done: string | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.custom_tool_call_input.delta") {
        delta += event.delta;
        deltas++;
      }
      if (event.type === "response.custom_tool_call_input.done") done = event.input;
      if (event.type === "response.output_item.added" && event.item.type === "custom_tool_call")
        assert.equal(event.item.input, "");
    }
    assert.equal(delta, PATCH);
    assert.ok(deltas > 1, "the input streams as the upstream's arguments do (the fake sends them 8 characters at a time)");
    assert.equal(done, PATCH);
    assert.equal(
      types.some((t) => t.startsWith("response.function_call_arguments")),
      false,
    );
    const at = (type: string) => types.indexOf(type);
    assert.ok(at("response.output_item.added") < at("response.custom_tool_call_input.delta"));
    assert.ok(at("response.custom_tool_call_input.done") < at("response.output_item.done"));
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === "custom_tool_call");
    assert.equal(call?.type === "custom_tool_call" && call.input, PATCH);
  });

  it("pairs the call with its custom_tool_call_output on the target, continued from the stored response", async () => {
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Add hello.txt", tools: [APPLY_PATCH] });
    const call = first.output.find((item) => item.type === "custom_tool_call");
    assert.ok(call && call.type === "custom_tool_call");
    const second = await client.responses.create({
      model: "openai/gpt-4o-mini",
      previous_response_id: first.id,
      tools: [APPLY_PATCH],
      input: [{ type: "custom_tool_call_output", call_id: call.call_id, output: "Done: hello.txt" }],
    });
    assert.equal(second.output_text, "Patched.");
    const sent = chatRequest(1);
    const assistant = sent.messages.find((m) => m.role === "assistant");
    assert.equal(assistant?.tool_calls?.[0]?.function.name, "apply_patch");
    assert.deepEqual(JSON.parse(assistant?.tool_calls?.[0]?.function.arguments ?? "{}"), { input: PATCH });
    const result = sent.messages.at(-1);
    assert.equal(result?.role, "tool");
    assert.equal(result?.tool_call_id, assistant?.tool_calls?.[0]?.id);
    assert.equal(result?.content, "Done: hello.txt");
  });

  it("takes the call and its output as input items, stateless, to an Anthropic target", async () => {
    const response = await client.responses.create({
      model: "anthropic/claude-haiku-4-5",
      store: false,
      tools: [APPLY_PATCH],
      input: [
        { role: "user", content: "Add hello.txt" },
        { type: "custom_tool_call", call_id: "call_1", name: "apply_patch", input: PATCH },
        { type: "custom_tool_call_output", call_id: "call_1", output: "Done: hello.txt" },
      ],
    });
    assert.equal(response.output_text, "Patched.");
    const sent = anthropic.requests[0]?.body as {
      tools: Array<{ name: string; input_schema: { properties: Record<string, unknown> } }>;
      messages: Array<{
        role: string;
        content: Array<{ type: string; name?: string; input?: unknown; id?: string; tool_use_id?: string }>;
      }>;
    };
    assert.equal(sent.tools[0]?.name, "apply_patch");
    assert.deepEqual(Object.keys(sent.tools[0]?.input_schema.properties ?? {}), ["input"]);
    const use = sent.messages[1]?.content.find((p) => p.type === "tool_use");
    assert.deepEqual(use?.input, { input: PATCH });
    const result = sent.messages[2]?.content.find((p) => p.type === "tool_result");
    assert.equal(result?.tool_use_id, use?.id);
  });

  it("gives an Anthropic model's call back as a custom_tool_call too", async () => {
    const response = await client.responses.create({
      model: "anthropic/claude-haiku-4-5",
      input: "Add hello.txt",
      tools: [APPLY_PATCH],
    });
    const call = response.output.find((item) => item.type === "custom_tool_call");
    assert.equal(call?.type === "custom_tool_call" && call.input, PATCH);
  });

  it("takes tool_choice naming a custom tool, and refuses one that names no tool", async () => {
    await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Add hello.txt",
      tools: [APPLY_PATCH],
      tool_choice: { type: "custom", name: "apply_patch" },
    });
    assert.deepEqual(chatRequest(0).tool_choice, { type: "function", function: { name: "apply_patch" } });
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "Add hello.txt",
        tools: [APPLY_PATCH],
        tool_choice: { type: "custom", name: "nope" },
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === "tool_choice.name",
    );
  });

  it("refuses a malformed custom tool with a 400 naming the field", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [
          {
            type: "custom",
            name: "apply_patch",
            format: { type: "grammar", syntax: "lark" },
          } as unknown as OpenAI.Responses.Tool,
        ],
      }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === "tools[0].format.definition",
    );
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "custom" } as unknown as OpenAI.Responses.Tool],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === "tools[0].name",
    );
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: [
          { type: "custom_tool_call", call_id: "call_1", name: "apply_patch" } as unknown as OpenAI.Responses.ResponseInputItem,
        ],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && (err.error as { param?: string }).param === "input[0].input",
    );
    assert.equal(openai.requests.length, 0);
  });
});
