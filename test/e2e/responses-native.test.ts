/**
 * /v1/responses over a Responses-native upstream (an `openai` provider with `responses: true`),
 * through the official openai SDK: the upstream gets the client's body made stateless (`store:
 * false`, the history tandem holds inlined, `include: ["reasoning.encrypted_content"]`) and its own
 * events come back as it sent them (renumbered, with tandem's response id); the response is stored
 * here with the upstream's encrypted reasoning, which goes back to it on the next turn. A
 * conversation handed to an Anthropic target and back keeps every turn; reasoning an Anthropic
 * target shows (thinking blocks) is rendered as Responses reasoning items; a failing native
 * target fails over to another kind before the first byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import type { StoredItem } from "../../src/core/state.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeResponsesUpstream, sealed, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const NATIVE = "gpt/gpt-5-mini";
const CLAUDE = "claude/claude-haiku-4-5";

let tandem: RunningTandem;
let upstream: FakeResponsesUpstream;
let anthropic: FakeAnthropic;
let client: OpenAI;
const state = new MemoryStateStore();

before(async () => {
  [upstream, anthropic] = await Promise.all([startFakeOpenAIResponses(), startFakeAnthropic({ models: ["claude-haiku-4-5"] })]);
  tandem = await startTandem(
    {
      providers: {
        gpt: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], responses: true, local: false },
        claude: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"], local: false },
        // Another Responses provider (the same fake under another name): its keys cannot open gpt's reasoning.
        other: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], responses: true, local: false },
      },
      routes: {
        fallback: { tiers: [NATIVE, CLAUDE], retry: { attempts: 1 } },
        // A client that does not stream gets the upstream's whole Response.
        whole: { tiers: [NATIVE], streamUpstream: false },
        "redact-native": { tiers: [NATIVE], privacy: "redact" },
        "redact-native-whole": { tiers: [NATIVE], privacy: "redact", streamUpstream: false },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-test", UP_ANTHROPIC: "sk-ant-test" }, state },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([upstream?.close(), anthropic?.close()]);
});

function lastBody(): Record<string, unknown> {
  const body = upstream.responseBodies.at(-1);
  assert.ok(body, "the Responses upstream got a request");
  return body;
}

const SEND_TOOL = {
  type: "function" as const,
  name: "send",
  description: "Send a mail",
  parameters: { type: "object", properties: { to: { type: "string" } }, required: ["to"] },
  strict: false,
};

const text = (t: string, role = "user") =>
  role === "assistant"
    ? { type: "message", role, status: "completed", content: [{ type: "output_text", annotations: [], logprobs: [], text: t }] }
    : { type: "message", role, status: "completed", content: [{ type: "input_text", text: t }] };

describe("a Responses-native upstream", () => {
  let firstId = "";
  let secondId = "";

  it("turn 1, whole: store false, encrypted reasoning asked for and kept here, not shown; every field passed; usage details", async () => {
    upstream.script(() => ({
      kind: "answer",
      reasoning: "The user wants weather.",
      text: "Sunny in Paris.",
      usage: { input: 30, output: 12, cached: 16, reasoning: 7 },
    }));
    const { data: first, response } = await client.responses
      .create({
        model: NATIVE,
        instructions: "Be brief.",
        input: "Weather in Paris?",
        reasoning: { effort: "low", summary: "auto" },
        tools: [{ type: "web_search" }],
        // @ts-expect-error a field the SDK does not know yet goes through
        some_future_field: { on: true },
      })
      .withResponse();
    firstId = first.id;
    const body = lastBody();
    assert.equal(body.model, "gpt-5-mini");
    assert.equal(body.store, false);
    assert.deepEqual(body.include, ["reasoning.encrypted_content"]);
    assert.equal(body.instructions, "Be brief.");
    assert.deepEqual(body.reasoning, { effort: "low", summary: "auto" });
    assert.deepEqual(body.tools, [{ type: "web_search" }]);
    assert.deepEqual(body.some_future_field, { on: true });
    assert.deepEqual(body.input, [text("Weather in Paris?")]);
    assert.equal(upstream.requests.at(-1)?.headers.authorization, "Bearer sk-upstream-test");

    assert.match(first.id, /^resp_/);
    assert.equal(first.model, NATIVE);
    assert.equal((first as unknown as { store: boolean }).store, true);
    assert.equal(first.output_text, "Sunny in Paris.");
    assert.equal(first.output[0]?.type, "reasoning");
    assert.equal("encrypted_content" in (first.output[0] ?? {}), false, "the client did not ask for it");
    assert.deepEqual(first.usage?.input_tokens_details, { cached_tokens: 16 });
    assert.deepEqual(first.usage?.output_tokens_details, { reasoning_tokens: 7 });
    assert.equal(response.headers.get("x-tandem-target"), NATIVE);
    assert.equal(response.headers.get("x-tandem-warnings"), null, "nothing left out: hosted tools and reasoning went through");

    const stored = await state.getResponse(first.id);
    const reasoning = stored?.output[0] as StoredItem;
    assert.equal(reasoning.item.encrypted_content, sealed("The user wants weather."));
    assert.equal(reasoning.origin, NATIVE);
    assert.equal((await client.responses.retrieve(first.id)).output_text, "Sunny in Paris.");
  });

  it("turn 2, streamed with previous_response_id: the history with its encrypted reasoning goes back; events relayed in order", async () => {
    upstream.script(() => ({ kind: "answer", reasoning: "Second thought.", text: "Also sunny tomorrow.", calls: [] }));
    const stream = client.responses.stream({
      model: NATIVE,
      previous_response_id: firstId,
      input: "And tomorrow?",
      include: ["reasoning.encrypted_content"],
    });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    secondId = final.id;

    const body = lastBody();
    assert.equal(body.stream, true);
    assert.equal(body.store, false);
    assert.equal("previous_response_id" in body, false);
    const input = body.input as Record<string, unknown>[];
    assert.deepEqual(input[0], text("Weather in Paris?"));
    assert.deepEqual(input[1]?.encrypted_content, sealed("The user wants weather."));
    assert.equal(input[1]?.type, "reasoning");
    assert.equal(input[2]?.role, "assistant");
    assert.equal("id" in (input[2] ?? {}), false);
    assert.deepEqual(input[3], text("And tomorrow?"));
    assert.equal(input.length, 4);

    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const types = events.map((e) => e.type);
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    for (const type of [
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.output_text.delta",
      "response.output_item.done",
    ]) {
      assert.ok(types.includes(type as ResponseStreamEvent["type"]), type);
    }
    const created = events[0] as Extract<ResponseStreamEvent, { type: "response.created" }>;
    assert.equal(created.response.id, final.id);
    assert.equal(created.response.model, NATIVE);
    assert.equal(final.previous_response_id, firstId);
    assert.equal(final.output_text, "Also sunny tomorrow.");
    // The client asked for the encrypted reasoning this time: it gets it.
    const reasoning = final.output.find((item) => item.type === "reasoning");
    assert.equal(reasoning?.encrypted_content, sealed("Second thought."));
  });

  it("hands off to an Anthropic target and back: every turn reaches each, encrypted reasoning only the native one", async () => {
    anthropic.script(() => ({ kind: "text", text: "Rain on Sunday.", usage: { input: 40, output: 5 } }));
    const { data: third, response } = await client.responses
      .create({ model: CLAUDE, previous_response_id: secondId, input: "And Sunday?" })
      .withResponse();
    assert.equal(third.model, CLAUDE);
    assert.equal(third.output_text, "Rain on Sunday.");
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /earlier reasoning (\(2 blocks\) )?not sent to claude\/claude-haiku-4-5/,
    );
    const sent = anthropic.requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    const said = sent.messages.map((m) => `${m.role}:${JSON.stringify(m.content)}`).join("\n");
    for (const piece of ["Weather in Paris?", "Sunny in Paris.", "And tomorrow?", "Also sunny tomorrow.", "And Sunday?"]) {
      assert.ok(said.includes(piece), `${piece} reached the Anthropic target`);
    }
    assert.equal(said.includes("gAAAA"), false, "no encrypted reasoning crosses to another provider");

    upstream.script(() => ({ kind: "answer", text: "Back on the native target." }));
    const fourth = await client.responses.create({ model: NATIVE, previous_response_id: third.id, input: "Thanks!" });
    assert.equal(fourth.output_text, "Back on the native target.");
    const input = lastBody().input as Record<string, unknown>[];
    assert.deepEqual(
      input.map((item) => (item.type === "reasoning" ? `reasoning:${String(item.encrypted_content)}` : `${item.role}`)),
      [
        "user",
        `reasoning:${sealed("The user wants weather.")}`,
        "assistant",
        "user",
        `reasoning:${sealed("Second thought.")}`,
        "assistant",
        "user",
        "assistant",
        "user",
      ],
    );
    assert.deepEqual(input[7], text("Rain on Sunday.", "assistant"));
  });

  it("does not send one provider's encrypted reasoning to another Responses provider, and says so", async () => {
    upstream.script(() => ({ kind: "answer", text: "From the other provider." }));
    const { data, response } = await client.responses
      .create({ model: "other/gpt-5-mini", previous_response_id: secondId, input: "Next?" })
      .withResponse();
    assert.equal(data.output_text, "From the other provider.");
    const input = lastBody().input as Record<string, unknown>[];
    assert.deepEqual(
      input.map((item) => item.type ?? item.role),
      ["message", "message", "message", "message", "message"],
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning items from another provider were left out .*\(x2\)/);
  });

  it("asks for a whole Response when the route does not stream upstream, and keeps it", async () => {
    upstream.script(() => ({ kind: "answer", reasoning: "Whole thought.", text: "A whole answer." }));
    const whole = await client.responses.create({ model: "whole", previous_response_id: secondId, input: "Whole?" });
    const body = lastBody();
    assert.equal(body.stream, false);
    assert.equal((body.input as unknown[]).length, 7);
    assert.equal(whole.output_text, "A whole answer.");
    assert.equal(whole.model, NATIVE);
    assert.equal(whole.previous_response_id, secondId);
    const stored = await state.getResponse(whole.id);
    assert.equal(stored?.output[0]?.item.encrypted_content, sealed("Whole thought."));
  });

  it("passes each event on as it comes (a stream held at its first text delta still reaches the client)", {
    timeout: 60_000,
  }, async () => {
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    upstream.script(() => ({ kind: "answer", text: "one two three four", gate }));
    const stream = await client.responses.create({ model: NATIVE, input: "Count", stream: true, store: false });
    let deltas = "";
    for await (const event of stream) {
      if (event.type === "response.output_text.delta") {
        deltas += event.delta;
        open();
      }
    }
    assert.equal(deltas, "one two three four");
    assert.equal(lastBody().include, undefined, "store: false: nothing to keep, so no encrypted reasoning asked for");
  });

  it("fails over to another kind of target before the first byte", async () => {
    upstream.script(() => ({ kind: "error", status: 500, message: "The server had an error" }));
    anthropic.script(() => ({ kind: "text", text: "Answered by Claude.", usage: { input: 9, output: 4 } }));
    const { data, response } = await client.responses
      .create({ model: "fallback", previous_response_id: firstId, input: "Still there?" })
      .withResponse();
    assert.equal(data.output_text, "Answered by Claude.");
    assert.equal(data.model, CLAUDE);
    assert.equal(response.headers.get("x-tandem-attempts"), "2");
    // A stream that fails before its first output item: nothing of it reached the client.
    upstream.script(() => ({ kind: "failed", code: "server_error", message: "The model broke" }));
    const events: ResponseStreamEvent[] = [];
    const streamed = await client.responses.create({ model: "fallback", input: "Again", stream: true });
    for await (const event of streamed) events.push(event);
    const created = events[0] as Extract<ResponseStreamEvent, { type: "response.created" }>;
    assert.equal(created.type, "response.created");
    // Had the native target's first events reached the client, its name would be the stream's.
    assert.equal(created.response.model, CLAUDE);
    assert.equal(events.at(-1)?.type, "response.completed");
    assert.equal(anthropic.requests.length > 0, true);
  });

  it("continues a stream that breaks mid-way on another target, in the same event stream, and stores it", async () => {
    upstream.script(() => ({ kind: "answer", text: "Part one and the rest", breakAfterFirstDelta: true }));
    anthropic.script(() => ({ kind: "text", text: " continued by Claude.", usage: { input: 9, output: 4 } }));
    const events: ResponseStreamEvent[] = [];
    const streamed = await client.responses.create({ model: "fallback", input: "Tell me", stream: true });
    for await (const event of streamed) events.push(event);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const created = events[0] as Extract<ResponseStreamEvent, { type: "response.created" }>;
    assert.equal(created.response.model, NATIVE);
    const done = events.filter((e) => e.type === "response.output_item.done");
    // The native message, closed as incomplete at the seam, then the continuation's own message.
    assert.equal((done[0] as { item?: { status?: string } } | undefined)?.item?.status, "incomplete");
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: "response.completed" }>;
    assert.equal(completed.type, "response.completed");
    assert.equal(completed.response.id, created.response.id);
    assert.match(
      completed.response.output
        .map((item) =>
          item.type === "message" ? item.content.map((c) => (c.type === "output_text" ? c.text : "")).join("") : "",
        )
        .join(""),
      /Part continued by Claude\./,
    );
    const stored = await state.getResponse(completed.response.id);
    assert.equal(stored?.output.length, 2);
  });

  it("a stream that breaks with no target to go on: its open item closed incomplete with its text, stored so, and sent back", async () => {
    upstream.script(() => ({
      kind: "answer",
      reasoning: "Planning it.",
      text: "Part one and the rest",
      breakAfterFirstDelta: true,
    }));
    const events: ResponseStreamEvent[] = [];
    const streamed = await client.responses.create({ model: NATIVE, input: "Break please", stream: true });
    for await (const event of streamed) events.push(event);
    const types = events.map((e) => e.type);
    const firstDelta = types.indexOf("response.output_text.delta");
    const delta = events[firstDelta] as Extract<ResponseStreamEvent, { type: "response.output_text.delta" }>;
    // As OpenAI closes every item, before the error: the text, its part, then the item.
    assert.deepEqual(types.slice(firstDelta + 1), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "error",
      "response.failed",
    ]);
    const textDone = events[firstDelta + 1] as Extract<ResponseStreamEvent, { type: "response.output_text.done" }>;
    assert.equal(textDone.text, delta.delta);
    const itemDone = events[firstDelta + 3] as Extract<ResponseStreamEvent, { type: "response.output_item.done" }>;
    assert.equal(itemDone.item.type === "message" && itemDone.item.status, "incomplete");
    assert.deepEqual(itemDone.item.type === "message" && itemDone.item.content.map((c) => c.type === "output_text" && c.text), [
      delta.delta,
    ]);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const id = (events[0] as Extract<ResponseStreamEvent, { type: "response.created" }>).response.id;
    const stored = await state.getResponse(id);
    assert.equal(stored?.response.status, "failed");
    assert.deepEqual(
      stored?.output.map((o) => [o.item.type, o.item.status, o.origin]),
      [
        ["reasoning", undefined, NATIVE],
        ["message", "incomplete", undefined],
      ],
    );
    assert.equal(stored?.output[0]?.item.encrypted_content, sealed("Planning it."));
    const shown = (stored?.response.output as Record<string, unknown>[])[0];
    assert.equal("encrypted_content" in (shown ?? {}), false, "the stored Response is the client's view");
    // The next turn gives the upstream what the client saw, and the reasoning it sealed.
    upstream.script(() => ({ kind: "answer", text: "Again." }));
    await client.responses.create({ model: NATIVE, input: "Go on", previous_response_id: id });
    const input = lastBody().input as Record<string, unknown>[];
    assert.deepEqual(
      input.map((item) => item.type),
      ["message", "reasoning", "message", "message"],
    );
    assert.equal(input[1]?.encrypted_content, sealed("Planning it."));
    assert.equal(input[2]?.status, "incomplete");
    assert.deepEqual(
      (input[2]?.content as Record<string, unknown>[]).map((c) => c.text),
      [delta.delta],
    );
  });

  it("a stream continued elsewhere: the cut text part closed as OpenAI closes it, and the target's encrypted reasoning kept", async () => {
    upstream.script(() => ({
      kind: "answer",
      reasoning: "Sealed plan.",
      text: "Part one and the rest",
      breakAfterFirstDelta: true,
    }));
    anthropic.script(() => ({ kind: "text", text: " continued by Claude.", usage: { input: 9, output: 4 } }));
    const events: ResponseStreamEvent[] = [];
    const streamed = await client.responses.create({ model: "fallback", input: "Tell me more", stream: true });
    for await (const event of streamed) events.push(event);
    const types = events.map((e) => e.type);
    const firstDelta = types.indexOf("response.output_text.delta");
    assert.deepEqual(types.slice(firstDelta + 1, firstDelta + 4), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
    ]);
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: "response.completed" }>;
    assert.equal(completed.type, "response.completed");
    assert.equal("encrypted_content" in (completed.response.output[0] ?? {}), false, "the client did not ask for it");
    const stored = await state.getResponse(completed.response.id);
    assert.equal(stored?.output[0]?.item.encrypted_content, sealed("Sealed plan."));
    assert.equal(stored?.output[0]?.origin, NATIVE);
    upstream.script(() => ({ kind: "answer", text: "Next." }));
    await client.responses.create({ model: NATIVE, input: "Next", previous_response_id: completed.response.id });
    const input = lastBody().input as Record<string, unknown>[];
    assert.equal(input.find((item) => item.type === "reasoning")?.encrypted_content, sealed("Sealed plan."));
  });

  it("retrieve with include reasoning.encrypted_content gives the encrypted reasoning tandem keeps", async () => {
    upstream.script(() => ({ kind: "answer", reasoning: "Kept thought.", text: "Kept." }));
    const created = await client.responses.create({ model: NATIVE, input: "Keep it" });
    assert.equal("encrypted_content" in (created.output[0] ?? {}), false);
    const plain = await client.responses.retrieve(created.id);
    assert.equal("encrypted_content" in (plain.output[0] ?? {}), false);
    const included = await client.responses.retrieve(created.id, { include: ["reasoning.encrypted_content"] });
    assert.equal(included.output[0]?.type === "reasoning" && included.output[0].encrypted_content, sealed("Kept thought."));
    assert.equal(included.output_text, "Kept.");
  });

  it("continues a stored conversation natively: the upstream gets its items, not its id", async () => {
    upstream.script(() => ({ kind: "answer", reasoning: "Conv thought.", text: "First in the conversation." }));
    const conversation = await client.conversations.create({ items: [{ type: "message", role: "user", content: "Hello" }] });
    await client.responses.create({ model: NATIVE, conversation: conversation.id, input: "Question one" });
    let body = lastBody();
    assert.equal("conversation" in body, false);
    assert.deepEqual(body.include, ["reasoning.encrypted_content"]);
    assert.deepEqual(
      (body.input as Record<string, unknown>[]).map((item) => item.type),
      ["message", "message"],
    );
    upstream.script(() => ({ kind: "answer", text: "Second in the conversation." }));
    await client.responses.create({ model: NATIVE, conversation: conversation.id, input: "Question two" });
    body = lastBody();
    const input = body.input as Record<string, unknown>[];
    assert.deepEqual(
      input.map((item) => item.type),
      ["message", "message", "reasoning", "message", "message"],
    );
    assert.equal(input[2]?.encrypted_content, sealed("Conv thought."));
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    // Hello, then each turn's input and output (the reasoning item included).
    assert.equal(items.data.length, 6);
  });
});

/** An Anthropic stream with a thinking block (its text in two deltas, then its signature) and a text block. */
function thinkingSse(thought: string, answer: string): string {
  const half = Math.ceil(thought.length / 2);
  return blocksSse([{ thinking: [thought.slice(0, half), thought.slice(half)], signature: "EqQBCgIYAhIM" }, { text: answer }]);
}

