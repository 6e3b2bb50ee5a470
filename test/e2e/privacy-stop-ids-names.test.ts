/**
 * Privacy for the strings of a request that are neither the conversation's text nor its settings'
 * descriptions: stop sequences (OpenAI `stop`, Anthropic `stop_sequences`, Ollama `options.stop`),
 * tool call ids (OpenAI `tool_calls[].id`/`tool_call_id`, Anthropic `tool_use.id`/`tool_use_id`,
 * Responses `call_id`), the property names (keys) of JSON schemas (tool parameters,
 * `response_format`, `text.format`, Ollama `format`, Anthropic `input_schema`) and `logit_bias`
 * keys. Each is classified, same wire and across wires: on a local-only route a private value in
 * any of them alone keeps the request off the cloud (a 403 when the route has no local target). On a
 * redact route a stop sequence or a `logit_bias` that holds a value is left out and named in
 * x-tandem-warnings (a placeholder would change what the model does), a tool call id is replaced
 * whole by an id of the request's own that pairs the call with its result, and a property name is
 * replaced by its placeholder and restored where the model writes it back (a tool call's arguments).
 * Official SDKs and raw bodies against fake upstreams on 127.0.0.1, which record what they received.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type PrivacyWiresStage, startPrivacyWiresStage } from "../support/privacy-wires-stage.js";
import type { RunningTandem } from "../support/tandem.js";

/** Private by the default detectors. Built from pieces so no file of the repo holds them whole. */
const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
const CARD = ["4111", "1111", "1111", "1111"].join("");
const PLACEHOLDER = /^\[[A-Z_]+_\d+[^\]]*\]$/;
/** What every wire takes as a tool call id (Anthropic's pattern, the strictest). */
const ID_SHAPE = /^[A-Za-z0-9_-]+$/;

let stage: PrivacyWiresStage;
let cloud: PrivacyWiresStage["cloud"];
let home: PrivacyWiresStage["home"];
let claude: PrivacyWiresStage["claude"];
let ollamaCloud: PrivacyWiresStage["ollamaCloud"];
let native: PrivacyWiresStage["native"];
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  stage = await startPrivacyWiresStage();
  ({ cloud, home, claude, ollamaCloud, native, tandem } = stage);
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await stage?.close();
});

beforeEach(() => {
  for (const fake of [cloud, home, claude, ollamaCloud]) {
    fake.requests.length = 0;
    fake.script(() => ({ kind: "text", text: "Done." }));
  }
  native.requests.length = 0;
  native.responseBodies.length = 0;
  native.responseTexts.length = 0;
  native.script(() => ({ kind: "answer", text: "Done." }));
});

type Recording = { requests: Array<{ method: string; body: unknown }> };

function posts(fake: Recording): Array<{ body: unknown }> {
  return fake.requests.filter((r) => r.method === "POST");
}

/** The one body a fake received. */
function sentBody(fake: Recording): Record<string, unknown> {
  const sent = posts(fake);
  assert.equal(sent.length, 1, `one request upstream, got ${sent.length}`);
  return sent[0]?.body as Record<string, unknown>;
}

function holdsNoValue(body: unknown): void {
  const text = JSON.stringify(body);
  assert.ok(!text.includes(EMAIL) && !text.includes(CARD), text);
}

/** A raw POST to tandem: the status, the warnings header and the JSON answer. */
async function post(path: string, body: unknown): Promise<{ status: number; warnings: string; json: unknown }> {
  const response = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    warnings: response.headers.get("x-tandem-warnings") ?? "",
    json: text === "" ? undefined : JSON.parse(text),
  };
}

const HI = [{ role: "user", content: "Hello there." }];

/** An OpenAI chat history whose only private value is the tool call's id, on its call and its result. */
function openAIToolHistory(id: string): unknown[] {
  return [
    { role: "user", content: "What is the weather?" },
    { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: "weather", arguments: "{}" } }] },
    { role: "tool", tool_call_id: id, content: "Sunny." },
  ];
}
const OPENAI_WEATHER = [{ type: "function", function: { name: "weather", parameters: { type: "object", properties: {} } } }];

