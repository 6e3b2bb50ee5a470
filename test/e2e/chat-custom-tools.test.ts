/**
 * Chat completions' custom tools (`tools: [{type: "custom", custom: {name, description, format}}]`,
 * free-form text input such as an `apply_patch` tool with a Lark grammar) on every target kind
 * through a real tandem server and the openai SDK: an OpenAI-compatible chat upstream on the
 * canonical path (the conversation fitted to its window), a Responses-only upstream, Anthropic and
 * Ollama. Each is offered a function of one string, `input`, with the grammar in its description; the
 * model's call comes back as a custom tool call (`{type: "custom", custom: {name, input}}`), whole
 * and streamed (the id, type and name first, then the input in pieces, as the newest openai SDKs'
 * ChatCompletionChunk types it and their stream helper joins it); the call and its tool result in the
 * history reach the target as that function's call and result; `tool_choice` and `allowed_tools`
 * name a custom tool; privacy redacts and restores the input as it does a function's arguments; a
 * malformed custom tool is a 400 naming the field.
 * (The local engine: local-chat-custom-tools.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const GRAMMAR = 'start: "*** Begin Patch" LF body "*** End Patch"\nbody: /(.|\\n)*/\nLF: "\\n"';
const APPLY_PATCH = {
  type: "custom",
  custom: {
    name: "apply_patch",
    description: "Use the `apply_patch` tool to edit files.",
    format: { type: "grammar", grammar: { syntax: "lark", definition: GRAMMAR } },
  },
} as const satisfies OpenAI.ChatCompletionCustomTool;
const WEATHER = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
} as const satisfies OpenAI.ChatCompletionFunctionTool;
const PATCH = '*** Begin Patch\n*** Add File: hello.txt\n+Hello, "world" \\o/\n*** End Patch';

/** Older turns that do not fit the OpenAI target's window: it gets the conversation fitted, so canonical. */
const FILLER: OpenAI.ChatCompletionMessageParam[] = [
  { role: "user", content: `Remember this: ${"lorem ipsum dolor sit amet ".repeat(200)}` },
  { role: "assistant", content: "Noted." },
];
const ASK: OpenAI.ChatCompletionMessageParam[] = [...FILLER, { role: "user", content: "Add hello.txt" }];

let openai: FakeOpenAIUpstream;
let responses: FakeResponsesUpstream;
let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
/** An OpenAI-compatible upstream on the client's own wire (same-wire pass-through), answering exactly the bytes a test writes. */
let sameWire: ScriptedUpstream;
let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  [openai, responses, anthropic, ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  sameWire = await startScriptedUpstream();
  tandem = await startTandem(
    {
      providers: {
        oa: {
          kind: "openai",
          baseUrl: openai.url,
          apiKeys: ["env:UP"],
          local: false,
          models: { gpt: { id: "gpt-4o-mini", contextWindow: 600 } },
        },
        rs: { kind: "openai", baseUrl: responses.url, apiKeys: ["env:UP"], responses: "only", local: false },
        an: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP"], local: false },
        ol: { kind: "ollama", baseUrl: ollama.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
        sw: {
          kind: "openai",
          baseUrl: `${sameWire.url}/v1`,
          apiKeys: ["env:UP"],
          local: false,
          models: { gpt: { id: "gpt-up" } },
        },
      },
      routes: {
        "redact-an": { tiers: ["an/claude-haiku-4-5"], privacy: "redact" },
        "redact-sw": { tiers: ["sw/gpt"], privacy: "redact" },
        "sw-then-an": { tiers: [["sw/gpt"], ["an/claude-haiku-4-5"]], retry: { attempts: 1 } },
      },
    },
    { env: { UP: "sk-upstream" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  // The canonical path: a fitted conversation is now the client's own body with older messages cut
  // out (same-wire), so this target is told it speaks no wire of a client's, to be sent the rebuilt request.
  const oa = tandem.server.catalog.slots.get("oa")?.provider as { capabilities?: Record<string, unknown> } | undefined;
  assert.ok(oa?.capabilities);
  oa.capabilities = { ...oa.capabilities, wires: [] };
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), responses?.close(), anthropic?.close(), ollama?.close(), sameWire?.close()]);
});