/**
 * An Anthropic stream of these blocks, in order: thinking (its text, in these deltas, then its
 * signature), redacted thinking (its data), and text.
 */
function blocksSse(
  blocks: ({ thinking: string | string[]; signature: string } | { redacted: string } | { text: string })[],
): string {
  const events: [string, Record<string, unknown>][] = [
    [
      "message_start",
      {
        type: "message_start",
        message: {
          id: "msg_b1",
          type: "message",
          role: "assistant",
          model: "claude-haiku-4-5",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 12, output_tokens: 1 },
        },
      },
    ],
  ];
  for (const [index, block] of blocks.entries()) {
    const delta = (d: Record<string, unknown>) =>
      ["content_block_delta", { type: "content_block_delta", index, delta: d }] as [string, Record<string, unknown>];
    if ("thinking" in block) {
      events.push(
        [
          "content_block_start",
          { type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } },
        ],
        ...[block.thinking].flat().map((thinking) => delta({ type: "thinking_delta", thinking })),
        delta({ type: "signature_delta", signature: block.signature }),
      );
    } else if ("redacted" in block) {
      events.push([
        "content_block_start",
        { type: "content_block_start", index, content_block: { type: "redacted_thinking", data: block.redacted } },
      ]);
    } else {
      events.push(
        ["content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } }],
        delta({ type: "text_delta", text: block.text }),
      );
    }
    events.push(["content_block_stop", { type: "content_block_stop", index }]);
  }
  events.push(
    [
      "message_delta",
      { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 20 } },
    ],
    ["message_stop", { type: "message_stop" }],
  );
  return events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join("");
}

