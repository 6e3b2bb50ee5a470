/**
 * Privacy for the request fields outside the conversation: the end-user ids (`user`,
 * `safety_identifier`, Anthropic `metadata.user_id`), `prompt_cache_key`, `metadata` (keys and
 * values), tool definitions (descriptions, parameter schemas' descriptions, enums and defaults),
 * output schemas (`response_format`, `text.format`, Ollama `format`) and `store`. Each is classified
 * with the conversation: on a local-only route a private value in any of them keeps the request off
 * the cloud; on a redact route it is replaced by the same placeholders (and restored where it can
 * come back, a tool call's arguments), or, where a placeholder makes no sense (an id, a cache key),
 * the field is left out and named in x-tandem-warnings. A private request to an OpenAI upstream on a
 * redact route never asks it to keep a copy (`store: false`), while tandem's own store keeps working.
 * Same wire (the client's own body) and across wires (the canonical form), streamed and not, with
 * the official SDKs against fake upstreams on 127.0.0.1; the egress audit's sensitivity and the log
 * lines are checked too.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type PrivacyWiresStage, startPrivacyWiresStage } from "../support/privacy-wires-stage.js";
import type { RunningTandem } from "../support/tandem.js";

/** Private by the default detectors. Built from pieces so no file of the repo holds them whole. */
const EMAIL = ["alice.smith", "acme-corp.com"].join("@");
const CARD = ["4111", "1111", "1111", "1111"].join(" ");
/** A placeholder of any kind, as redaction writes them. */
const PLACEHOLDER = /\[[A-Z_]+_\d+[^\]]*\]/;

let stage: PrivacyWiresStage;
let cloud: PrivacyWiresStage["cloud"];
let home: PrivacyWiresStage["home"];
let claude: PrivacyWiresStage["claude"];
let ollamaCloud: PrivacyWiresStage["ollamaCloud"];
let native: PrivacyWiresStage["native"];
let tandem: RunningTandem;
let openai: OpenAI;
let anthropic: Anthropic;
let ollama: Ollama;
const log: string[] = [];

before(async () => {
  stage = await startPrivacyWiresStage({ log });
  ({ cloud, home, claude, ollamaCloud, native, tandem } = stage);
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
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

/** The one body a fake received, as JSON text. */
function sentText(fake: { requests: Array<{ method: string; body: unknown }> }): string {
  const posts = fake.requests.filter((r) => r.method === "POST");
  assert.equal(posts.length, 1, `one request upstream, got ${posts.length}`);
  return JSON.stringify(posts[0]?.body);
}

function sentBody(fake: { requests: Array<{ method: string; body: unknown }> }): Record<string, unknown> {
  return JSON.parse(sentText(fake)) as Record<string, unknown>;
}

function noCloudRequests(...fakes: Array<{ requests: Array<{ method: string }> }>): void {
  for (const fake of fakes)
    assert.equal(fake.requests.filter((r) => r.method === "POST").length, 0, "a cloud upstream was sent it");
}

/** Neither the log lines nor anything else tandem wrote out holds the values. */
function logHoldsNoValue(): void {
  const text = log.join("\n");
  assert.ok(!text.includes(EMAIL), "the email reached a log line");
  assert.ok(!text.includes(CARD), "the card number reached a log line");
}

interface AuditRow {
  target: string;
  sensitivity: string;
  redactions: Record<string, number>;
}

async function lastAudit(): Promise<AuditRow> {
  const audit = (await (await fetch(`${tandem.url}/v1/audit?limit=1`)).json()) as { data: AuditRow[] };
  const row = audit.data[0];
  assert.ok(row, "an egress audit row");
  return row;
}

/** A function tool whose description and parameter schema carry the values. */
const OPENAI_TOOL: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "charge",
    description: `Charge the card on file (${CARD}).`,
    parameters: {
      type: "object",
      properties: {
        to: { type: "string", description: "who gets the receipt", enum: [EMAIL, "billing"], default: EMAIL },
      },
      required: ["to"],
    },
  },
};