/** Whether the last message of a chat-shaped (OpenAI, Ollama) or Anthropic body is a tool result. */
function endsWithToolResult(request: RecordedRequest): boolean {
  const body = request.body as { messages?: Array<{ role: string; content?: unknown }>; input?: Array<{ type?: string }> };
  const last = body.messages?.at(-1);
  if (last?.role === "tool") return true;
  if (Array.isArray(last?.content) && (last.content as Array<{ type?: string }>).some((p) => p.type === "tool_result"))
    return true;
  return body.input?.at(-1)?.type === "function_call_output";
}

beforeEach(() => {
  for (const fake of [openai, anthropic, ollama]) {
    fake.requests.length = 0;
    fake.script((request) =>
      endsWithToolResult(request)
        ? { kind: "text", text: "Patched." }
        : { kind: "tool_calls", calls: [{ name: "apply_patch", arguments: { input: PATCH } }] },
    );
  }
  responses.requests.length = 0;
  responses.responseBodies.length = 0;
  responses.script((request) =>
    endsWithToolResult(request)
      ? { kind: "answer", text: "Patched." }
      : { kind: "answer", calls: [{ name: "apply_patch", arguments: JSON.stringify({ input: PATCH }) }] },
  );
});

interface Target {
  model: string;
  /** The chat request the upstream got: its tools as the functions they were offered as, and its messages. */
  sent(i: number): { tools: Array<{ name: string; description?: string; parameters?: unknown }>; body: unknown };
}

const TARGETS: Record<string, Target> = {
  "an OpenAI-compatible chat upstream (canonical path)": {
    model: "oa/gpt",
    sent: (i) => {
      const body = openai.requests.filter((r) => r.method === "POST")[i]?.body as {
        tools: Array<{ function: { name: string; description?: string; parameters?: unknown } }>;
      };
      return { tools: body.tools.map((t) => t.function), body };
    },
  },
  "a Responses-only upstream": {
    model: "rs/gpt-5-codex",
    sent: (i) => {
      const body = responses.responseBodies[i] as { tools: Array<{ name: string; description?: string; parameters?: unknown }> };
      return { tools: body.tools, body };
    },
  },
  Anthropic: {
    model: "an/claude-haiku-4-5",
    sent: (i) => {
      const body = anthropic.requests.filter((r) => r.method === "POST")[i]?.body as {
        tools: Array<{ name: string; description?: string; input_schema?: unknown }>;
      };
      return { tools: body.tools.map((t) => ({ ...t, parameters: t.input_schema })), body };
    },
  },
  Ollama: {
    model: "ol/llama",
    sent: (i) => {
      const body = ollama.requests.filter((r) => r.method === "POST")[i]?.body as {
        tools: Array<{ function: { name: string; description?: string; parameters?: unknown } }>;
      };
      return { tools: body.tools.map((t) => t.function), body };
    },
  },
};

/** A streamed answer's tool calls put together as the newest openai SDKs' stream helper does (custom input joined). */
async function streamedCalls(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  const calls: Array<{ id: string; type: string; name: string; input: string; pieces: number; functionFields: number }> = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      for (const piece of choice.delta.tool_calls ?? []) {
        const delta = piece as typeof piece & { custom?: { name?: string; input?: string } };
        calls[delta.index] ??= { id: "", type: "", name: "", input: "", pieces: 0, functionFields: 0 };
        const call = calls[delta.index]!;
        if (delta.id) call.id = delta.id;
        if (delta.type) call.type = delta.type;
        if (delta.function !== undefined) call.functionFields++;
        if (delta.custom?.name) call.name = delta.custom.name;
        if (delta.custom?.input) {
          call.input += delta.custom.input;
          call.pieces++;
        }
      }
      finish = choice.finish_reason ?? finish;
    }
  }
  return { calls, finish };
}