/** The same in Anthropic's shape. */
function anthropicToolHistory(id: string): unknown[] {
  return [
    { role: "user", content: "What is the weather?" },
    { role: "assistant", content: [{ type: "tool_use", id, name: "weather", input: {} }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "Sunny." }] },
  ];
}
const ANTHROPIC_WEATHER = [{ name: "weather", input_schema: { type: "object", properties: {} } }];

/** The same as Responses input items. */
function responsesToolInput(id: string): unknown[] {
  return [
    { role: "user", content: "What is the weather?" },
    { type: "function_call", call_id: id, name: "weather", arguments: "{}" },
    { type: "function_call_output", call_id: id, output: "Sunny." },
  ];
}
const RESPONSES_WEATHER = [{ type: "function", name: "weather", parameters: { type: "object", properties: {} } }];

/** A schema whose only private value is a property's name. */
const KEYED_SCHEMA = { type: "object", properties: { [EMAIL]: { type: "string" } } };

describe("on a local-only route, a private value in one of these fields alone keeps the request off the cloud", () => {
  const cases: Array<[string, string, string, unknown, Recording[]]> = [
    ["OpenAI stop (array), same wire", "/v1/chat/completions", "guarded-up", { messages: HI, stop: [CARD] }, []],
    ["OpenAI stop (string), to Anthropic", "/v1/chat/completions", "guarded-an", { messages: HI, stop: `mail ${EMAIL}` }, []],
    [
      "Anthropic stop_sequences, same wire",
      "/v1/messages",
      "guarded-an",
      { max_tokens: 32, messages: HI, stop_sequences: [CARD] },
      [],
    ],
    [
      "Anthropic stop_sequences, to OpenAI",
      "/v1/messages",
      "guarded-up",
      { max_tokens: 32, messages: HI, stop_sequences: [CARD] },
      [],
    ],
    [
      "OpenAI tool call id, same wire",
      "/v1/chat/completions",
      "guarded-up",
      { messages: openAIToolHistory(EMAIL), tools: OPENAI_WEATHER },
      [],
    ],
    [
      "OpenAI tool call id, to Anthropic",
      "/v1/chat/completions",
      "guarded-an",
      { messages: openAIToolHistory(EMAIL), tools: OPENAI_WEATHER },
      [],
    ],
    [
      "Anthropic tool_use id, same wire",
      "/v1/messages",
      "guarded-an",
      { max_tokens: 32, messages: anthropicToolHistory(CARD), tools: ANTHROPIC_WEATHER },
      [],
    ],
    [
      "Anthropic tool_use id, to OpenAI",
      "/v1/messages",
      "guarded-up",
      { max_tokens: 32, messages: anthropicToolHistory(CARD), tools: ANTHROPIC_WEATHER },
      [],
    ],
    [
      "Responses call_id, same wire",
      "/v1/responses",
      "guarded-rs",
      { input: responsesToolInput(EMAIL), tools: RESPONSES_WEATHER, store: false },
      [],
    ],
    [
      "Responses call_id, to chat completions",
      "/v1/responses",
      "guarded-up",
      { input: responsesToolInput(EMAIL), tools: RESPONSES_WEATHER, store: false },
      [],
    ],
    [
      "an Anthropic tool_use id with a value after its prefix, same wire",
      "/v1/messages",
      "guarded-an",
      { max_tokens: 32, messages: anthropicToolHistory(`toolu_${CARD}`), tools: ANTHROPIC_WEATHER },
      [],
    ],
    [
      "a tool parameter's property name, same wire",
      "/v1/chat/completions",
      "guarded-up",
      { messages: HI, tools: [{ type: "function", function: { name: "f", parameters: KEYED_SCHEMA } }] },
      [],
    ],
    [
      "a response_format property name, to Anthropic",
      "/v1/chat/completions",
      "guarded-an",
      { messages: HI, response_format: { type: "json_schema", json_schema: { name: "s", schema: KEYED_SCHEMA } } },
      [],
    ],
    [
      "a Responses text.format property name, same wire",
      "/v1/responses",
      "guarded-rs",
      { input: "Hello there.", text: { format: { type: "json_schema", name: "s", schema: KEYED_SCHEMA } }, store: false },
      [],
    ],
    [
      "an Ollama format property name, same wire",
      "/api/chat",
      "guarded-ol",
      { messages: HI, format: KEYED_SCHEMA, stream: false },
      [],
    ],
    [
      "an Anthropic input_schema property name, same wire",
      "/v1/messages",
      "guarded-an",
      { max_tokens: 32, messages: HI, tools: [{ name: "f", input_schema: KEYED_SCHEMA }] },
      [],
    ],
    ["a logit_bias key, same wire", "/v1/chat/completions", "guarded-up", { messages: HI, logit_bias: { [CARD]: 5 } }, []],
  ];
  for (const [name, path, model, body] of cases) {
    it(name, async () => {
      home.script(() => ({ kind: "text", text: "{}" }));
      const answer = await post(path, { model, ...(body as object) });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      for (const fake of [cloud, claude, ollamaCloud]) assert.equal(posts(fake).length, 0, "a cloud upstream was sent it");
      assert.equal(native.responseBodies.length, 0, "the Responses upstream was sent it");
      assert.equal(posts(home).length, 1, "the local target answered");
    });
  }

  it("a route without a local target refuses it (403), naming what it found, never the value", async () => {
    const err = await openai.chat.completions
      .create({ model: "cloud-only-up", messages: [{ role: "user", content: "Hello there." }], stop: [CARD] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403);
    assert.match(err.message, /payment_card/);
    assert.ok(!err.message.includes(CARD));
    assert.equal(posts(cloud).length, 0);
  });

  it("a provider's own ids (high-entropy, as real ones are) do not make a request private", async () => {
    const id = "call_Xq7pLm2Zr9Tk4Wn8Bv3Hs6Yd";
    const answer = await post("/v1/chat/completions", {
      model: "guarded-up",
      messages: openAIToolHistory(id),
      tools: OPENAI_WEATHER,
    });
    assert.equal(answer.status, 200);
    assert.equal(posts(cloud).length, 1, "the cloud target answered");
    const sent = sentBody(cloud) as { messages: Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }> };
    assert.equal(sent.messages[1]?.tool_calls?.[0]?.id, id);
    assert.equal(sent.messages[2]?.tool_call_id, id);
  });
});