describe("OpenAI chat completions to an OpenAI-compatible upstream (same wire)", () => {
  const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Hello there." }];

  it("a private `user` keeps the request off the cloud on a local-only route", async () => {
    const answer = await openai.chat.completions.create({ model: "guarded-up", messages: ask, user: EMAIL });
    assert.equal(answer.choices[0]?.message.content, "Done.");
    noCloudRequests(cloud);
    assert.equal(home.requests.length, 1, "the local target answered");
  });

  for (const stream of [false, true]) {
    it(`a private tool description or schema keeps the request off the cloud (stream: ${stream})`, async () => {
      if (stream) {
        const events = await openai.chat.completions.create({ model: "guarded-up", messages: ask, tools: [OPENAI_TOOL], stream });
        for await (const _ of events);
      } else await openai.chat.completions.create({ model: "guarded-up", messages: ask, tools: [OPENAI_TOOL] });
      noCloudRequests(cloud);
    });
  }

  it("refused on a cloud-only local-only route, the error and the log name the kinds found, never the values", async () => {
    const err = await openai.chat.completions
      .create({ model: "cloud-only-up", messages: ask, user: EMAIL, tools: [OPENAI_TOOL] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403);
    assert.match(err.message, /email/);
    assert.ok(!err.message.includes(EMAIL) && !err.message.includes(CARD), err.message);
    noCloudRequests(cloud);
    logHoldsNoValue();
  });

  it("a redact route leaves out user, safety_identifier and prompt_cache_key that hold a value, named in the warnings", async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: "redact-up",
        messages: ask,
        user: EMAIL,
        safety_identifier: `hash-of-${EMAIL}`,
        prompt_cache_key: `cache ${CARD}`,
      })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Done.");
    const body = sentBody(cloud);
    assert.equal(body.user, undefined);
    assert.equal(body.safety_identifier, undefined);
    assert.equal(body.prompt_cache_key, undefined);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    for (const field of ["user", "safety_identifier", "prompt_cache_key"])
      assert.match(warnings, new RegExp(`\\b${field} not sent`));
    assert.equal((await lastAudit()).sensitivity, "private");
    logHoldsNoValue();
  });

  it("a redact route keeps a clean user and cache key as the client sent them", async () => {
    await openai.chat.completions.create({
      model: "redact-up",
      messages: [{ role: "user", content: `Mail ${EMAIL}.` }],
      user: "user-1234",
      prompt_cache_key: "team-a",
    });
    const body = sentBody(cloud);
    assert.equal(body.user, "user-1234");
    assert.equal(body.prompt_cache_key, "team-a");
  });

  for (const stream of [false, true]) {
    it(`a redact route replaces the values in tool definitions and restores them in the tool call (stream: ${stream})`, async () => {
      cloud.script((request) => {
        const tool = (request.body as { tools: Array<{ function: { parameters: { properties: { to: { enum: string[] } } } } }> })
          .tools[0];
        // The model calls the tool with the enum's value as it was given: the placeholder.
        return {
          kind: "tool_calls",
          calls: [{ name: "charge", arguments: { to: tool?.function.parameters.properties.to.enum[0] } }],
        };
      });
      let args: string | undefined;
      if (stream) {
        const events = await openai.chat.completions.create({ model: "redact-up", messages: ask, tools: [OPENAI_TOOL], stream });
        args = "";
        for await (const chunk of events) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
      } else {
        const answer = await openai.chat.completions.create({ model: "redact-up", messages: ask, tools: [OPENAI_TOOL] });
        const call = answer.choices[0]?.message.tool_calls?.[0];
        args = call?.type === "function" ? call.function.arguments : undefined;
      }
      const sent = sentText(cloud);
      assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
      const tool = (sentBody(cloud).tools as (typeof OPENAI_TOOL)[])[0];
      assert.match(tool?.function.description ?? "", PLACEHOLDER);
      assert.match(
        String(
          tool?.function.parameters?.properties &&
            (tool.function.parameters.properties as { to: { default: string } }).to.default,
        ),
        PLACEHOLDER,
      );
      assert.deepEqual(JSON.parse(args ?? "{}"), { to: EMAIL }, "the value restored in the call's arguments");
      const audit = await lastAudit();
      assert.equal(audit.sensitivity, "private");
      assert.ok((audit.redactions.email ?? 0) >= 1 && (audit.redactions.payment_card ?? 0) >= 1, JSON.stringify(audit));
      logHoldsNoValue();
    });
  }

  it("a redact route replaces values in response_format schemas and in metadata keys and values", async () => {
    cloud.script(() => ({ kind: "text", text: "{}" }));
    await openai.chat.completions.create({
      model: "redact-up",
      messages: ask,
      response_format: {
        type: "json_schema",
        json_schema: { name: "reply", schema: { type: "object", description: `For ${EMAIL}`, properties: {} } },
      },
      metadata: { [`owner ${EMAIL}`]: "a", card: CARD },
    });
    const sent = sentText(cloud);
    assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
  });

  for (const stream of [false, true]) {
    it(`store: true on a private request is not asked of the upstream; tandem still stores the completion (stream: ${stream})`, async () => {
      const params = {
        model: "redact-up",
        messages: [{ role: "user" as const, content: `Write to ${EMAIL}.` }],
        store: true,
        metadata: { topic: "mail" },
      };
      let id: string | undefined;
      let warnings = "";
      if (stream) {
        const { data, response } = await openai.chat.completions.create({ ...params, stream: true }).withResponse();
        for await (const chunk of data) id ??= chunk.id;
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      } else {
        const { data, response } = await openai.chat.completions.create(params).withResponse();
        id = data.id;
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      }
      const body = sentBody(cloud);
      assert.equal(body.store, false, "the upstream is asked to keep nothing");
      assert.match(warnings, /\bstore: true not sent/);
      assert.ok(id);
      const stored = await openai.chat.completions.retrieve(id);
      assert.equal(stored.id, id);
      assert.deepEqual((stored as { metadata?: unknown }).metadata, { topic: "mail" });
      const messages = await openai.chat.completions.messages.list(id);
      assert.equal(messages.data[0]?.content, `Write to ${EMAIL}.`, "tandem's own copy keeps the client's text");
    });
  }

  it("store: true on a request declared private (x-tandem-sensitivity) is not asked of the upstream either", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "redact-up", messages: ask, store: true }, { headers: { "x-tandem-sensitivity": "private" } })
      .withResponse();
    assert.equal(sentBody(cloud).store, false);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /\bstore: true not sent/);
    assert.equal((await lastAudit()).sensitivity, "private");
  });

  it("store: true on a public request still reaches the upstream byte for byte", async () => {
    await openai.chat.completions.create({ model: "redact-up", messages: ask, store: true });
    assert.equal(sentBody(cloud).store, true);
  });
});