for (const [kind, target] of Object.entries(TARGETS)) {
  describe(`chat completions' custom tools to ${kind}`, () => {
    it("offers the custom tool as a function of one string with its grammar, and answers its call as a custom tool call", async () => {
      const { data, response } = await client.chat.completions
        .create({ model: target.model, messages: ASK, tools: [APPLY_PATCH, WEATHER] })
        .withResponse();
      const sent = target.sent(0);
      const tool = sent.tools.find((t) => t.name === "apply_patch");
      assert.ok(tool, JSON.stringify(sent.body));
      assert.deepEqual(tool.parameters, {
        type: "object",
        properties: { input: { type: "string", description: "The tool's raw text input." } },
        required: ["input"],
        additionalProperties: false,
      });
      assert.match(tool.description ?? "", /^Use the `apply_patch` tool to edit files\./);
      assert.ok(tool.description?.includes(GRAMMAR), "the grammar goes in the description");
      assert.ok(
        sent.tools.some((t) => t.name === "get_weather"),
        "the function tool beside it",
      );
      if (target.model === "oa/gpt") assert.match(response.headers.get("x-tandem-degraded") ?? "", /fitted/);

      const choice = data.choices[0];
      assert.equal(choice?.finish_reason, "tool_calls");
      assert.equal(choice?.message.content, null);
      const call = choice?.message.tool_calls?.[0];
      assert.ok(call?.type === "custom", JSON.stringify(choice?.message));
      assert.deepEqual(call.custom, { name: "apply_patch", input: PATCH });
      assert.ok(call.id);
      assert.equal("function" in call, false);
    });

    it("streams the call: id, type and name first, then the input in pieces", async () => {
      const stream = await client.chat.completions.create({
        model: target.model,
        messages: ASK,
        tools: [APPLY_PATCH],
        stream: true,
      });
      const { calls, finish } = await streamedCalls(stream);
      assert.equal(finish, "tool_calls");
      assert.equal(calls.length, 1);
      const call = calls[0]!;
      assert.equal(call.type, "custom");
      assert.equal(call.name, "apply_patch");
      assert.equal(call.input, PATCH);
      assert.ok(call.id);
      assert.equal(call.functionFields, 0, "no function field in a custom call's pieces");
    });

    it("sends the call and its result in the history as that function's call and result (tool_choice custom too)", async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [
        ...ASK,
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "custom", custom: { name: "apply_patch", input: PATCH } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "Done: hello.txt" },
      ];
      // The SDK's stream helper reads the answer; its final message is the text.
      const stream = client.chat.completions.stream({
        model: target.model,
        messages,
        tools: [APPLY_PATCH],
        tool_choice: { type: "custom", custom: { name: "apply_patch" } },
      });
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0]?.message.content, "Patched.");
      const sent = JSON.stringify(target.sent(0).body);
      // The input goes as the function's one argument, in the target's own call shape.
      assert.ok(
        sent.includes(JSON.stringify(JSON.stringify({ input: PATCH })).slice(1, -1)) ||
          sent.includes(JSON.stringify({ input: PATCH })),
        sent,
      );
      assert.ok(sent.includes("Done: hello.txt"));
      assert.equal(sent.includes('"custom"'), false, "no custom tool call crosses as one");
    });
  });
}

