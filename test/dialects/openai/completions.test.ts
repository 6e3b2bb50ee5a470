import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type ChatRequest, GatewayError } from "../../../src/core/index.js";
import { type DialectApp, ssePayloads, startDialectApp, TARGET, textEvents } from "./stub-gateway.js";

let app: DialectApp;
let client: OpenAI;

before(async () => {
  app = await startDialectApp();
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

after(() => app.close());

beforeEach(() => {
  app.gateway.chatRequests.length = 0;
  app.gateway.chatScript = () => textEvents(" upon a time");
});

async function post(body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${app.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("POST /v1/completions", () => {
  it("answers a text_completion from one user message holding the prompt", async () => {
    const data = await client.completions.create({ model: "auto", prompt: "Once", temperature: 0.2, stop: ["\n"], seed: 3 });
    assert.match(data.id, /^cmpl-/);
    assert.equal(data.object, "text_completion");
    assert.equal(data.model, TARGET);
    assert.deepEqual(data.choices, [{ text: " upon a time", index: 0, logprobs: null, finish_reason: "stop" }]);
    assert.deepEqual(data.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
    assert.deepEqual(app.gateway.chatRequests[0], {
      model: "auto",
      messages: [{ role: "user", content: [{ type: "text", text: "Once" }] }],
      completion: { prompt: "Once" },
      maxTokens: 16,
      stream: false,
      temperature: 0.2,
      stop: ["\n"],
      seed: 3,
    });
  });

  it("passes a suffix on as fill-in-the-middle, and takes an empty one for none", async () => {
    await client.completions.create({ model: "auto", prompt: "def f(", suffix: "    return x\n" });
    assert.deepEqual(app.gateway.chatRequests[0]?.completion, { prompt: "def f(", suffix: "    return x\n" });
    await client.completions.create({ model: "auto", prompt: "def f(", suffix: "" });
    assert.deepEqual(app.gateway.chatRequests[1]?.completion, { prompt: "def f(" });
  });

  it("asks for the prompt echoed with its logprobs, keeps token ids beside their cl100k_base text, and takes max_tokens 0 with them", async () => {
    await client.completions.create({ model: "auto", prompt: [9906], echo: true, logprobs: 2, max_tokens: 0 });
    const sent = app.gateway.chatRequests[0];
    assert.deepEqual(sent?.completion, { prompt: "Hello", tokens: [9906], echo: "logprobs" });
    assert.equal(sent?.maxTokens, 0);
    assert.deepEqual(sent?.logprobs, { topLogprobs: 2, fields: ["logprobs"] });
    // Ids that are no cl100k_base tokens (a larger vocabulary's) have no text: only a target that reads them can answer.
    await client.completions.create({ model: "auto", prompt: [[1, 150_000]], echo: true });
    assert.deepEqual(app.gateway.chatRequests[1]?.completion, {
      prompt: "",
      tokens: [1, 150_000],
      tokensOnly: true,
      echo: "text",
    });
  });

  it("echoes the prompt as the target read it, with its tokens from offset 0 before the answer's, whole and streamed", async () => {
    const bytes = (text: string) => [...new TextEncoder().encode(text)];
    app.gateway.chatScript = () => [
      { type: "start" },
      // In pieces, as the engine reports a long prompt batch by batch.
      { type: "prompt", text: "Hé", logprobs: [{ token: "Hé", bytes: bytes("Hé"), logprob: null, topLogprobs: null }] },
      {
        type: "prompt",
        text: "llo",
        logprobs: [{ token: "llo", bytes: bytes("llo"), logprob: -0.5, topLogprobs: [{ token: "lo", logprob: -0.25 }] }],
      },
      { type: "text-delta", text: " you", logprobs: [{ token: " you", logprob: -1, topLogprobs: [] }] },
      { type: "usage", usage: { inputTokens: 2, outputTokens: 1 } },
      { type: "finish", reason: "length" },
    ];
    const expected = {
      tokens: ["Hé", "llo", " you"],
      token_logprobs: [null, -0.5, -1],
      top_logprobs: [null, { lo: -0.25, llo: -0.5 }, { " you": -1 }],
      text_offset: [0, 2, 5],
    };
    // The client's own text is not what the target read: the target's is echoed.
    const whole = await client.completions.create({ model: "auto", prompt: [9906], echo: true, logprobs: 1, max_tokens: 1 });
    assert.equal(whole.choices[0]?.text, "Héllo you");
    assert.deepEqual(whole.choices[0]?.logprobs, expected);
    const res = await post({ model: "auto", prompt: [9906], echo: true, logprobs: 1, max_tokens: 1, stream: true });
    const chunks = ssePayloads(res.text).flatMap((p) =>
      p === "[DONE]" ? [] : (JSON.parse(p).choices as { text: string; logprobs: unknown }[]),
    );
    assert.deepEqual(
      chunks.map((c) => c.text),
      ["Hé", "llo", " you", ""],
    );
    assert.deepEqual(chunks[0]?.logprobs, { tokens: ["Hé"], token_logprobs: [null], top_logprobs: [null], text_offset: [0] });
    assert.deepEqual(chunks[1]?.logprobs, {
      tokens: ["llo"],
      token_logprobs: [-0.5],
      top_logprobs: [{ lo: -0.25, llo: -0.5 }],
      text_offset: [2],
    });
    assert.deepEqual(chunks[2]?.logprobs, {
      tokens: [" you"],
      token_logprobs: [-1],
      top_logprobs: [{ " you": -1 }],
      text_offset: [5],
    });
  });

  it("accepts a prompt array of exactly one string and an explicit max_tokens", async () => {
    await client.completions.create({ model: "auto", prompt: ["Once"], max_tokens: 99 });
    assert.equal(app.gateway.chatRequests[0]?.maxTokens, 99);
  });

  it("maps a length finish", async () => {
    app.gateway.chatScript = () => [{ type: "start" }, { type: "text-delta", text: "x" }, { type: "finish", reason: "length" }];
    const data = await client.completions.create({ model: "auto", prompt: "Once" });
    assert.equal(data.choices[0]?.finish_reason, "length");
  });

  it("streams text_completion chunks with a usage chunk and [DONE]", async () => {
    const res = await post({ model: "auto", prompt: "Once", stream: true, stream_options: { include_usage: true } });
    const payloads = ssePayloads(res.text);
    assert.equal(payloads.at(-1), "[DONE]");
    const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
    for (const chunk of chunks) {
      assert.equal(chunk.object, "text_completion");
      assert.equal(chunk.model, TARGET);
      assert.match(chunk.id, /^cmpl-/);
    }
    assert.deepEqual(
      chunks.map((c) => [c.choices, c.usage]),
      [
        [[{ text: " upo", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "n a ", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "time", index: 0, logprobs: null, finish_reason: null }], null],
        [[{ text: "", index: 0, logprobs: null, finish_reason: "stop" }], null],
        [[], { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 }],
      ],
    );
  });

  it("streams through the SDK", async () => {
    const stream = await client.completions.create({ model: "auto", prompt: "Once", stream: true });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, " upon a time");
    assert.equal(finish, "stop");
  });

  it("renders gateway errors in OpenAI's shape", async () => {
    app.gateway.chatScript = () => new GatewayError("not_found", "The model 'x' does not exist");
    await assert.rejects(
      client.completions.create({ model: "x", prompt: "Once" }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === "model_not_found",
    );
  });

  describe("several prompts, n and best_of", () => {
    /** Each request answers `<its prompt>`, so the choices show which prompt they answer. */
    const promptOf = (request: ChatRequest) => (request.messages[0]?.content[0] as { text: string }).text;
    beforeEach(() => {
      app.gateway.chatScript = (request) => textEvents(`<${promptOf(request)}>`);
    });

    it("answers n choices per prompt, prompt-major, with echo and the usage summed", async () => {
      const data = await client.completions.create({ model: "auto", prompt: ["A", "B"], n: 2, echo: true });
      assert.match(data.id, /^cmpl-/);
      assert.equal(data.object, "text_completion");
      assert.deepEqual(
        data.choices.map((c) => [c.index, c.text]),
        [
          [0, "A<A>"],
          [1, "A<A>"],
          [2, "B<B>"],
          [3, "B<B>"],
        ],
      );
      assert.equal(app.gateway.chatRequests.length, 4);
      assert.deepEqual(data.usage, { prompt_tokens: 44, completion_tokens: 16, total_tokens: 60 });
    });

    it("reads a list of token-id prompts as their texts", async () => {
      const data = await client.completions.create({ model: "auto", prompt: [[9906], [15339, 1917]] });
      assert.equal(data.choices.length, 2);
      assert.deepEqual(app.gateway.chatRequests.map(promptOf), ["Hello", "hello world"]);
    });

    it("streams each choice's chunks with its index, then one usage chunk and [DONE]", async () => {
      const res = await post({ model: "auto", prompt: ["A", "B"], n: 2, stream: true, stream_options: { include_usage: true } });
      assert.equal(res.status, 200);
      const payloads = ssePayloads(res.text);
      assert.equal(payloads.at(-1), "[DONE]");
      const chunks = payloads.slice(0, -1).map((p) => JSON.parse(p));
      assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
      const texts = ["", "", "", ""];
      for (const chunk of chunks.slice(0, -1)) {
        assert.equal(chunk.object, "text_completion");
        assert.equal(chunk.usage, null);
        for (const choice of chunk.choices) texts[choice.index] += choice.text;
      }
      assert.deepEqual(texts, ["<A>", "<A>", "<B>", "<B>"]);
      assert.deepEqual(chunks.at(-1).choices, []);
      assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 44, completion_tokens: 16, total_tokens: 60 });
      const finishes = chunks.flatMap((c) => c.choices.filter((x: { finish_reason: unknown }) => x.finish_reason !== null));
      assert.deepEqual(finishes.map((c: { index: number }) => c.index).sort(), [0, 1, 2, 3]);
    });

    it("streams without usage members when include_usage is not asked", async () => {
      const res = await post({ model: "auto", prompt: ["A", "B"], stream: true });
      const chunks = ssePayloads(res.text)
        .slice(0, -1)
        .map((p) => JSON.parse(p));
      for (const chunk of chunks) {
        assert.equal("usage" in chunk, false);
        assert.notDeepEqual(chunk.choices, []);
      }
    });

    it("best_of: the n candidates of each prompt with the highest mean token logprob, best first", async () => {
      let call = 0;
      // Candidates' mean logprobs: -2, -0.5, -1 (per prompt, in the order the requests are made).
      const means = [-2, -0.5, -1];
      app.gateway.chatScript = (request) => {
        const mean = means[call++ % 3] as number;
        return [
          { type: "start" },
          {
            type: "text-delta",
            text: `${promptOf(request)}${mean}`,
            logprobs: [{ token: `${promptOf(request)}${mean}`, logprob: mean, topLogprobs: [] }],
          },
          { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } },
          { type: "finish", reason: "stop" },
        ];
      };
      const data = await client.completions.create({ model: "auto", prompt: ["A", "B"], best_of: 3, n: 2 });
      assert.deepEqual(
        data.choices.map((c) => [c.index, c.text, c.logprobs]),
        [
          [0, "A-0.5", null],
          [1, "A-1", null],
          [2, "B-0.5", null],
          [3, "B-1", null],
        ],
      );
      // Every candidate was generated, and counts.
      assert.equal(app.gateway.chatRequests.length, 6);
      assert.deepEqual(data.usage, { prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });
      for (const request of app.gateway.chatRequests) assert.deepEqual(request.logprobs, { fields: ["best_of"] });
    });

    it("best_of: a target that cannot report logprobs is a 400 naming best_of, not a made-up ranking", async () => {
      app.gateway.meta = { ...app.gateway.meta, warnings: ["best_of"] };
      try {
        const res = await post({ model: "auto", prompt: "A", best_of: 2 });
        assert.equal(res.status, 400, res.text);
        const error = JSON.parse(res.text).error;
        assert.equal(error.param, "best_of");
        assert.match(error.message, /cannot report token logprobs/);
      } finally {
        app.gateway.meta = { ...app.gateway.meta, warnings: undefined };
      }
    });

    it("best_of equal to n is n choices, streamed too, without asking for logprobs", async () => {
      const res = await post({ model: "auto", prompt: "A", best_of: 2, n: 2, stream: true });
      assert.equal(res.status, 200, res.text);
      assert.equal(app.gateway.chatRequests.length, 2);
      for (const request of app.gateway.chatRequests) assert.equal(request.logprobs, undefined);
    });
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ["ids that are no cl100k_base tokens", { model: "auto", prompt: [1, -2, 3] }, "prompt"],
    ["a mix of strings and token ids", { model: "auto", prompt: ["a", [3]] }, "prompt"],
    ["an empty token list among prompts", { model: "auto", prompt: [[1], []] }, "prompt[1]"],
    ["more than 128 prompts", { model: "auto", prompt: Array.from({ length: 129 }, () => "a") }, "prompt"],
    ["prompts × n above 128", { model: "auto", prompt: ["a", "b", "c"], n: 50 }, "n"],
    ["prompts × best_of above 128", { model: "auto", prompt: ["a", "b", "c"], best_of: 20, n: 2 }, "best_of"],
    ["best_of below n", { model: "auto", prompt: "x", best_of: 2, n: 3 }, "best_of"],
    ["best_of above n, streamed", { model: "auto", prompt: "x", best_of: 3, stream: true }, "best_of"],
    ["no prompt", { model: "auto" }, "prompt"],
    ["echo with logprobs and a suffix", { model: "auto", prompt: "x", suffix: "y", echo: true, logprobs: 1 }, "echo"],
    ["max_tokens 0 without echo and logprobs", { model: "auto", prompt: "x", max_tokens: 0, echo: true }, "max_tokens"],
    ["logprobs above 5", { model: "auto", prompt: "x", logprobs: 6 }, "logprobs"],
    ["best_of above 20", { model: "auto", prompt: "x", best_of: 21 }, "best_of"],
    ["n above 128", { model: "auto", prompt: "x", n: 129 }, "n"],
    ["temperature", { model: "auto", prompt: "x", temperature: 5 }, "temperature"],
    ["max_tokens", { model: "auto", prompt: "x", max_tokens: -1 }, "max_tokens"],
    ["model", { prompt: "x" }, "model"],
  ];
  for (const [label, body, param] of cases) {
    it(`rejects ${label} with a 400 naming '${param}'`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400, res.text);
      const error = JSON.parse(res.text).error;
      assert.equal(error.param, param);
      assert.equal(error.type, "invalid_request_error");
      assert.ok(error.message.includes(`'${param}'`), error.message);
    });
  }
});