describe("Anthropic Messages to an Anthropic upstream (same wire)", () => {
  const TOOL: Anthropic.Tool = {
    name: "charge",
    description: `Charge the card on file (${CARD}).`,
    input_schema: { type: "object", properties: { to: { type: "string", enum: [EMAIL, "billing"] } } },
  };
  const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Hello there." }];

  it("a private metadata.user_id or tool keeps the request off the cloud on a local-only route", async () => {
    await anthropic.messages.create({ model: "guarded-an", max_tokens: 64, messages, metadata: { user_id: EMAIL } });
    await anthropic.messages.create({ model: "guarded-an", max_tokens: 64, messages, tools: [TOOL] });
    noCloudRequests(claude);
    assert.equal(home.requests.length, 2);
  });

  it("system blocks are classified", async () => {
    await anthropic.messages.create({
      model: "guarded-an",
      max_tokens: 64,
      system: [
        { type: "text", text: "Be brief." },
        { type: "text", text: `The user is ${EMAIL}.` },
      ],
      messages,
    });
    noCloudRequests(claude);
  });

  it("a redact route leaves out a metadata.user_id that holds a value, named in the warnings", async () => {
    const { response } = await anthropic.messages
      .create({ model: "redact-an", max_tokens: 64, messages, metadata: { user_id: `user-${EMAIL}` } })
      .withResponse();
    const body = sentBody(claude);
    assert.equal((body.metadata as { user_id?: string } | undefined)?.user_id, undefined);
    assert.ok(!JSON.stringify(body).includes(EMAIL));
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /metadata\.user_id not sent/);
    assert.equal((await lastAudit()).sensitivity, "private");
  });

  for (const stream of [false, true]) {
    it(`a redact route replaces the values in tools and restores them in the tool_use input (stream: ${stream})`, async () => {
      claude.script((request) => {
        const tool = (request.body as { tools: Array<{ input_schema: { properties: { to: { enum: string[] } } } }> }).tools[0];
        return { kind: "tool_calls", calls: [{ name: "charge", arguments: { to: tool?.input_schema.properties.to.enum[0] } }] };
      });
      const params = { model: "redact-an", max_tokens: 64, messages, tools: [TOOL] };
      const message = stream ? await anthropic.messages.stream(params).finalMessage() : await anthropic.messages.create(params);
      const sent = sentText(claude);
      assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
      const use = message.content.find((block) => block.type === "tool_use");
      assert.deepEqual(use?.type === "tool_use" && use.input, { to: EMAIL });
      logHoldsNoValue();
    });
  }
});