describe("a stored prompt with no input", () => {
  const prompt = { id: "pmpt_abc", version: "3", variables: { city: "Paris" } };

  for (const stream of [false, true]) {
    it(`goes to a Responses-native upstream as it came (${stream ? "streamed" : "whole"})`, async () => {
      upstream.script(() => ({ kind: "answer", text: "From the template." }));
      const response = stream
        ? await client.responses.stream({ model: NATIVE, prompt }).finalResponse()
        : await client.responses.create({ model: NATIVE, prompt });
      assert.equal(response.output_text, "From the template.");
      const body = lastBody();
      assert.deepEqual(body.prompt, prompt);
      assert.equal("input" in body, false, JSON.stringify(body.input));
    });
  }

  it("is refused for a target on another wire, naming prompt, never sent there", async () => {
    const before = anthropic.requests.length;
    const error = await client.responses.create({ model: CLAUDE, prompt }).then(
      () => assert.fail("answered"),
      (err: unknown) => err as InstanceType<typeof OpenAI.APIError>,
    );
    assert.equal(error.status, 400);
    assert.match(error.message, /prompt/);
    assert.equal(anthropic.requests.length, before);
  });
});

describe("an input of items only a Responses-native target takes", () => {
  // A computer-use agent's turn: the screenshot its last action asked for, nothing else.
  const input = [
    {
      type: "computer_call_output",
      call_id: "call_screen1",
      output: { type: "computer_screenshot", image_url: "data:image/png;base64,iVBORw0KGgo=" },
    },
  ];

  it("goes to a Responses-native upstream as it came", async () => {
    upstream.script(() => ({ kind: "answer", text: "I see the screen." }));
    const response = await client.responses.create({ model: NATIVE, input: input as never, store: false });
    assert.equal(response.output_text, "I see the screen.");
    assert.deepEqual(lastBody().input, input);
  });

  it("is refused for a target on another wire, naming the item, never sent there", async () => {
    const before = anthropic.requests.length;
    const error = await client.responses.create({ model: CLAUDE, input: input as never, store: false }).then(
      () => assert.fail("answered"),
      (err: unknown) => err as InstanceType<typeof OpenAI.APIError>,
    );
    assert.equal(error.status, 400);
    assert.equal((error.error as { param?: string }).param, "input[0]");
    assert.match(error.message, /computer_call_output/);
    assert.equal(anthropic.requests.length, before);
  });
});