describe("chat completions' custom tools in a stream continued on another target", () => {
  it("a same-wire stream broken mid-answer goes on on Anthropic, whose call comes back as a custom tool call", async () => {
    sameWire.clear();
    const chunk = (delta: object) =>
      `data: ${JSON.stringify({ id: "chatcmpl-up", object: "chat.completion.chunk", created: 1764790000, model: "gpt-up", choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`;
    sameWire.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [chunk({ role: "assistant", content: "" }), chunk({ content: "Let me patch it. " })],
      breakOff: true,
    }));
    const stream = await client.chat.completions.create({
      model: "sw-then-an",
      messages: ASK,
      tools: [APPLY_PATCH],
      stream: true,
    });
    const [mine, theirs] = stream.tee();
    let text = "";
    for await (const chunk of mine) text += chunk.choices[0]?.delta.content ?? "";
    const { calls, finish } = await streamedCalls(theirs);
    assert.equal(sameWire.requests.length, 1);
    assert.deepEqual((sameWire.requests[0]?.body.tools as unknown[])[0], APPLY_PATCH);
    assert.match(text, /^Let me patch it\. /);
    assert.equal(finish, "tool_calls");
    assert.equal(calls[0]?.type, "custom");
    assert.equal(calls[0]?.input, PATCH);
  });
});

describe("chat completions' custom tools: tool_choice, allowed_tools, errors", () => {
  it("a custom tool_choice forces the function it is offered as; allowed_tools may name it", async () => {
    await client.chat.completions.create({
      model: "an/claude-haiku-4-5",
      messages: ASK,
      tools: [APPLY_PATCH, WEATHER],
      tool_choice: { type: "custom", custom: { name: "apply_patch" } },
    });
    assert.deepEqual((anthropic.requests[0]?.body as { tool_choice: unknown }).tool_choice, {
      type: "tool",
      name: "apply_patch",
    });

    anthropic.requests.length = 0;
    await client.chat.completions.create({
      model: "an/claude-haiku-4-5",
      messages: ASK,
      tools: [APPLY_PATCH, WEATHER],
      tool_choice: {
        type: "allowed_tools",
        allowed_tools: { mode: "required", tools: [{ type: "custom", custom: { name: "apply_patch" } }] },
      },
    });
    const body = anthropic.requests[0]?.body as { tools: Array<{ name: string }>; tool_choice: unknown };
    assert.deepEqual(
      body.tools.map((t) => t.name),
      ["apply_patch"],
    );
    assert.deepEqual(body.tool_choice, { type: "any" });
  });

  it("a malformed custom tool, or a choice of none, is a 400 naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { tools: [{ type: "custom", custom: { name: "p", format: { type: "grammar", grammar: { syntax: "lark" } } } }] },
        "tools[0].custom.format.grammar.definition",
      ],
      [
        {
          tools: [
            { type: "custom", custom: { name: "p", format: { type: "grammar", grammar: { definition: "x", syntax: "ebnf" } } } },
          ],
        },
        "tools[0].custom.format.grammar.syntax",
      ],
      [{ tools: [{ type: "custom", custom: { name: "p", format: { type: "json" } } }] }, "tools[0].custom.format.type"],
      [{ tools: [{ type: "custom", custom: { name: "" } }] }, "tools[0].custom.name"],
      [{ tools: [APPLY_PATCH], tool_choice: { type: "custom", custom: { name: "nope" } } }, "tool_choice.custom.name"],
      [{ tools: [APPLY_PATCH, { type: "function", function: { name: "apply_patch" } }] }, "tools[1].function.name"],
      [
        {
          messages: [
            { role: "user", content: "hi" },
            { role: "assistant", tool_calls: [{ id: "c", type: "custom", custom: { name: "apply_patch" } }] },
          ],
        },
        "messages[1].tool_calls[0].custom.input",
      ],
    ];
    for (const [fields, param] of cases) {
      await assert.rejects(
        client.chat.completions.create({
          model: "an/claude-haiku-4-5",
          messages: ASK,
          ...fields,
        } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError, String(err));
          assert.equal((err.error as { param?: string }).param, param, err.message);
          return true;
        },
      );
    }
    assert.equal(anthropic.requests.length, 0);
  });
});