describe("Ollama to an Ollama upstream (same wire)", () => {
  const TOOL = {
    type: "function",
    function: {
      name: "charge",
      description: `Charge the card on file (${CARD}).`,
      parameters: { type: "object", properties: { to: { type: "string", description: "receipt address" } } },
    },
  };

  it("a private tool description or format schema keeps the request off the cloud on a local-only route", async () => {
    home.script(() => ({ kind: "text", text: "{}" }));
    const messages = [{ role: "user", content: "Hello there." }];
    await ollama.chat({ model: "guarded-ol", messages, tools: [TOOL], stream: false });
    await ollama.chat({
      model: "guarded-ol",
      messages,
      format: { type: "object", description: `For ${EMAIL}`, properties: {} },
      stream: false,
    });
    noCloudRequests(ollamaCloud);
  });

  it("/api/generate's system and template are classified", async () => {
    await ollama.generate({ model: "guarded-ol", prompt: "Hello there.", system: `The user is ${EMAIL}.`, stream: false });
    await ollama.generate({
      model: "guarded-ol",
      prompt: "Hello there.",
      template: `{{ .Prompt }} (for ${EMAIL})`,
      stream: false,
    });
    noCloudRequests(ollamaCloud);
  });

  for (const stream of [false, true]) {
    it(`a redact route replaces the values in tools and format (stream: ${stream})`, async () => {
      ollamaCloud.script(() => ({ kind: "text", text: "{}" }));
      const params = {
        model: "redact-ol",
        messages: [{ role: "user", content: "Hello there." }],
        tools: [TOOL],
        format: { type: "object", description: `For ${EMAIL}`, properties: {} },
      };
      if (stream) for await (const _ of await ollama.chat({ ...params, stream: true }));
      else await ollama.chat({ ...params, stream: false });
      const sent = sentText(ollamaCloud);
      assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
    });
  }
});

describe("OpenAI Responses to a Responses upstream (same wire)", () => {
  const TOOL: OpenAI.Responses.FunctionTool = {
    type: "function",
    name: "charge",
    description: `Charge the card on file (${CARD}).`,
    parameters: { type: "object", properties: { to: { type: "string" } } },
    strict: false,
  };

  it("a private user, tool or text.format schema keeps the request off the cloud on a local-only route", async () => {
    home.script(() => ({ kind: "text", text: "{}" }));
    await openai.responses.create({ model: "guarded-rs", input: "Hello there.", user: EMAIL });
    await openai.responses.create({ model: "guarded-rs", input: "Hello there.", tools: [TOOL] });
    await openai.responses.create({
      model: "guarded-rs",
      input: "Hello there.",
      text: { format: { type: "json_schema", name: "r", schema: { type: "object", description: `For ${EMAIL}` } } },
    });
    assert.equal(native.responseBodies.length, 0, "the cloud upstream was sent it");
  });

  for (const stream of [false, true]) {
    it(`a redact route: ids and cache keys left out, tools and metadata redacted, store: false (stream: ${stream})`, async () => {
      const params = {
        model: "redact-rs",
        input: "Hello there.",
        tools: [TOOL],
        safety_identifier: EMAIL,
        prompt_cache_key: `cache-${EMAIL}`,
        metadata: { owner: EMAIL },
      };
      let id: string | undefined;
      let warnings = "";
      if (stream) {
        const { data, response } = await openai.responses.create({ ...params, stream: true }).withResponse();
        for await (const event of data) if (event.type === "response.completed") id = event.response.id;
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      } else {
        const { data, response } = await openai.responses.create(params).withResponse();
        id = data.id;
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      }
      const sent = native.responseTexts.at(-1) ?? "";
      assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
      const body = JSON.parse(sent) as Record<string, unknown>;
      assert.equal(body.store, false);
      assert.equal(body.safety_identifier, undefined);
      assert.equal(body.prompt_cache_key, undefined);
      assert.match(warnings, /safety_identifier not sent/);
      assert.match(warnings, /prompt_cache_key not sent/);
      // tandem's own stored response keeps what the client sent.
      assert.ok(id);
      const stored = await openai.responses.retrieve(id);
      assert.deepEqual(stored.metadata, { owner: EMAIL });
      logHoldsNoValue();
    });
  }
});