describe("reasoning on the canonical path", () => {
  it("renders an Anthropic target's thinking as a reasoning item with reasoning summary events", async () => {
    anthropic.script(() => ({ kind: "sse", body: thinkingSse("Paris is in France.", "It is sunny.") }));
    const stream = client.responses.stream({ model: CLAUDE, input: "Where is Paris?" });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    const reasoningEvents = events.filter((e) => e.type.startsWith("response.reasoning_summary"));
    assert.deepEqual(
      reasoningEvents.map((e) => e.type),
      [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
      ],
    );
    const done = reasoningEvents[3] as Extract<ResponseStreamEvent, { type: "response.reasoning_summary_text.done" }>;
    assert.equal(done.text, "Paris is in France.");
    assert.equal(done.output_index, 0);
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    assert.equal(final.output[0]?.type, "reasoning");
    assert.deepEqual((final.output[0] as { summary: unknown }).summary, [{ type: "summary_text", text: "Paris is in France." }]);
    assert.equal(final.output[1]?.type, "message");
    assert.equal(final.output_text, "It is sunny.");

    // Whole (the upstream's thinking gathered into the Response's output).
    anthropic.script(() => ({ kind: "sse", body: thinkingSse("Short thought.", "Done.") }));
    const whole = await client.responses.create({ model: CLAUDE, input: "Quick one", previous_response_id: final.id });
    assert.deepEqual(whole.output[0], {
      id: whole.output[0]?.id,
      type: "reasoning",
      summary: [{ type: "summary_text", text: "Short thought." }],
    });
    assert.equal(whole.output_text, "Done.");

    // Reasoning a native upstream cannot read (no encrypted content) is left out there, and said.
    upstream.script(() => ({ kind: "answer", text: "Native again." }));
    const { response } = await client.responses
      .create({ model: NATIVE, input: "Go on", previous_response_id: whole.id })
      .withResponse();
    const input = lastBody().input as Record<string, unknown>[];
    assert.equal(
      input.some((item) => item.type === "reasoning"),
      false,
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning items from another provider were left out/);
  });

  it("keeps an Anthropic target's thinking signature with its reasoning item, unseen, and sends it back to that provider only", async () => {
    anthropic.script(() => ({ kind: "sse", body: thinkingSse("Paris is in France.", "It is sunny.") }));
    const first = await client.responses.stream({ model: CLAUDE, input: "Where is Paris?" }).finalResponse();
    anthropic.script(() => ({ kind: "sse", body: thinkingSse("Short thought.", "Done.") }));
    const second = await client.responses.create({ model: CLAUDE, input: "Quick one", previous_response_id: first.id });
    for (const shown of [first, second, await client.responses.retrieve(second.id)]) {
      assert.equal("encrypted_content" in (shown.output[0] ?? {}), false, "the signature is not shown");
    }
    const listed = await client.responses.inputItems.list(second.id);
    assert.equal(
      listed.data.some((item) => "encrypted_content" in item),
      false,
    );
    const stored = await state.getResponse(second.id);
    assert.equal(stored?.output[0]?.origin, CLAUDE);

    // The next turn on the same provider: each earlier turn's thinking, signed, before its answer.
    anthropic.script(() => ({ kind: "text", text: "Third.", usage: { input: 9, output: 2 } }));
    const { response } = await client.responses
      .create({ model: CLAUDE, input: "And now?", previous_response_id: second.id })
      .withResponse();
    const sent = anthropic.requests.at(-1)?.body as { messages: { role: string; content: Record<string, unknown>[] }[] };
    const assistant = sent.messages.filter((m) => m.role === "assistant");
    assert.deepEqual(
      assistant.map((m) => m.content[0]),
      [
        { type: "thinking", thinking: "Paris is in France.", signature: "EqQBCgIYAhIM" },
        { type: "thinking", thinking: "Short thought.", signature: "EqQBCgIYAhIM" },
      ],
    );
    assert.equal(response.headers.get("x-tandem-warnings"), null, "nothing left out");

    // Another provider cannot read it: left out, and said so in the router's words.
    upstream.script(() => ({ kind: "answer", text: "Native." }));
    const native = await client.responses
      .create({ model: NATIVE, input: "Elsewhere?", previous_response_id: second.id })
      .withResponse();
    const input = lastBody().input as Record<string, unknown>[];
    assert.equal(
      input.some((item) => item.type === "reasoning"),
      false,
    );
    assert.doesNotMatch(native.response.headers.get("x-tandem-warnings") ?? "", /only the Responses upstream/);
  });
});