describe("stop sequences on a redact route: left out where they hold a value, named in the warnings", () => {
  it("OpenAI stop, same wire: the private sequence is left out, the others kept", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "redact-up",
      messages: [{ role: "user", content: `Write to ${EMAIL}.` }],
      stop: [EMAIL, "END"],
    });
    assert.equal(answer.status, 200);
    const body = sentBody(cloud);
    holdsNoValue(body);
    assert.deepEqual(body.stop, ["END"]);
    assert.match(answer.warnings, /\bstop not sent to up\/gpt/);
  });

  it("OpenAI stop as one string, same wire: left out", async () => {
    const answer = await post("/v1/chat/completions", { model: "redact-up", messages: HI, stop: `mail ${EMAIL}` });
    assert.equal(answer.status, 200);
    const body = sentBody(cloud);
    holdsNoValue(body);
    assert.equal(body.stop, undefined);
    assert.match(answer.warnings, /\bstop not sent to up\/gpt/);
  });

  it("Anthropic stop_sequences, same wire and to an OpenAI-compatible target", async () => {
    const same = await post("/v1/messages", { model: "redact-an", max_tokens: 32, messages: HI, stop_sequences: [CARD, "END"] });
    assert.equal(same.status, 200);
    const body = sentBody(claude);
    holdsNoValue(body);
    assert.deepEqual(body.stop_sequences, ["END"]);
    assert.match(same.warnings, /\bstop_sequences not sent to an\/claude/);

    const across = await post("/v1/messages", { model: "redact-up", max_tokens: 32, messages: HI, stop_sequences: [CARD] });
    assert.equal(across.status, 200);
    const crossed = sentBody(cloud);
    holdsNoValue(crossed);
    assert.equal(crossed.stop, undefined);
    assert.match(across.warnings, /\bstop_sequences not sent to up\/gpt/);
  });

  it("Ollama options.stop, same wire", async () => {
    const answer = await post("/api/chat", {
      model: "redact-ol",
      messages: HI,
      options: { stop: [CARD], temperature: 0 },
      stream: false,
    });
    assert.equal(answer.status, 200);
    const body = sentBody(ollamaCloud);
    holdsNoValue(body);
    assert.deepEqual(body.options, { temperature: 0 });
    assert.match(answer.warnings, /\boptions\.stop not sent to ol\/llama/);
  });
});