describe("across wires (the canonical form)", () => {
  it("OpenAI chat to an Anthropic target: a private user or tool keeps the request off the cloud", async () => {
    await openai.chat.completions.create({ model: "guarded-an", messages: [{ role: "user", content: "Hi." }], user: EMAIL });
    await openai.chat.completions.create({
      model: "guarded-an",
      messages: [{ role: "user", content: "Hi." }],
      tools: [OPENAI_TOOL],
    });
    noCloudRequests(claude);
    assert.equal(home.requests.length, 2);
  });

  for (const stream of [false, true]) {
    it(`OpenAI chat to an Anthropic target on a redact route: user left out, tools redacted and restored (stream: ${stream})`, async () => {
      claude.script((request) => {
        const tool = (request.body as { tools: Array<{ input_schema: { properties: { to: { enum: string[] } } } }> }).tools[0];
        return { kind: "tool_calls", calls: [{ name: "charge", arguments: { to: tool?.input_schema.properties.to.enum[0] } }] };
      });
      const params = {
        model: "redact-an",
        messages: [{ role: "user" as const, content: "Hi." }],
        tools: [OPENAI_TOOL],
        user: EMAIL,
      };
      let args = "";
      let warnings = "";
      if (stream) {
        const { data, response } = await openai.chat.completions.create({ ...params, stream: true }).withResponse();
        for await (const chunk of data) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      } else {
        const { data, response } = await openai.chat.completions.create(params).withResponse();
        const call = data.choices[0]?.message.tool_calls?.[0];
        args = call?.type === "function" ? call.function.arguments : "";
        warnings = response.headers.get("x-tandem-warnings") ?? "";
      }
      const sent = sentText(claude);
      assert.ok(!sent.includes(EMAIL) && !sent.includes(CARD), sent);
      assert.equal((JSON.parse(sent) as { metadata?: unknown }).metadata, undefined);
      assert.match(warnings, /\buser not sent/);
      assert.deepEqual(JSON.parse(args), { to: EMAIL });
      assert.equal((await lastAudit()).sensitivity, "private");
      logHoldsNoValue();
    });
  }

  it("Anthropic to an OpenAI-compatible target on a redact route: metadata.user_id left out, tool redacted", async () => {
    const { response } = await anthropic.messages
      .create({
        model: "redact-up",
        max_tokens: 64,
        messages: [{ role: "user", content: "Hi." }],
        metadata: { user_id: EMAIL },
        tools: [{ name: "charge", description: `Card ${CARD}`, input_schema: { type: "object", properties: {} } }],
      })
      .withResponse();
    const body = sentBody(cloud);
    assert.equal(body.user, undefined);
    assert.ok(!JSON.stringify(body).includes(CARD));
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /metadata\.user_id not sent/);
  });

  it("Responses to a chat-completions target on a redact route: prompt_cache_key and safety_identifier left out", async () => {
    const { response } = await openai.responses
      .create({ model: "redact-up", input: "Hi.", prompt_cache_key: `k-${EMAIL}`, safety_identifier: EMAIL, store: false })
      .withResponse();
    const body = sentBody(cloud);
    assert.equal(body.prompt_cache_key, undefined);
    assert.equal(body.safety_identifier, undefined);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /prompt_cache_key not sent/);
    assert.match(warnings, /safety_identifier not sent/);
  });
});

describe("embeddings", () => {
  it("a private `user` keeps an embeddings request off the cloud on a local-only route", async () => {
    const result = await openai.embeddings.create({ model: "guarded-emb", input: ["hello"], user: EMAIL });
    assert.equal(result.data.length, 1);
    noCloudRequests(cloud);
    assert.equal(home.requests.filter((r) => r.method === "POST").length, 1);
  });

  it("a redact route leaves out a `user` that holds a value, and keeps a clean one", async () => {
    const dropped = await openai.embeddings.create({ model: "redact-emb", input: ["hello"], user: EMAIL }).withResponse();
    assert.equal(sentBody(cloud).user, undefined);
    assert.equal((await lastAudit()).sensitivity, "private");
    // Named, as a chat request's dropped ids are: nothing is dropped silently.
    assert.match(dropped.response.headers.get("x-tandem-warnings") ?? "", /^user not sent to /);
    cloud.requests.length = 0;
    const kept = await openai.embeddings
      .create({ model: "redact-emb", input: [`mail ${EMAIL}`], user: "user-1234" })
      .withResponse();
    assert.equal(kept.response.headers.get("x-tandem-warnings"), null);
    const body = sentBody(cloud);
    assert.equal(body.user, "user-1234");
    assert.ok(!JSON.stringify(body).includes(EMAIL));
    logHoldsNoValue();
  });
});
