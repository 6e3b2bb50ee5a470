/**
 * What only the client's wire can say (NativeRequest.wireOnly): valid requests the canonical form
 * cannot express reach a target on the client's own wire as the client sent them, and the answer
 * comes back with every field; a target on another wire is skipped, and a request no target on the
 * wire can take gets a 400 in the client's dialect naming the field. What crosses only as its
 * closest form (reasoning_effort xhigh, a text document) is named in `x-tandem-warnings`.
 * Through the official SDKs, against upstreams that record the bytes they receive.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let oa: ScriptedUpstream;
let an: ScriptedUpstream;
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  oa = await startScriptedUpstream();
  an = await startScriptedUpstream();
  const fast = { retry: { attempts: 1 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem(
    {
      providers: {
        oa: { kind: "openai", baseUrl: `${oa.url}/v1`, local: false, apiKeys: ["env:OA_KEY"], models: { gpt: { id: "gpt-up" } } },
        // The same upstream as a second OpenAI-compatible provider, to fail over to.
        oa2: {
          kind: "openai",
          baseUrl: `${oa.url}/v1`,
          local: false,
          apiKeys: ["env:OA_KEY"],
          models: { gpt: { id: "gpt-up" } },
        },
        an: {
          kind: "anthropic",
          baseUrl: an.url,
          local: false,
          apiKeys: ["env:AN_KEY"],
          models: { claude: { id: "claude-up" } },
        },
      },
      routes: {
        "oa-whole": { tiers: [["oa/gpt"]], streamUpstream: false, ...fast },
        "an-whole": { tiers: [["an/claude"]], streamUpstream: false, ...fast },
        "an-then-oa": { tiers: [["an/claude"], ["oa/gpt"]], streamUpstream: false, ...fast },
        "redact-an": { tiers: [["an/claude"]], privacy: "redact", streamUpstream: false, ...fast },
        "oa-then-oa2": { tiers: [["oa/gpt"], ["oa2/gpt"]], ...fast },
        "oa-then-an": { tiers: [["oa/gpt"], ["an/claude"]], streamUpstream: false, ...fast },
      },
      // Attachments tandem cannot read (a PDF, audio, a file's bytes) would make these requests
      // private, and keep them off these cloud upstreams: test/privacy/unread-attachments.test.ts.
      privacy: { imagesArePrivate: false },
    },
    { env: { OA_KEY: "sk-oa", AN_KEY: "sk-an" } },
  );
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([oa?.close(), an?.close()]);
});

function clear(): void {
  oa.clear();
  an.clear();
}

/** The client's body as the SDK sends it, with only what tandem sets for the upstream changed. */
function expected(params: object, model: string, extra: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(JSON.stringify(params)), model, ...extra });
}

// ---- OpenAI chat completions ----

const HI = [{ role: "user" as const, content: "Hi" }];

/** Valid chat completions requests (openai-node's own types) the canonical form cannot express. */
const OPENAI_CASES: Record<string, Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model">> = {
  "reasoning_effort xhigh": { messages: HI, reasoning_effort: "xhigh" },
  "reasoning_effort max": { messages: HI, reasoning_effort: "max" },
  "a custom tool": {
    messages: HI,
    tools: [{ type: "custom", custom: { name: "grep", description: "search", format: { type: "text" } } }],
    tool_choice: { type: "custom", custom: { name: "grep" } },
  },
  "tool_choice allowed_tools": {
    messages: HI,
    tools: [
      { type: "function", function: { name: "f", parameters: { type: "object", properties: {} } } },
      { type: "function", function: { name: "g" } },
    ],
    tool_choice: {
      type: "allowed_tools",
      allowed_tools: { mode: "required", tools: [{ type: "function", function: { name: "f" } }] },
    },
  },
  "a custom tool call in the history": {
    messages: [
      { role: "user", content: "find foo" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "custom", custom: { name: "grep", input: "foo" } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "foo.ts:1" },
    ],
  },
  "input_audio and file parts": {
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in these?" },
          { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
          { type: "file", file: { file_id: "file-abc" } },
          { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERg==" } },
        ],
      },
    ],
  },
  "n: 2": { messages: HI, n: 2 },
};

const ENVELOPE = { id: "chatcmpl-up", created: 1764790000, model: "gpt-up", system_fingerprint: "fp_up" };

