/**
 * `truncation` on POST /v1/responses through a real tandem: "disabled" (OpenAI's default) never cuts
 * a history: a conversation too long for the target's window gets OpenAI's own 400
 * (`context_length_exceeded`, param `input`, OpenAI's words), and a route moves on to a target whose
 * window holds it whole; "auto" fits it, oldest first, a function call and its output kept or left
 * out together, and says so in x-tandem-degraded. Chat completions still fit as before.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const OPENAI_MESSAGE = "Your input exceeds the context window of this model. Please adjust your input and try again.";

let small: FakeUpstream;
let big: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

type WireMessage = { role: string; content?: unknown; tool_calls?: { id: string }[]; tool_call_id?: string };
const sentMessages = (fake: FakeUpstream): WireMessage[] =>
  ((fake.requests.at(-1)?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];

before(async () => {
  [small, big] = await Promise.all([startFakeOpenAI({ models: ["m"] }), startFakeOpenAI({ models: ["m"] })]);
  tandem = await startTandem({
    providers: {
      small: { kind: "openai", baseUrl: small.url, models: { m: { contextWindow: 300 } } },
      big: { kind: "openai", baseUrl: big.url, models: { m: { contextWindow: 100_000 } } },
    },
    routes: { both: { tiers: ["small/m", "big/m"] } },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await small?.close();
  await big?.close();
});

beforeEach(() => {
  small.requests.length = 0;
  big.requests.length = 0;
});

const longHistory: ResponseInputItem[] = [
  { role: "user", content: "old ".repeat(600) },
  { role: "assistant", content: "ok" },
  { role: "user", content: "The question that matters" },
];

describe("responses truncation", () => {
  for (const truncation of [undefined, "disabled"] as const) {
    it(`${truncation ?? "absent (OpenAI's default, disabled)"}: a history over the window is OpenAI's 400, whole and streamed`, async () => {
      for (const stream of [false, true]) {
        await assert.rejects(
          client.responses.create({
            model: "small/m",
            input: longHistory,
            max_output_tokens: 50,
            stream,
            ...(truncation !== undefined && { truncation }),
          }),
          (err: unknown) => {
            assert.ok(err instanceof OpenAI.APIError, String(err));
            assert.equal(err.status, 400);
            assert.deepEqual(err.error, {
              message: OPENAI_MESSAGE,
              type: "invalid_request_error",
              param: "input",
              code: "context_length_exceeded",
            });
            return true;
          },
        );
      }
      assert.equal(small.requests.length, 0, "nothing was sent");
    });
  }

  it("disabled: a route moves on to a target whose window holds the whole history, uncut", async () => {
    const { data, response } = await client.responses
      .create({ model: "both", input: longHistory, max_output_tokens: 50, truncation: "disabled" })
      .withResponse();
    assert.equal(data.model, "big/m");
    assert.equal(small.requests.length, 0);
    assert.deepEqual(
      sentMessages(big).map((m) => m.role),
      ["user", "assistant", "user"],
    );
    assert.doesNotMatch(response.headers.get("x-tandem-degraded") ?? "", /fitted/);
  });

  it("auto: fits the history oldest first and says so", async () => {
    const { data, response } = await client.responses
      .create({ model: "small/m", input: longHistory, max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.equal(data.status, "completed");
    assert.equal(data.truncation, "auto");
    assert.match(
      response.headers.get("x-tandem-degraded") ?? "",
      /conversation fitted to small\/m's 300-token window: 2 older message\(s\) left out/,
    );
    const sent = sentMessages(small);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["user"],
    );
    assert.match(JSON.stringify(sent[0]?.content), /The question that matters/);
  });

  it("auto: a function call and its output are kept together or left out together", async () => {
    const call = (id: string, city: string): ResponseInputItem[] => [
      { type: "function_call", call_id: id, name: "get_weather", arguments: JSON.stringify({ city }) },
      { type: "function_call_output", call_id: id, output: id === "call_big" ? "cloudy ".repeat(400) : "sunny" },
    ];
    const input: ResponseInputItem[] = [
      { role: "user", content: "Weather in Oslo?" },
      ...call("call_big", "Oslo"),
      { role: "assistant", content: "Cloudy in Oslo." },
      { role: "user", content: "And in Rome?" },
      ...call("call_small", "Rome"),
      { role: "user", content: "Thanks, which was warmer?" },
    ];
    const tools = [
      {
        type: "function" as const,
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
        strict: false,
      },
    ];
    const { response } = await client.responses
      .create({ model: "small/m", input, tools, max_output_tokens: 50, truncation: "auto" })
      .withResponse();
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /conversation fitted to small\/m's 300-token window/);
    const sent = sentMessages(small);
    const callIds = sent.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []);
    const outputIds = sent.filter((m) => m.role === "tool").map((m) => m.tool_call_id);
    // The big pair went as a whole, the small one stayed as a whole.
    assert.equal(callIds.length, 1);
    assert.deepEqual(outputIds, callIds);
    assert.doesNotMatch(JSON.stringify(sent), /cloudy cloudy|Oslo/);
    assert.deepEqual(
      sent.map((m) => m.role),
      ["user", "assistant", "tool", "user"],
    );
  });

  it("chat completions still fit as before (truncation is the Responses API's)", async () => {
    const { response } = await client.chat.completions
      .create({
        model: "small/m",
        max_tokens: 50,
        messages: longHistory.map((m) => m as { role: "user" | "assistant"; content: string }),
      })
      .withResponse();
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /conversation fitted to small\/m's 300-token window/);
  });
  it("a newest turn over the window is never sent: refused whatever the truncation, and a route moves on", async () => {
    const huge = "word ".repeat(400);
    for (const truncation of ["disabled", "auto"] as const) {
      for (const input of [huge, [...longHistory, { role: "user" as const, content: huge }]]) {
        await assert.rejects(
          client.responses.create({ model: "small/m", input, max_output_tokens: 50, truncation }),
          (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
          truncation,
        );
      }
      const answer = await client.responses.create({ model: "both", input: huge, max_output_tokens: 50, truncation });
      assert.equal(answer.model, "big/m");
    }
    assert.equal(small.requests.length, 0, "nothing was sent over the window");
  });

  it("auto: an output limit the newest turn leaves no room for is refused, not sent uncut; one it leaves room for cuts", async () => {
    const ask = (max_output_tokens: number) =>
      client.responses.create({ model: "small/m", input: longHistory, max_output_tokens, truncation: "auto" }).withResponse();
    const cut = await ask(250);
    assert.match(cut.response.headers.get("x-tandem-degraded") ?? "", /2 older message\(s\) left out/);
    for (const limit of [295, 299, 400]) {
      await assert.rejects(
        ask(limit),
        (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
        String(limit),
      );
    }
    assert.equal(small.requests.length, 1, "only the turn that fitted was sent");
  });

  it("chat completions: a newest turn over every window is refused, not sent", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "small/m", messages: [{ role: "user", content: "word ".repeat(400) }] }),
      (err: unknown) => err instanceof OpenAI.APIError && err.status === 400 && err.code === "context_length_exceeded",
    );
    assert.equal(small.requests.length, 0);
  });
});