/** Private by the default detectors. Built from pieces so no file of the repo holds it whole. */
const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
/** A placeholder of any kind, as redaction writes them. */
const PLACEHOLDER = /\[[A-Z_]+_\d+[^\]]*\]/;

describe("chat completions' custom tools on a redact route: the input is redacted and restored as a function's arguments are", () => {
  const history: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: `Add a contact file for ${EMAIL}` },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_0", type: "custom", custom: { name: "apply_patch", input: `*** Begin Patch\n+${EMAIL}\n*** End Patch` } },
      ],
    },
    { role: "tool", tool_call_id: "call_0", content: "Done." },
    { role: "user", content: "Now mail them." },
  ];

  for (const stream of [false, true]) {
    it(`to Anthropic, on the canonical path (stream: ${stream})`, async () => {
      anthropic.script((request) => {
        const placeholder = PLACEHOLDER.exec(JSON.stringify(request.body))?.[0] ?? "none";
        return { kind: "tool_calls", calls: [{ name: "apply_patch", arguments: { input: `Mail ${placeholder}` } }] };
      });
      let input: string | undefined;
      if (stream) {
        const { calls } = await streamedCalls(
          await client.chat.completions.create({ model: "redact-an", messages: history, tools: [APPLY_PATCH], stream }),
        );
        input = calls[0]?.input;
      } else {
        const answer = await client.chat.completions.create({ model: "redact-an", messages: history, tools: [APPLY_PATCH] });
        const call = answer.choices[0]?.message.tool_calls?.[0];
        input = call?.type === "custom" ? call.custom.input : undefined;
      }
      const sent = JSON.stringify(anthropic.requests.at(-1)?.body);
      assert.equal(sent.includes(EMAIL), false, sent);
      assert.match(sent, PLACEHOLDER);
      assert.equal(input, `Mail ${EMAIL}`, "the value restored in the call's input");
    });

    it(`to an OpenAI-compatible upstream on the same wire, a placeholder split across chunks (stream: ${stream})`, async () => {
      sameWire.clear();
      sameWire.script((request) => {
        assert.equal(request.raw.includes(EMAIL), false, request.raw);
        const placeholder = PLACEHOLDER.exec(request.raw)?.[0] ?? "none";
        const cut = Math.floor(placeholder.length / 2);
        const chunk = (delta: object, finish: string | null = null) =>
          `data: ${JSON.stringify({ id: "chatcmpl-up", object: "chat.completion.chunk", created: 1764790000, model: "gpt-up", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
        return {
          kind: "stream",
          contentType: "text/event-stream",
          writes: [
            chunk({
              role: "assistant",
              content: null,
              tool_calls: [{ index: 0, id: "call_9", type: "custom", custom: { name: "apply_patch", input: "" } }],
            }),
            chunk({ tool_calls: [{ index: 0, custom: { input: `Mail ${placeholder.slice(0, cut)}` } }] }),
            chunk({ tool_calls: [{ index: 0, custom: { input: placeholder.slice(cut) } }] }),
            chunk({}, "tool_calls"),
            "data: [DONE]\n\n",
          ],
        };
      });
      let input: string | undefined;
      if (stream) {
        const { calls } = await streamedCalls(
          await client.chat.completions.create({ model: "redact-sw", messages: history, tools: [APPLY_PATCH], stream }),
        );
        input = calls[0]?.input;
      } else {
        const answer = await client.chat.completions.create({ model: "redact-sw", messages: history, tools: [APPLY_PATCH] });
        const call = answer.choices[0]?.message.tool_calls?.[0];
        input = call?.type === "custom" ? call.custom.input : undefined;
      }
      const sent = sameWire.requests.at(-1);
      assert.deepEqual((sent?.body.tools as unknown[])[0], APPLY_PATCH, "the same wire gets the custom tool as it came");
      assert.equal(input, `Mail ${EMAIL}`, "the value restored in the call's input");
    });
  }
});