describe("several thinking blocks, and redacted thinking, from an Anthropic target", () => {
  const blocks = [
    { thinking: "First thought.", signature: "SIG_ONE" },
    { redacted: "REDACTED_DATA" },
    { thinking: "Second thought.", signature: "SIG_TWO" },
    { text: "The answer." },
  ];

  for (const stream of [true, false]) {
    it(`keeps each block's own seal, unseen, and sends all back to that provider in order (${stream ? "streamed" : "whole"})`, async () => {
      anthropic.script(() => ({ kind: "sse", body: blocksSse(blocks) }));
      const first = stream
        ? await client.responses.stream({ model: CLAUDE, input: "Think twice." }).finalResponse()
        : await client.responses.create({ model: CLAUDE, input: "Think twice." });
      // A reasoning item a block, as OpenAI gives several; the redacted one with no summary.
      assert.deepEqual(
        first.output.map((item) => (item.type === "reasoning" ? item.summary.map((part) => part.text) : item.type)),
        [["First thought."], [], ["Second thought."], "message"],
      );
      assert.equal(first.output_text, "The answer.");
      for (const shown of [first, await client.responses.retrieve(first.id, { include: ["reasoning.encrypted_content"] })]) {
        assert.equal(
          shown.output.some((item) => "encrypted_content" in item),
          false,
          "no seal of Anthropic's is shown, even when encrypted reasoning is asked for",
        );
      }
      const listed = await client.responses.inputItems.list(first.id);
      assert.equal(
        listed.data.some((item) => "encrypted_content" in item),
        false,
      );

      anthropic.script(() => ({ kind: "text", text: "Next.", usage: { input: 9, output: 2 } }));
      await client.responses.create({ model: CLAUDE, input: "And then?", previous_response_id: first.id });
      const sent = anthropic.requests.at(-1)?.body as { messages: { role: string; content: Record<string, unknown>[] }[] };
      const assistant = sent.messages.find((m) => m.role === "assistant");
      assert.deepEqual(assistant?.content, [
        { type: "thinking", thinking: "First thought.", signature: "SIG_ONE" },
        { type: "redacted_thinking", data: "REDACTED_DATA" },
        { type: "thinking", thinking: "Second thought.", signature: "SIG_TWO" },
        { type: "text", text: "The answer." },
      ]);
    });
  }
});