describe("tool call ids on a redact route: replaced whole, the call still paired with its result", () => {
  it("OpenAI chat, same wire", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "redact-up",
      messages: openAIToolHistory(EMAIL),
      tools: OPENAI_WEATHER,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = sentBody(cloud) as { messages: Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string }> };
    holdsNoValue(body);
    const id = body.messages[1]?.tool_calls?.[0]?.id ?? "";
    assert.match(id, ID_SHAPE);
    assert.equal(body.messages[2]?.tool_call_id, id, "the result still answers the call");
  });

  it("Anthropic, same wire", async () => {
    const answer = await post("/v1/messages", {
      model: "redact-an",
      max_tokens: 32,
      messages: anthropicToolHistory(CARD),
      tools: ANTHROPIC_WEATHER,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = sentBody(claude) as { messages: Array<{ content: Array<{ id?: string; tool_use_id?: string }> }> };
    holdsNoValue(body);
    const id = body.messages[1]?.content[0]?.id ?? "";
    assert.match(id, ID_SHAPE);
    assert.equal(body.messages[2]?.content[0]?.tool_use_id, id);
  });

  it("Responses, same wire (a value after the id's prefix)", async () => {
    const answer = await post("/v1/responses", {
      model: "redact-rs",
      input: responsesToolInput(`call_${CARD}`),
      tools: RESPONSES_WEATHER,
      store: false,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = native.responseBodies.at(-1) as { input: Array<{ call_id?: string }> };
    holdsNoValue(body);
    const ids = body.input.flatMap((item) => (item.call_id === undefined ? [] : [item.call_id]));
    assert.equal(ids.length, 2);
    assert.match(ids[0] ?? "", ID_SHAPE);
    assert.equal(ids[1], ids[0]);
  });

  it("OpenAI chat to an Anthropic target (the canonical form)", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "redact-an",
      messages: openAIToolHistory(EMAIL),
      tools: OPENAI_WEATHER,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = sentBody(claude) as { messages: Array<{ content: Array<{ id?: string; tool_use_id?: string }> }> };
    holdsNoValue(body);
    const id = body.messages[1]?.content.find((block) => block.id !== undefined)?.id ?? "";
    assert.match(id, ID_SHAPE);
    assert.equal(body.messages[2]?.content.find((block) => block.tool_use_id !== undefined)?.tool_use_id, id);
  });
});

describe("schema property names on a redact route: placeholders, restored where the model writes them back", () => {
  for (const stream of [false, true]) {
    it(`a tool's property name, same wire, and the model's call with it (stream: ${stream})`, async () => {
      cloud.script((request) => {
        const tool = (request.body as { tools: Array<{ function: { parameters: { properties: Record<string, unknown> } } }> })
          .tools[0];
        const key = Object.keys(tool?.function.parameters.properties ?? {})[0] ?? "";
        return { kind: "tool_calls", calls: [{ name: "notify", arguments: { [key]: "yes" } }] };
      });
      const params = {
        model: "redact-up",
        messages: [{ role: "user" as const, content: "Notify them." }],
        tools: [{ type: "function" as const, function: { name: "notify", parameters: KEYED_SCHEMA } }],
      };
      let args = "";
      if (stream) {
        for await (const chunk of await openai.chat.completions.create({ ...params, stream: true }))
          args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      } else {
        const call = (await openai.chat.completions.create(params)).choices[0]?.message.tool_calls?.[0];
        args = call?.type === "function" ? call.function.arguments : "";
      }
      const body = sentBody(cloud) as { tools: Array<{ function: { parameters: { properties: Record<string, unknown> } } }> };
      holdsNoValue(body);
      assert.match(Object.keys(body.tools[0]?.function.parameters.properties ?? {})[0] ?? "", PLACEHOLDER);
      assert.deepEqual(JSON.parse(args), { [EMAIL]: "yes" }, "the key restored in the call's arguments");
    });
  }

  it("an Anthropic input_schema property name, to an OpenAI-compatible target, restored in the tool_use input", async () => {
    cloud.script((request) => {
      const tool = (request.body as { tools: Array<{ function: { parameters: { properties: Record<string, unknown> } } }> })
        .tools[0];
      const key = Object.keys(tool?.function.parameters.properties ?? {})[0] ?? "";
      return { kind: "tool_calls", calls: [{ name: "notify", arguments: { [key]: "yes" } }] };
    });
    const message = await anthropic.messages.create({
      model: "redact-up",
      max_tokens: 32,
      messages: [{ role: "user", content: "Notify them." }],
      tools: [{ name: "notify", input_schema: KEYED_SCHEMA as Anthropic.Tool.InputSchema }],
    });
    holdsNoValue(sentBody(cloud));
    const use = message.content.find((block) => block.type === "tool_use");
    assert.deepEqual(use?.type === "tool_use" && use.input, { [EMAIL]: "yes" });
  });

  it("response_format, text.format and Ollama format property names are replaced", async () => {
    cloud.script(() => ({ kind: "text", text: "{}" }));
    ollamaCloud.script(() => ({ kind: "text", text: "{}" }));
    native.script(() => ({ kind: "answer", text: "{}" }));
    const chat = await post("/v1/chat/completions", {
      model: "redact-up",
      messages: HI,
      response_format: { type: "json_schema", json_schema: { name: "s", schema: KEYED_SCHEMA } },
    });
    assert.equal(chat.status, 200);
    holdsNoValue(sentBody(cloud));
    const responses = await post("/v1/responses", {
      model: "redact-rs",
      input: "Hello there.",
      text: { format: { type: "json_schema", name: "s", schema: KEYED_SCHEMA } },
      store: false,
    });
    assert.equal(responses.status, 200);
    holdsNoValue(native.responseBodies.at(-1));
    const ollama = await post("/api/chat", { model: "redact-ol", messages: HI, format: KEYED_SCHEMA, stream: false });
    assert.equal(ollama.status, 200);
    holdsNoValue(sentBody(ollamaCloud));
  });
});

describe("logit_bias on a redact route", () => {
  it("left out when a key holds a value, named in the warnings", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "redact-up",
      messages: [{ role: "user", content: `Mail ${EMAIL}.` }],
      logit_bias: { [CARD]: 5, "50256": -100 },
    });
    assert.equal(answer.status, 200);
    const body = sentBody(cloud);
    holdsNoValue(body);
    assert.equal(body.logit_bias, undefined);
    assert.match(answer.warnings, /\blogit_bias not sent to up\/gpt/);
  });

  it("kept as the client sent it when it holds none", async () => {
    const answer = await post("/v1/chat/completions", {
      model: "redact-up",
      messages: [{ role: "user", content: `Mail ${EMAIL}.` }],
      logit_bias: { "50256": -100 },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(sentBody(cloud).logit_bias, { "50256": -100 });
    assert.doesNotMatch(answer.warnings, /logit_bias/);
  });
});