function twoChoices(): Record<string, unknown> {
  return {
    ...ENVELOPE,
    object: "chat.completion",
    choices: [0, 1].map((index) => ({
      index,
      message: { role: "assistant", content: `answer ${index}`, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: "stop",
    })),
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  };
}

/** Two choices streamed interleaved, as OpenAI streams n: 2; choice 0 finishes first. */
function twoChoiceWrites(): string[] {
  const chunk = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({ ...ENVELOPE, object: "chat.completion.chunk", choices, usage })}\n\n`;
  const piece = (index: number, delta: object, finish: string | null = null) => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  return [
    chunk([piece(0, { role: "assistant", content: "" })]),
    chunk([piece(1, { role: "assistant", content: "" })]),
    chunk([piece(0, { content: "answer" })]),
    chunk([piece(1, { content: "other" })]),
    chunk([piece(0, { content: " 0" })]),
    chunk([piece(0, {}, "stop")]),
    chunk([piece(1, { content: " 1" })]),
    chunk([piece(1, {}, "length")]),
    chunk([], { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }),
    "data: [DONE]\n\n",
  ];
}

describe("OpenAI client to an OpenAI-compatible target: what the canonical form cannot express passes through", () => {
  for (const [name, params] of Object.entries(OPENAI_CASES)) {
    it(`${name}: the body reaches the upstream unchanged but its model, and the answer comes back whole`, async () => {
      clear();
      oa.script(() => ({ kind: "json", body: twoChoices() }));
      const { data, response } = await openai.chat.completions.create({ model: "oa-whole", ...params }).withResponse();
      assert.equal(oa.requests.length, 1);
      assert.equal(oa.requests[0]?.raw, expected({ model: "oa-whole", ...params }, "gpt-up", { stream: false }));
      assert.equal(oa.requests[0]?.headers.authorization, "Bearer sk-oa");
      assert.equal(response.headers.get("x-tandem-warnings"), null);
      assert.equal(data.model, "oa/gpt");
      assert.deepEqual(
        data.choices.map((c) => c.message.content),
        ["answer 0", "answer 1"],
      );
    });
  }

  it("n: 2, not streamed, from a streamed upstream: both choices put together", async () => {
    clear();
    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: twoChoiceWrites() }));
    const completion = await openai.chat.completions.create({ model: "oa/gpt", messages: HI, n: 2 });
    assert.equal(
      oa.requests[0]?.raw,
      expected({ model: "oa/gpt", messages: HI, n: 2 }, "gpt-up", {
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    assert.deepEqual(
      completion.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
      [
        [0, "answer 0", "stop"],
        [1, "other 1", "length"],
      ],
    );
    assert.equal(completion.usage?.total_tokens, 7);
  });

  it("n: 2, streamed: every chunk of both choices, byte for byte but the model; choice 0's finish, the usage and [DONE] last", async () => {
    clear();
    const writes = twoChoiceWrites();
    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const sent = { model: "oa/gpt", messages: HI, n: 2, stream: true, stream_options: { include_usage: true } };
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sent),
    });
    assert.equal(res.status, 200);
    const own = (write: string) => write.replaceAll('"model":"gpt-up"', '"model":"oa/gpt"');
    // Choice 1's chunks after choice 0's finish pass it: the finish is held until the router's checks on
    // choice 0 (the one they read) have passed, and the other choice's chunks flow as they come.
    const order = [0, 1, 2, 3, 4, 6, 7, 5, 8, 9];
    assert.equal(await res.text(), order.map((i) => own(writes[i] as string)).join(""));
  });

  it("n: 2, streamed: the other choice's chunks after choice 0's finish reach the client before the upstream ends", async () => {
    clear();
    const writes = twoChoiceWrites();
    let sawOther: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      sawOther = resolve;
    });
    // The upstream waits after choice 1's last text until the client has read it (or, when it never
    // comes, gives up after a while so that the test fails rather than hangs).
    let readFirst = false;
    const gate = async () => {
      readFirst = await Promise.race([seen.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    };
    oa.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: [...writes.slice(0, 7), gate, ...writes.slice(7)],
    }));
    const stream = await openai.chat.completions.create({ model: "oa/gpt", messages: HI, n: 2, stream: true });
    const texts = ["", ""];
    const finishes: Array<string | null> = [null, null];
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        texts[choice.index] += choice.delta.content ?? "";
        finishes[choice.index] = choice.finish_reason ?? finishes[choice.index] ?? null;
        if (choice.index === 1 && texts[1] === "other 1") sawOther();
      }
    assert.equal(readFirst, true, "choice 1's text reached the client while the upstream was still open");
    assert.deepEqual(texts, ["answer 0", "other 1"]);
    assert.deepEqual(finishes, ["stop", "length"]);

    // The SDK's stream helper puts every choice together.
    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes: twoChoiceWrites() }));
    const final = await openai.chat.completions.stream({ model: "oa/gpt", messages: HI, n: 2 }).finalChatCompletion();
    assert.deepEqual(
      final.choices.map((c) => [c.index, c.message.content, c.finish_reason]),
      [
        [0, "answer 0", "stop"],
        [1, "other 1", "length"],
      ],
    );
  });

  it("n: 2, streamed, broken off after the first bytes: not continued from the text so far (that could not say n)", async () => {
    clear();
    oa.script(() => ({
      kind: "stream",
      contentType: "text/event-stream",
      writes: twoChoiceWrites().slice(0, 4),
      breakOff: true,
    }));
    const stream = await openai.chat.completions.create({ model: "oa-then-oa2", messages: HI, n: 2, stream: true });
    await assert.rejects(async () => {
      for await (const _ of stream);
    });
    assert.equal(oa.requests.length, 1, "no continuation on the next target");
  });

  it("n: 2, streamed: a chunk with choice 0's finish and another choice's text is held whole, so that choice's later chunks stay behind it", async () => {
    // Some servers put several choices in one chunk. The chunk that finishes choice 0 is held for the
    // router's checks; choice 1's text in it must still reach the client before choice 1's finish.
    clear();
    const chunk = (choices: unknown[], usage: unknown = null) =>
      `data: ${JSON.stringify({ ...ENVELOPE, object: "chat.completion.chunk", choices, usage })}\n\n`;
    const piece = (index: number, delta: object, finish: string | null = null) => ({
      index,
      delta,
      logprobs: null,
      finish_reason: finish,
    });
    const writes = [
      chunk([piece(0, { role: "assistant", content: "answer 0" }), piece(1, { role: "assistant", content: "other" })]),
      chunk([piece(0, {}, "stop"), piece(1, { content: " 1" })]),
      chunk([piece(1, {}, "length")]),
      chunk([], { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 }),
      "data: [DONE]\n\n",
    ];
    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const stream = await openai.chat.completions.create({ model: "oa/gpt", messages: HI, n: 2, stream: true });
    const texts = ["", ""];
    const finishes: Array<string | null> = [null, null];
    for await (const chunk of stream)
      for (const choice of chunk.choices) {
        assert.equal(finishes[choice.index], null, `choice ${choice.index} has no chunk after its finish`);
        texts[choice.index] += choice.delta.content ?? "";
        finishes[choice.index] = choice.finish_reason ?? null;
      }
    assert.deepEqual(texts, ["answer 0", "other 1"]);
    assert.deepEqual(finishes, ["stop", "length"]);
  });

  it("a custom tool's call in the answer comes back, streamed and put together (its input text in pieces)", async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ ...ENVELOPE, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const writes = [
      chunk({
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, id: "call_7", type: "custom", custom: { name: "grep", input: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, custom: { input: 'say "hi"' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: "\nand more" } }] }),
      chunk({}, "tool_calls"),
      "data: [DONE]\n\n",
    ];
    const params = OPENAI_CASES["a custom tool"]!;
    clear();
    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const completion = await openai.chat.completions.create({ model: "oa/gpt", ...params });
    assert.deepEqual(completion.choices[0]?.message.tool_calls, [
      { id: "call_7", type: "custom", custom: { name: "grep", input: 'say "hi"\nand more' } },
    ]);
    assert.equal(completion.choices[0]?.finish_reason, "tool_calls");

    oa.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oa/gpt", ...params, stream: true }),
    });
    assert.equal(await res.text(), writes.join("").replaceAll('"model":"gpt-up"', '"model":"oa/gpt"'));
  });

  it("n: 2 skips a target on another wire", async () => {
    clear();
    oa.script(() => ({ kind: "json", body: twoChoices() }));
    const { data, response } = await openai.chat.completions.create({ model: "an-then-oa", messages: HI, n: 2 }).withResponse();
    assert.equal(an.requests.length, 0);
    assert.equal(oa.requests.length, 1);
    assert.equal(data.choices.length, 2);
    assert.equal(response.headers.get("x-tandem-target"), "oa/gpt");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /an\/claude.*'n'/);
  });

  it("n: 2 with no target on the OpenAI wire: fanned out, one request each without n (chat-choices.test.ts)", async () => {
    clear();
    an.script(() => ({ kind: "json", body: anthropicMessage([{ type: "text", text: "ok" }]) }));
    const completion = await openai.chat.completions.create({ model: "an-whole", messages: HI, n: 2 });
    assert.deepEqual(
      completion.choices.map((c) => [c.index, c.message.content]),
      [
        [0, "ok"],
        [1, "ok"],
      ],
    );
    assert.equal(an.requests.length, 2);
    for (const request of an.requests) assert.equal(request.raw.includes('"n"'), false);
  });

  it("an audio part cannot cross either: a 400 naming the field (custom tools do: chat-custom-tools.test.ts)", async () => {
    for (const [params, param] of [["input_audio and file parts", "messages[0].content[1]"]] as const) {
      clear();
      await assert.rejects(openai.chat.completions.create({ model: "an/claude", ...OPENAI_CASES[params]! }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal((err.error as { param?: string }).param, param);
        return true;
      });
      assert.equal(an.requests.length, 0);
    }
  });

  it("reasoning_effort xhigh crosses to Anthropic as a budget above high's", async () => {
    clear();
    an.script(() => ({ kind: "json", body: anthropicMessage([{ type: "text", text: "ok" }]) }));
    const { data, response } = await openai.chat.completions
      .create({ model: "an-whole", messages: HI, reasoning_effort: "xhigh", max_completion_tokens: 20000 })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "ok");
    assert.deepEqual(an.requests[0]?.body.thinking, { type: "enabled", budget_tokens: 49152 });
    assert.equal(an.requests[0]?.body.max_tokens, 49152 + 20000);
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);
  });

  it("allowed_tools crosses as the allowed tools only, and says so", async () => {
    clear();
    an.script(() => ({ kind: "json", body: anthropicMessage([{ type: "text", text: "ok" }]) }));
    const { response } = await openai.chat.completions
      .create({ model: "an-whole", ...OPENAI_CASES["tool_choice allowed_tools"]! })
      .withResponse();
    const body = an.requests[0]?.body as { tools: Array<{ name: string }>; tool_choice: unknown };
    assert.deepEqual(
      body.tools.map((t) => t.name),
      ["f"],
    );
    assert.deepEqual(body.tool_choice, { type: "any" });
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /allowed_tools/);
  });

  it("malformed input is still a 400 naming the field", async () => {
    for (const [body, param] of [
      [{ model: "oa-whole", messages: HI, n: 0 }, "n"],
      [{ model: "oa-whole", messages: HI, reasoning_effort: "ultra" }, "reasoning_effort"],
      [{ model: "oa-whole", messages: HI, tools: [{ type: "custom", custom: { name: 5 } }] }, "tools[0].custom.name"],
      [{ model: "oa-whole", messages: [{ role: "user", content: [{ type: "file", file: 7 }] }] }, "messages[0].content[0].file"],
    ] as const) {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { param: string } }).error.param, param);
    }
  });
});

// ---- Anthropic Messages ----

function anthropicMessage(content: unknown[]): Record<string, unknown> {
  return {
    id: "msg_up",
    type: "message",
    role: "assistant",
    model: "claude-up",
    content,
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, server_tool_use: { web_search_requests: 1 } },
  };
}

const SEARCH_RESULT: Anthropic.WebSearchResultBlockParam = {
  type: "web_search_result",
  url: "https://example.com",
  title: "Ex",
  encrypted_content: "enc",
  page_age: null,
};

/** Valid Messages requests (the SDK's own types) the canonical form cannot express. */
const ANTHROPIC_CASES: Record<string, Omit<Anthropic.MessageCreateParamsNonStreaming, "model">> = {
  "the web search server tool": {
    max_tokens: 100,
    messages: [{ role: "user", content: "news?" }],
    tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5, allowed_domains: ["example.com"] }],
  },
  "bash, text editor and code execution tools": {
    max_tokens: 100,
    messages: [{ role: "user", content: "run it" }],
    tools: [
      { type: "bash_20250124", name: "bash" },
      { type: "text_editor_20250728", name: "str_replace_based_edit_tool" },
      { type: "code_execution_20250825", name: "code_execution" },
      { name: "mine", input_schema: { type: "object" } },
    ],
  },
  "documents (PDF, text, file) and an image from a file": {
    max_tokens: 100,
    messages: [
      {
        role: "user",
        content: [
          { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERg==" }, title: "a.pdf" },
          {
            type: "document",
            source: { type: "text", media_type: "text/plain", data: "plain text" },
            citations: { enabled: true },
          },
          { type: "document", source: { type: "url", url: "https://example.com/a.pdf" } },
          { type: "document", source: { type: "file", file_id: "file_1" } },
          { type: "image", source: { type: "file", file_id: "file_2" } },
          { type: "text", text: "summarize" },
        ],
      },
    ],
  },
  "search results": {
    max_tokens: 100,
    messages: [
      {
        role: "user",
        content: [
          { type: "search_result", source: "https://example.com", title: "Ex", content: [{ type: "text", text: "found" }] },
          { type: "text", text: "cite it" },
        ],
      },
    ],
  },
  "the server tool's blocks in the history": {
    max_tokens: 100,
    tools: [{ type: "web_search_20250305", name: "web_search" }],
    messages: [
      { role: "user", content: "news?" },
      {
        role: "assistant",
        content: [
          { type: "server_tool_use", id: "srvtoolu_1", name: "web_search", input: { query: "news" } },
          { type: "web_search_tool_result", tool_use_id: "srvtoolu_1", content: [SEARCH_RESULT] },
          { type: "text", text: "Here is the news." },
        ],
      },
      { role: "user", content: "more" },
    ],
  },
};

describe("Anthropic client to an Anthropic target: what the canonical form cannot express passes through", () => {
  for (const [name, params] of Object.entries(ANTHROPIC_CASES)) {
    it(`${name}: the body reaches the upstream unchanged but its model, and the answer comes back whole`, async () => {
      clear();
      const content = [
        { type: "server_tool_use", id: "srvtoolu_2", name: "web_search", input: { query: "q" } },
        { type: "web_search_tool_result", tool_use_id: "srvtoolu_2", content: [SEARCH_RESULT] },
        { type: "text", text: "ok", citations: null },
      ];
      an.script(() => ({ kind: "json", body: anthropicMessage(content) }));
      const { data, response } = await anthropic.messages.create({ model: "an-whole", ...params }).withResponse();
      assert.equal(an.requests.length, 1);
      assert.equal(an.requests[0]?.raw, expected({ model: "an-whole", ...params }, "claude-up", { stream: false }));
      assert.equal(an.requests[0]?.headers["x-api-key"], "sk-an");
      assert.equal(response.headers.get("x-tandem-warnings"), null);
      assert.equal(data.model, "an/claude");
      assert.deepEqual(data.content, content);
      assert.equal(data.usage.server_tool_use?.web_search_requests, 1);
    });
  }

  it("streamed: the server tool's blocks reach the client as the upstream sent them", async () => {
    clear();
    const frames: Array<[string, unknown]> = [
      [
        "message_start",
        {
          type: "message_start",
          message: { ...anthropicMessage([]), stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } },
        },
      ],
      [
        "content_block_start",
        {
          type: "content_block_start",
          index: 0,
          content_block: { type: "server_tool_use", id: "srvtoolu_3", name: "web_search", input: {} },
        },
      ],
      [
        "content_block_delta",
        { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"query":"q"}' } },
      ],
      ["content_block_stop", { type: "content_block_stop", index: 0 }],
      [
        "content_block_start",
        {
          type: "content_block_start",
          index: 1,
          content_block: { type: "web_search_tool_result", tool_use_id: "srvtoolu_3", content: [SEARCH_RESULT] },
        },
      ],
      ["content_block_stop", { type: "content_block_stop", index: 1 }],
      ["content_block_start", { type: "content_block_start", index: 2, content_block: { type: "text", text: "" } }],
      ["content_block_delta", { type: "content_block_delta", index: 2, delta: { type: "text_delta", text: "found it" } }],
      ["content_block_stop", { type: "content_block_stop", index: 2 }],
      [
        "message_delta",
        { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 9 } },
      ],
      ["message_stop", { type: "message_stop" }],
    ];
    const writes = frames.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    an.script(() => ({ kind: "stream", contentType: "text/event-stream", writes }));
    const params = ANTHROPIC_CASES["the server tool's blocks in the history"]!;
    const message = await anthropic.messages.stream({ model: "an/claude", ...params }).finalMessage();
    assert.equal(an.requests[0]?.raw, expected({ model: "an/claude", ...params, stream: true }, "claude-up", { stream: true }));
    assert.deepEqual(
      message.content.map((b) => b.type),
      ["server_tool_use", "web_search_tool_result", "text"],
    );
    assert.deepEqual((message.content[0] as Anthropic.ServerToolUseBlock).input, { query: "q" });
  });

  it("a server tool skips a target on another wire", async () => {
    clear();
    an.script(() => ({ kind: "json", body: anthropicMessage([{ type: "text", text: "ok" }]) }));
    const { response } = await anthropic.messages
      .create({ model: "oa-then-an", ...ANTHROPIC_CASES["the web search server tool"]! })
      .withResponse();
    assert.equal(oa.requests.length, 0);
    assert.equal(an.requests.length, 1);
    assert.equal(response.headers.get("x-tandem-target"), "an/claude");
  });

  it("a server tool, a PDF or a server tool block with no target on the Anthropic wire: a 400 naming the field", async () => {
    for (const [name, param] of [
      ["the web search server tool", "tools[0]"],
      ["documents (PDF, text, file) and an image from a file", "messages[0].content[0]"],
      ["the server tool's blocks in the history", "messages[1].content[0]"],
    ] as const) {
      clear();
      await assert.rejects(anthropic.messages.create({ model: "oa/gpt", ...ANTHROPIC_CASES[name]! }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal((err.error as { error: { type: string } }).error.type, "invalid_request_error");
        assert.match(err.message, new RegExp(`'${param.replace(/[[\]]/g, "\\$&")}'.*anthropic-messages`));
        return true;
      });
      assert.equal(oa.requests.length, 0);
    }
  });

  it("a text document and a search result cross to another wire as their text, and say so", async () => {
    clear();
    oa.script(() => ({ kind: "json", body: { ...twoChoices(), choices: [(twoChoices().choices as unknown[])[0]] } }));
    const params = {
      max_tokens: 100,
      messages: [
        {
          role: "user" as const,
          content: [
            {
              type: "document" as const,
              source: { type: "text" as const, media_type: "text/plain" as const, data: "the memo" },
              title: "Memo",
            },
            {
              type: "search_result" as const,
              source: "https://example.com",
              title: "Ex",
              content: [{ type: "text" as const, text: "found" }],
            },
            { type: "text" as const, text: "summarize" },
          ],
        },
      ],
    };
    const { response } = await anthropic.messages.create({ model: "oa-whole", ...params }).withResponse();
    const sent = JSON.stringify(oa.requests[0]?.body.messages);
    for (const text of ["Memo", "the memo", "found", "https://example.com", "summarize"]) assert.ok(sent.includes(text), sent);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /document blocks/);
    assert.match(warnings, /search_result blocks/);
  });

  it("privacy reads a document's and a search result's text: on a redact route their values are replaced", async () => {
    clear();
    an.script(() => ({ kind: "json", body: anthropicMessage([{ type: "text", text: "ok" }]) }));
    await anthropic.messages.create({
      model: "redact-an",
      max_tokens: 100,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      messages: [
        {
          role: "user",
          content: [
            { type: "document", source: { type: "text", media_type: "text/plain", data: "Write to alice.w@example.com" } },
            { type: "search_result", source: "s", title: "t", content: [{ type: "text", text: "or bob.k@example.org" }] },
            { type: "text", text: "summarize" },
          ],
        },
      ],
    });
    const raw = an.requests[0]?.raw ?? "";
    assert.ok(!raw.includes("alice.w@example.com") && !raw.includes("bob.k@example.org"), raw);
    assert.match(raw, /web_search_20250305/);
  });

  it("malformed input is still a 400 naming the field", async () => {
    for (const [body, param] of [
      [
        { max_tokens: 5, messages: [{ role: "user", content: [{ type: "document", source: { type: "text" } }] }] },
        "messages[0].content[0].source.data",
      ],
      [
        { max_tokens: 5, messages: [{ role: "user", content: [{ type: "image", source: { type: "file" } }] }] },
        "messages[0].content[0].source.file_id",
      ],
      // A block of a type tandem does not know goes on to Anthropic (anthropic-new-blocks.test.ts); one of no type is malformed.
      [{ max_tokens: 5, messages: [{ role: "user", content: [{ type: 5 }] }] }, "messages[0].content[0].type"],
      [{ max_tokens: 5, messages: HI, tools: [{ type: 5, name: "x" }] }, "tools[0].type"],
    ] as const) {
      const res = await fetch(`${tandem.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify({ model: "an-whole", ...body }),
      });
      assert.equal(res.status, 400);
      const error = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(error.error.type, "invalid_request_error");
      assert.ok(error.error.message.includes(`'${param}'`), error.error.message);
    }
  });
});