describe("privacy on the native Responses path", () => {
  const EMAIL = "alice.liddell@example.org";

  it("redacts the body upstream and restores the answer: a placeholder split across deltas, in a call's arguments, in the stored response", async () => {
    for (const [stream, route] of [
      [true, "redact-native"],
      [false, "redact-native"],
      [false, "redact-native-whole"],
    ] as const) {
      let placeholder = "";
      upstream.script((request) => {
        placeholder = /\[[A-Z_]*EMAIL[A-Z_]*_1\]/.exec(JSON.stringify(request.body))?.[0] ?? "";
        // The fake streams text in pieces of about 4 characters: the placeholder arrives split.
        return {
          kind: "answer",
          text: `Mail ${placeholder} now.`,
          calls: [{ name: "send", arguments: `{"to":"${placeholder}"}` }],
        };
      });
      const request = { model: route, input: `Write to ${EMAIL} please`, tools: [SEND_TOOL] };
      let response: OpenAI.Responses.Response;
      let streamedText = "";
      let streamedArguments = "";
      if (stream) {
        const events = await client.responses.create({ ...request, stream: true });
        let completed: OpenAI.Responses.Response | undefined;
        for await (const event of events) {
          if (event.type === "response.output_text.delta") streamedText += event.delta;
          if (event.type === "response.function_call_arguments.delta") streamedArguments += event.delta;
          if (event.type === "response.completed") completed = event.response;
        }
        assert.ok(completed, "the stream completed");
        response = completed;
        assert.equal(streamedText, `Mail ${EMAIL} now.`, "the text deltas, joined");
        assert.deepEqual(JSON.parse(streamedArguments), { to: EMAIL }, "the argument deltas, joined");
      } else {
        response = await client.responses.create(request);
      }
      const sent = upstream.responseTexts.at(-1);
      assert.ok(sent && placeholder !== "", `a placeholder upstream: ${sent}`);
      assert.ok(!sent.includes(EMAIL), "the email never reached the upstream");
      const label = `stream=${stream} route=${route}`;
      // output_text is the SDK's sum of the message's text, which it adds to a whole answer only.
      const messageText = response.output
        .flatMap((item) => (item.type === "message" ? item.content : []))
        .map((part) => (part.type === "output_text" ? part.text : ""))
        .join("");
      assert.equal(messageText, `Mail ${EMAIL} now.`, label);
      const call = response.output.find((item) => item.type === "function_call");
      assert.deepEqual(JSON.parse(call?.type === "function_call" ? call.arguments : "null"), { to: EMAIL }, label);
      const stored = await client.responses.retrieve(response.id);
      assert.equal(stored.output_text, `Mail ${EMAIL} now.`, `${label}: stored`);
      assert.ok(!JSON.stringify(stored).includes(placeholder), `${label}: no placeholder stored`);
    }
  });
});
