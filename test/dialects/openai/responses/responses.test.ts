import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { zodTextFormat } from "openai/helpers/zod";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { z } from "zod";
import { GatewayError } from "../../../../src/core/index.js";
import { postJson, type WireJson } from "../../../support/post-json.js";
import { type DialectApp, type ScriptedEvent, StubGateway, startDialectApp, TARGET, textEvents } from "../stub-gateway.js";

/** The first bytes of a PNG file: what the parser reads an image's type from. */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let app: DialectApp;
let client: OpenAI;

before(async () => {
  app = await startDialectApp();
  client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});

after(() => app.close());

beforeEach(() => {
  const fresh = new StubGateway();
  app.gateway.chatRequests.length = 0;
  app.gateway.contexts.length = 0;
  app.gateway.chatScript = fresh.chatScript;
  app.gateway.meta = fresh.meta;
});

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

function toolCallEvents(): ScriptedEvent[] {
  return [
    { type: "start" },
    { type: "text-delta", text: "Let me check." },
    { type: "tool-call-start", index: 0, id: "call_w1", name: "get_weather" },
    { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":' },
    { type: "tool-call-delta", index: 0, argumentsDelta: '"Paris"}' },
    { type: "tool-call-end", index: 0 },
    { type: "usage", usage: { inputTokens: 30, outputTokens: 9, cachedInputTokens: 8 } },
    { type: "finish", reason: "tool_calls", raw: "tool_calls" },
  ];
}

const post = (body: unknown, headers: Record<string, string> = {}) => postJson(`${app.url}/v1/responses`, body, headers);

/** `event: <type>\ndata: <json>` frames of an SSE body, comments apart. */
function sseEvents(body: string): { event: string; data: WireJson }[] {
  return body
    .split("\n\n")
    .filter((frame) => frame.trim() !== "" && !frame.startsWith(":"))
    .map((frame) => {
      const [eventLine = "", dataLine = "", ...rest] = frame.split("\n");
      assert.equal(rest.length, 0, `one event and one data line per frame: ${frame}`);
      assert.ok(eventLine?.startsWith("event: "), frame);
      assert.ok(dataLine?.startsWith("data: "), frame);
      const data = JSON.parse(dataLine.slice(6));
      assert.equal(data.type, eventLine.slice(7), "the event line names the data's type");
      return { event: eventLine.slice(7), data };
    });
}

/**
 * Holds the stub gateway's answers after their first `events` events until the returned release is
 * called (the test deletes `app.gateway.chat` after, which puts the stub's own back).
 */
function holdAnswers(events: number): () => void {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chat = app.gateway.chat.bind(app.gateway);
  app.gateway.chat = async (request, context) => {
    const stream = await chat(request, context);
    const inner = stream.events;
    async function* held() {
      let seen = 0;
      if (events === 0) await gate;
      for await (const event of inner) {
        yield event;
        if (++seen === events) await gate;
      }
    }
    return { ...stream, events: held() };
  };
  return release;
}

describe("POST /v1/responses, not streamed", () => {
  it("answers a Response object with every request field echoed", async () => {
    const { data, response } = await client.responses
      .create({ model: "auto", input: "Hi", metadata: { trace: "t1" }, temperature: 0.5, user: "u-1" })
      .withResponse();
    assert.match(data.id, /^resp_[A-Za-z0-9]{48}$/);
    assert.equal(data.object, "response");
    assert.equal(data.status, "completed");
    assert.equal(data.model, TARGET);
    assert.equal(data.output_text, "Hello there!");
    assert.equal(data.output.length, 1);
    const message = data.output[0];
    assert.ok(message?.type === "message");
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content, [{ type: "output_text", annotations: [], logprobs: [], text: "Hello there!" }]);
    assert.equal(message.status, "completed");
    assert.equal(message.role, "assistant");
    assert.deepEqual(data.usage, {
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 4,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 15,
    });
    assert.equal(data.error, null);
    assert.equal(data.incomplete_details, null);
    assert.equal(data.instructions, null);
    assert.equal(data.previous_response_id, null);
    assert.equal(data.parallel_tool_calls, true);
    assert.equal(data.tool_choice, "auto");
    assert.deepEqual(data.tools, []);
    assert.equal(data.temperature, 0.5);
    assert.equal(data.top_p, 1);
    assert.equal(data.truncation, "disabled");
    assert.deepEqual(data.text, { format: { type: "text" }, verbosity: "medium" });
    assert.deepEqual(data.metadata, { trace: "t1" });
    assert.equal(data.user, "u-1");
    assert.equal((data as unknown as { store: boolean }).store, true);
    // The tier that served it, not "auto" (OpenAI: "the service_tier value based on the processing
    // mode actually used"; an unconfigured project's auto is default).
    assert.equal(data.service_tier, "default");
    assert.equal(response.headers.get("x-tandem-target"), TARGET);
    assert.equal(response.headers.get("x-tandem-warnings"), null);

    // The wire has no output_text: the SDK computes it.
    const raw = await post({ model: "auto", input: "Hi", service_tier: "auto" });
    assert.equal(raw.status, 200);
    assert.equal("output_text" in raw.json, false);
    assert.equal(raw.json.service_tier, "default");
    // "fast" is served, and reported, as priority.
    assert.equal((await post({ model: "auto", input: "Hi", service_tier: "fast" })).json.service_tier, "priority");

    // The client's own body rides along for a target that speaks the Responses API (see native-responses.test.ts).
    const { native: _native, ...sent } = app.gateway.chatRequests[0] ?? { model: "" };
    assert.deepEqual(sent, {
      model: "auto",
      stream: false,
      // truncation is OpenAI's default, disabled: the history is never cut.
      fitToWindow: false,
      temperature: 0.5,
      user: "u-1",
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    });
    const stored = await app.state.getResponse(data.id);
    assert.ok(stored);
    assert.equal(stored.input.length, 1);
    assert.match(stored.input[0]?.item.id ?? "", /^msg_/);
    assert.deepEqual(stored.input[0]?.item.content, [{ type: "input_text", text: "Hi" }]);
    assert.deepEqual(stored.output[0]?.item, message);
  });

  it("maps an item list, instructions, tools and text format to the canonical request", async () => {
    const png = Buffer.concat([PNG_SIGNATURE, Buffer.from("png bytes")]).toString("base64");
    const { response } = await client.responses
      .create({
        model: "auto",
        instructions: "Be brief.",
        input: [
          { role: "developer", content: "Use metric units." },
          {
            role: "user",
            content: [
              { type: "input_text", text: "What is this?" },
              { type: "input_image", image_url: `data:image/png;base64,${png}`, detail: "low" },
            ],
          },
          {
            type: "message",
            id: "msg_prev",
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text: "A cat.", annotations: [] }],
          },
          { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "opaque-from-elsewhere" },
          { type: "function_call", call_id: "call_a", name: "get_weather", arguments: '{"city":"Oslo"}' },
          { type: "function_call", call_id: "call_b", name: "get_weather", arguments: '{"city":"Rome"}' },
          { type: "function_call_output", call_id: "call_a", output: "5C" },
          { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "25C" }] },
          { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search", query: "x" } } as never,
          { role: "user", content: "Thanks" },
        ],
        tools: [weatherTool, { type: "web_search" }],
        tool_choice: { type: "function", name: "get_weather" },
        parallel_tool_calls: false,
        text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true } },
        max_output_tokens: 100,
        top_p: 0.9,
        reasoning: { effort: "low", summary: "auto" },
        // @ts-expect-error unknown fields are kept, not refused
        some_future_field: { a: 1 },
      })
      .withResponse();
    const { native, ...sent } = app.gateway.chatRequests[0] ?? { model: "" };
    // For a Responses upstream: the body as sent, made stateless; every field kept, hosted tools,
    // reasoning settings and unknown fields included; the input items as the client sent them (easy
    // messages stay easy), messages without their ids.
    assert.equal(native?.wire, "openai-responses");
    assert.equal(native?.body.store, false);
    assert.deepEqual(native?.body.include, ["reasoning.encrypted_content"]);
    assert.deepEqual(native?.body.some_future_field, { a: 1 });
    assert.deepEqual(native?.body.reasoning, { effort: "low", summary: "auto" });
    assert.deepEqual(native?.body.tools, [weatherTool, { type: "web_search" }]);
    const upstreamInput = native?.body.input as Record<string, unknown>[];
    assert.deepEqual(
      upstreamInput.map((item) => item.type ?? item.role),
      [
        "developer",
        "user",
        "message",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        "web_search_call",
        "user",
      ],
    );
    assert.deepEqual(upstreamInput[0], { role: "developer", content: "Use metric units." });
    assert.equal("id" in (upstreamInput[2] ?? {}), false);
    assert.deepEqual(upstreamInput[3], {
      type: "reasoning",
      id: "rs_1",
      summary: [],
      encrypted_content: "opaque-from-elsewhere",
    });
    assert.deepEqual(sent, {
      model: "auto",
      stream: false,
      // truncation is OpenAI's default, disabled: the history is never cut.
      fitToWindow: false,
      tools: [
        {
          name: "get_weather",
          description: "Weather for a city",
          parameters: weatherTool.parameters,
          strict: true,
        },
      ],
      toolChoice: { name: "get_weather" },
      parallelToolCalls: false,
      responseFormat: { type: "json_schema", schema: { type: "object" }, name: "answer", strict: true, param: "text.format" },
      maxTokens: 100,
      topP: 0.9,
      // The effort crosses as the canonical reasoning control; the summary setting does not.
      reasoning: { enabled: true, effort: "low" },
      messages: [
        { role: "system", content: "Be brief." },
        { role: "system", content: "Use metric units." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is this?" },
            { type: "image", source: { kind: "base64", mediaType: "image/png", data: png }, detail: "low" },
          ],
        },
        {
          role: "assistant",
          content: [{ type: "text", text: "A cat." }],
          // Sealed by an upstream tandem does not know: the router gives it to no target, and names it.
          reasoning: [{ type: "reasoning", text: "", encryptedContent: "opaque-from-elsewhere" }],
          toolCalls: [
            { id: "call_a", name: "get_weather", arguments: '{"city":"Oslo"}' },
            { id: "call_b", name: "get_weather", arguments: '{"city":"Rome"}' },
          ],
        },
        { role: "tool", toolCallId: "call_a", name: "get_weather", content: [{ type: "text", text: "5C" }] },
        { role: "tool", toolCallId: "call_b", name: "get_weather", content: [{ type: "text", text: "25C" }] },
        { role: "user", content: [{ type: "text", text: "Thanks" }] },
      ],
    });
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /'web_search_call' were left out/);
    // Said as it is: only hosted tools are left out, and a Responses-native upstream would get them.
    assert.match(warnings, /tools of type 'web_search' were left out: a hosted tool reaches only a Responses-native upstream/);
    assert.doesNotMatch(warnings, /function tools only/);
    assert.match(warnings, /reasoning summary settings were not passed on/);
  });

  it("continues from previous_response_id: a function-tool round trip, instructions not carried over", async () => {
    app.gateway.chatScript = () => toolCallEvents();
    const first = await client.responses.create({
      model: "auto",
      instructions: "You are a weather bot.",
      input: "Weather in Paris?",
      tools: [weatherTool],
    });
    assert.equal(first.status, "completed");
    assert.equal(first.output_text, "Let me check.");
    const call = first.output[1];
    assert.ok(call?.type === "function_call");
    assert.match(call.id ?? "", /^fc_/);
    assert.equal(call.call_id, "call_w1");
    assert.equal(call.name, "get_weather");
    assert.equal(call.arguments, '{"city":"Paris"}');
    assert.equal(call.status, "completed");
    assert.equal(first.usage?.input_tokens_details.cached_tokens, 8);

    app.gateway.chatScript = () => textEvents("It is sunny.");
    const second = await client.responses.create({
      model: "auto",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: "call_w1", output: '{"sky":"sunny"}' }],
      tools: [weatherTool],
    });
    assert.equal(second.output_text, "It is sunny.");
    assert.equal(second.previous_response_id, first.id);
    assert.equal(second.instructions, null);
    assert.deepEqual(app.gateway.chatRequests[1]?.messages, [
      { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
      {
        role: "assistant",
        content: [{ type: "text", text: "Let me check." }],
        toolCalls: [{ id: "call_w1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "call_w1", name: "get_weather", content: [{ type: "text", text: '{"sky":"sunny"}' }] },
    ]);

    // A third turn sees the whole chain; an item of it given again (a reference, or the item itself)
    // is OpenAI's 400: the chain has it already.
    const userItem = (await app.state.getResponse(first.id))?.input[0]?.item;
    assert.ok(userItem);
    for (const again of [{ type: "item_reference" as const, id: userItem.id }, userItem as never]) {
      await assert.rejects(
        client.responses.create({ model: "auto", previous_response_id: second.id, input: [again] }),
        (err: unknown) =>
          err instanceof OpenAI.BadRequestError &&
          err.param === "input" &&
          err.message.includes(
            `Duplicate item found with id ${userItem.id}. Remove duplicate items from your input and try again.`,
          ),
      );
    }
    assert.equal(app.gateway.chatRequests.length, 2);
    await client.responses.create({ model: "auto", previous_response_id: second.id, input: "And tomorrow?" });
    const third = app.gateway.chatRequests[2]?.messages ?? [];
    assert.equal(third.length, 5);
    assert.deepEqual(third[0], { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] });
    assert.deepEqual(third[4], { role: "user", content: [{ type: "text", text: "And tomorrow?" }] });
  });

  it("refuses an input that gives one item id twice", async () => {
    const message = { type: "message" as const, id: "msg_same", role: "user" as const, content: "Hello" };
    await assert.rejects(
      client.responses.create({ model: "auto", input: [message, { ...message, content: "Again" }] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /Duplicate item found with id msg_same\./.test(err.message),
    );
  });

  it("resolves item references to any stored item, as the Vercel AI SDK sends earlier turns", async () => {
    app.gateway.chatScript = () => textEvents("Paris.");
    const first = await client.responses.create({ model: "auto", input: "Capital of France?" });
    const answer = first.output[0];
    assert.ok(answer);
    app.gateway.chatScript = () => textEvents("About 2 million.");
    await client.responses.create({
      model: "auto",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Capital of France?" }] },
        { type: "item_reference", id: answer.id as string },
        { role: "user", content: [{ type: "input_text", text: "Population?" }] },
      ],
    });
    assert.deepEqual(app.gateway.chatRequests[1]?.messages, [
      { role: "user", content: [{ type: "text", text: "Capital of France?" }] },
      { role: "assistant", content: [{ type: "text", text: "Paris." }] },
      { role: "user", content: [{ type: "text", text: "Population?" }] },
    ]);
  });

  it("names file parts by id or URL and audio parts as wire-only; a PDF inline is a canonical file part; a stored history's audio counts", async () => {
    const pdf = { type: "input_file", filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERg==" };
    const first = await client.responses.create({
      model: "auto",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "Read these." },
            pdf,
            { type: "input_file", file_id: "file-1" },
            { type: "input_file", file_url: "https://example.com/a.pdf" },
            { type: "input_image", file_id: "file-2" },
          ] as never,
        },
        { type: "function_call", call_id: "call_1", name: "listen", arguments: "{}" },
        {
          type: "function_call_output",
          call_id: "call_1",
          output: [{ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }] as never,
        },
      ],
    });
    const sent = app.gateway.chatRequests[0];
    assert.deepEqual(sent?.native?.wireOnly, [
      { param: "input[0].content[2]", what: "an input_file part" },
      { param: "input[0].content[3]", what: "an input_file part" },
      { param: "input[0].content[4]", what: "an input_image part by file_id" },
      { param: "input[2].output[0]", what: "an input_audio part", unread: true },
    ]);
    assert.equal(sent?.native?.unread, undefined);
    // The canonical form has the text and the PDF sent inline (a file part: any target can be given
    // it; this one has no text to extract, so classification counts it as unread).
    assert.deepEqual(sent?.messages[0], {
      role: "user",
      content: [
        { type: "text", text: "Read these." },
        { type: "file", mediaType: "application/pdf", data: "JVBERg==", filename: "a.pdf" },
      ],
    });

    // A later turn: nothing new is wire-only; the stored audio counts for privacy (the stored PDF is
    // in the canonical form again, classified there).
    await client.responses.create({ model: "auto", previous_response_id: first.id, input: "And?" });
    const later = app.gateway.chatRequests[1];
    assert.equal(later?.native?.wireOnly, undefined);
    assert.equal(later?.native?.unread, 1);
    assert.deepEqual(later?.messages[0]?.content[1], sent?.messages[0]?.content[1]);
    const upstreamInput = later?.native?.body.input as { content?: unknown[] }[];
    assert.deepEqual(upstreamInput[0]?.content?.[1], pdf);
  });

  it("answers OpenAI's errors for unknown state and conflicting parameters", async () => {
    // api.openai.com answers an unknown previous_response_id with a 400 (a BadRequestError in the SDKs),
    // not a 404: see the error bodies quoted in Soju06/codex-lb#853 and maximhq/bifrost#2441.
    const unknown = await post({ model: "auto", input: "x", previous_response_id: "resp_missing" });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json, {
      error: {
        message: "Previous response with id 'resp_missing' not found.",
        type: "invalid_request_error",
        param: "previous_response_id",
        code: "previous_response_not_found",
      },
    });
    const both = await post({ model: "auto", input: "x", previous_response_id: "resp_1", conversation: "conv_1" });
    assert.equal(both.status, 400);
    assert.equal(both.json.error.code, "mutually_exclusive_parameters");
    const noConversation = await post({ model: "auto", input: "x", conversation: { id: "conv_missing" } });
    assert.equal(noConversation.status, 404);
    assert.equal(noConversation.json.error.param, "conversation");
    assert.equal(noConversation.json.error.message, "Conversation with id 'conv_missing' not found.");
    const badReference = await post({ model: "auto", input: [{ type: "item_reference", id: "msg_nowhere" }] });
    assert.equal(badReference.status, 404);
    assert.equal(badReference.json.error.param, "input[0].id");
    assert.equal(app.gateway.chatRequests.length, 0);
  });

  it("refuses bad input with a 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ input: "x" }, "model"],
      [{ model: "auto", input: [{ role: "robot", content: "x" }] }, "input[0].role"],
      [
        { model: "auto", input: [{ role: "user", content: [{ type: "input_image", image_url: "ftp://x" }] }] },
        "input[0].content[0].image_url",
      ],
      [{ model: "auto", input: [{ role: "user", content: [{ type: "input_file", filename: "a.pdf" }] }] }, "input[0].content[0]"],
      [
        { model: "auto", input: [{ role: "user", content: [{ type: "input_file", file_data: 7 }] }] },
        "input[0].content[0].file_data",
      ],
      [
        { model: "auto", input: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "UklGRg==" } }] }] },
        "input[0].content[0].input_audio.format",
      ],
      [{ model: "auto", input: [{ type: "function_call", name: "f", arguments: "{}" }] }, "input[0].call_id"],
      [{ model: "auto", input: ["text"] }, "input[0]"],
      [{ model: "auto", input: "x", background: true, store: false }, "store"],
      [{ model: "auto", input: "x", background: "yes" }, "background"],
      [{ model: "auto", input: "x", max_output_tokens: 5 }, "max_output_tokens"],
      [{ model: "auto", input: "x", temperature: 3 }, "temperature"],
      [{ model: "auto", input: "x", tool_choice: { type: "web_search_preview" } }, "tool_choice.type"],
      [{ model: "auto", input: "x", tool_choice: { type: "function", name: "nope" } }, "tool_choice.name"],
      [{ model: "auto", input: "x", tool_choice: "required" }, "tool_choice"],
      [{ model: "auto", input: "x", tools: [{ type: "function" }] }, "tools[0].name"],
      [{ model: "auto", input: "x", text: { format: { type: "json_schema", schema: {} } } }, "text.format.name"],
      [
        { model: "auto", input: "x", text: { format: { type: "json_schema", name: "bad name!", schema: {} } } },
        "text.format.name",
      ],
      [{ model: "auto" }, "input"],
      [
        { model: "auto", input: "x", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) },
        "metadata",
      ],
    ];
    for (const [body, param] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.json.error.type, "invalid_request_error");
      assert.equal(res.json.error.param, param, `${JSON.stringify(body)}: ${res.text}`);
    }
    // In OpenAI's words and codes, as the Conversations API answers the same mistakes.
    assert.deepEqual((await post({ model: "auto" })).json.error, {
      message: "Missing required parameter: 'input'.",
      type: "invalid_request_error",
      param: "input",
      code: "missing_required_parameter",
    });
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    assert.deepEqual((await post({ model: "auto", input: "x", metadata: many })).json.error, {
      message:
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
      type: "invalid_request_error",
      param: "metadata",
      code: "object_above_max_properties",
    });
    const long = await post({ model: "auto", input: "x", metadata: { note: "v".repeat(513) } });
    assert.equal(long.json.error.param, "metadata.note");
    assert.equal(long.json.error.code, "string_above_max_length");
    // The request's own fields too, as chat completions answers them (parseOpenAIBody).
    assert.deepEqual((await post({ model: "auto", input: "x", max_output_tokens: 10 })).json.error, {
      message: "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 10 instead.",
      type: "invalid_request_error",
      param: "max_output_tokens",
      code: "integer_below_min_value",
    });
    assert.deepEqual((await post({ model: "auto", input: "x", max_output_tokens: "abc" })).json.error, {
      message: "Invalid type for 'max_output_tokens': expected an integer, but got a string instead.",
      type: "invalid_request_error",
      param: "max_output_tokens",
      code: "invalid_type",
    });
    assert.equal((await post({ model: "auto", input: "x", temperature: 3 })).json.error.code, "decimal_above_max_value");
    assert.equal(app.gateway.chatRequests.length, 0);
  });

  it("does not keep a store:false response, so it cannot be continued", async () => {
    const res = await client.responses.create({ model: "auto", input: "Hi", store: false });
    assert.equal((res as unknown as { store: boolean }).store, false);
    assert.equal(await app.state.getResponse(res.id), undefined);
    await assert.rejects(
      client.responses.create({ model: "auto", input: "more", previous_response_id: res.id }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError && (err.error as { code?: string }).code === "previous_response_not_found",
    );
  });

  it("reports max_output_tokens as an incomplete response", async () => {
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "Once upon" },
      { type: "usage", usage: { inputTokens: 5, outputTokens: 16 } },
      { type: "finish", reason: "length", raw: "length" },
    ];
    const res = await client.responses.create({ model: "auto", input: "Tell a story", max_output_tokens: 16 });
    assert.equal(res.status, "incomplete");
    assert.deepEqual(res.incomplete_details, { reason: "max_output_tokens" });
    assert.equal(res.max_output_tokens, 16);
    assert.equal(res.output[0]?.type === "message" && res.output[0].status, "incomplete");
    assert.equal(res.output_text, "Once upon");
  });

  it("continues a conversation and appends each turn to it", async () => {
    const conversation = await app.state.createConversation({}, [
      { item: { id: "msg_seed1", type: "message", role: "user", content: [{ type: "input_text", text: "My name is Ada." }] } },
      {
        item: {
          id: "msg_seed2",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "Hello Ada.", annotations: [] }],
        },
      },
    ]);
    const res = await client.responses.create({ model: "auto", input: "What is my name?", conversation: conversation.id });
    assert.deepEqual((res as unknown as { conversation: unknown }).conversation, { id: conversation.id });
    assert.deepEqual(app.gateway.chatRequests[0]?.messages, [
      { role: "user", content: [{ type: "text", text: "My name is Ada." }] },
      { role: "assistant", content: [{ type: "text", text: "Hello Ada." }] },
      { role: "user", content: [{ type: "text", text: "What is my name?" }] },
    ]);
    const items = (await app.state.conversationItems(conversation.id)) ?? [];
    assert.deepEqual(
      items.map((i) => i.item.type === "message" && i.item.role),
      ["user", "assistant", "user", "assistant"],
    );
    assert.equal(items[3]?.item.id, res.output[0]?.id);

    // A turn that fails is not appended.
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "Half" },
      { type: "throw", error: new GatewayError("upstream_error", "upstream broke") },
    ];
    const failed = await post({ model: "auto", input: "Again?", conversation: conversation.id, stream: true });
    assert.equal(sseEvents(failed.text).at(-1)?.event, "response.failed");
    assert.equal((await app.state.conversationItems(conversation.id))?.length, 4);
  });

  it("keeps nothing of a store:false turn, in a conversation too: it reads the conversation but is not appended to it", async () => {
    // store: false keeps nothing server-side: api.openai.com neither stores the response nor adds its
    // items to the conversation (smg-project/smg#916 compares it with the real API; ogx-ai/ogx#5304).
    const conversation = await app.state.createConversation({}, [
      { item: { id: "msg_kept1", type: "message", role: "user", content: [{ type: "input_text", text: "My name is Ada." }] } },
    ]);
    const res = await client.responses.create({ model: "auto", input: "Name?", conversation: conversation.id, store: false });
    assert.deepEqual((res as unknown as { conversation: unknown }).conversation, { id: conversation.id });
    assert.equal((res as unknown as { store: boolean }).store, false);
    assert.deepEqual(app.gateway.chatRequests[0]?.messages, [
      { role: "user", content: [{ type: "text", text: "My name is Ada." }] },
      { role: "user", content: [{ type: "text", text: "Name?" }] },
    ]);
    assert.equal(await app.state.getResponse(res.id), undefined);
    assert.deepEqual(
      (await app.state.conversationItems(conversation.id))?.map((i) => i.item.id),
      ["msg_kept1"],
    );
  });

  it("lists as input_items what a response was generated from: the chain, or the conversation as it stood, then its input", async () => {
    // OpenAI: input_items are "a list of items used to generate this response", and a conversation's
    // items "are prepended to input_items for this response request" (ConversationParam, openai/openai-openapi).
    const first = await client.responses.create({ model: "auto", input: "One" });
    const second = await client.responses.create({ model: "auto", input: "Two", previous_response_id: first.id });
    const chained = await client.responses.inputItems.list(second.id, { order: "asc" });
    assert.deepEqual(
      chained.data.map((i) => i.id),
      [...((await app.state.getResponse(first.id))?.input ?? []).map((s) => s.item.id), first.output[0]?.id, chained.data[2]?.id],
    );
    assert.equal(chained.data.length, 3);
    const newestFirst = await client.responses.inputItems.list(second.id);
    assert.equal(
      newestFirst.data[0]?.type === "message" && JSON.stringify(newestFirst.data[0].content),
      JSON.stringify([{ type: "input_text", text: "Two" }]),
    );

    const conversation = await client.conversations.create({ items: [{ type: "message", role: "user", content: "Hi" }] });
    const inConversation = await client.responses.create({ model: "auto", input: "Three", conversation: conversation.id });
    // A later turn of the conversation is not among what the earlier one was given.
    await client.responses.create({ model: "auto", input: "Four", conversation: conversation.id });
    const listed = await client.responses.inputItems.list(inConversation.id, { order: "asc" });
    const conversationItems = await client.conversations.items.list(conversation.id, { order: "asc" });
    assert.deepEqual(
      listed.data.map((i) => i.id),
      conversationItems.data.slice(0, 2).map((i) => i.id),
    );
  });

  it("continues from a response made in a conversation with all it was given: the conversation's turns too", async () => {
    const conversation = await client.conversations.create({ items: [{ type: "message", role: "user", content: "I am Ada." }] });
    const inConversation = await client.responses.create({ model: "auto", input: "Hi", conversation: conversation.id });
    app.gateway.chatRequests.length = 0;
    await client.responses.create({ model: "auto", input: "Who am I?", previous_response_id: inConversation.id });
    assert.deepEqual(app.gateway.chatRequests[0]?.messages, [
      { role: "user", content: [{ type: "text", text: "I am Ada." }] },
      { role: "user", content: [{ type: "text", text: "Hi" }] },
      { role: "assistant", content: [{ type: "text", text: "Hello there!" }] },
      { role: "user", content: [{ type: "text", text: "Who am I?" }] },
    ]);
  });

  it("refuses a second turn on a conversation while one is under way, as OpenAI does, and frees it after", async () => {
    // api.openai.com answers a concurrent turn with this 400 (the body is quoted in paulgmiller/careme#379):
    // two turns composed from the same history would append answers to a conversation neither saw.
    const conversation = await app.state.createConversation({}, []);
    const release = holdAnswers(0);
    try {
      const first = client.responses.create({ model: "auto", input: "One", conversation: conversation.id });
      while (app.gateway.chatRequests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = client.responses.create({ model: "auto", input: "Two", conversation: { id: conversation.id } });
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error("not refused at once")), 2000).unref());
      await assert.rejects(Promise.race([second, late]), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.deepEqual(err.error, {
          message: "Another process is currently operating on this conversation. Please retry in a few seconds.",
          type: "invalid_request_error",
          param: "conversation",
          code: "conversation_locked",
        });
        return true;
      });
      // Nor are items added or deleted under the turn: an added one would be stored before the turn's own input.
      const locked = (err: unknown) =>
        err instanceof OpenAI.BadRequestError && (err.error as { code?: string }).code === "conversation_locked";
      await assert.rejects(
        client.conversations.items.create(conversation.id, { items: [{ type: "message", role: "user", content: "Side" }] }),
        locked,
      );
      await assert.rejects(client.conversations.items.delete("msg_any", { conversation_id: conversation.id }), locked);
      release();
      await first;
      const side = await client.conversations.items.create(conversation.id, {
        items: [{ type: "message", role: "user", content: "Side" }],
      });
      await client.conversations.items.delete(side.data[0]?.id as string, { conversation_id: conversation.id });
    } finally {
      release();
      delete (app.gateway as Partial<StubGateway>).chat;
    }
    app.gateway.chatScript = () => new GatewayError("upstream_error", "broke before the first byte");
    await assert.rejects(client.responses.create({ model: "auto", input: "Fails", conversation: conversation.id }));
    app.gateway.chatScript = () => textEvents("Again.");
    const next = await client.responses.create({ model: "auto", input: "Three", conversation: conversation.id });
    assert.equal(next.status, "completed");
    assert.equal((await app.state.conversationItems(conversation.id))?.length, 4);
  });

  it("deletes a response still being answered: the delete is taken, and the response is not kept", async () => {
    // The answer begins, then waits: the client has the response's id while it is answered.
    const release = holdAnswers(1);
    try {
      const stream = await client.responses.create({ model: "auto", input: "Slow one", stream: true });
      let id = "";
      for await (const event of stream) {
        if (event.type === "response.created") {
          id = event.response.id;
          assert.deepEqual(await client.responses.delete(id).then(() => "deleted"), "deleted");
          release();
        }
      }
      assert.match(id, /^resp_/);
      await assert.rejects(client.responses.retrieve(id), (err) => err instanceof OpenAI.NotFoundError);
      await assert.rejects(client.responses.delete(id), (err) => err instanceof OpenAI.NotFoundError);
    } finally {
      release();
      delete (app.gateway as Partial<StubGateway>).chat;
    }
  });

  it("marks stored items private when the request was, and keeps later turns private", async () => {
    app.gateway.meta = { ...app.gateway.meta, sensitivity: "private" };
    const first = await client.responses.create({ model: "auto", input: "My card is 4111 1111 1111 1111" });
    const stored = await app.state.getResponse(first.id);
    assert.equal(stored?.input[0]?.sensitivity, "private");
    assert.equal(stored?.output[0]?.sensitivity, "private");

    app.gateway.meta = { ...app.gateway.meta, sensitivity: undefined };
    await client.responses.create({ model: "auto", input: "And now?", previous_response_id: first.id });
    assert.equal(app.gateway.contexts[1]?.headers["x-tandem-sensitivity"], "private");
    // A client's header cannot lower it: the earlier private items go along with this turn.
    await client.responses.create(
      { model: "auto", input: "Fine to share", previous_response_id: first.id },
      { headers: { "x-tandem-sensitivity": "public" } },
    );
    assert.equal(app.gateway.contexts[2]?.headers["x-tandem-sensitivity"], "private");
  });

  it("parses a json_schema answer with responses.parse", async () => {
    app.gateway.chatScript = () => textEvents('{"city":"Paris","celsius":21}');
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    const res = await client.responses.parse({
      model: "auto",
      input: "Weather?",
      text: { format: zodTextFormat(Weather, "weather") },
    });
    assert.deepEqual(res.output_parsed, { city: "Paris", celsius: 21 });
    const format = app.gateway.chatRequests[0]?.responseFormat;
    assert.ok(format?.type === "json_schema");
    assert.equal(format.name, "weather");
    assert.equal(format.strict, true);
  });
});

describe("POST /v1/responses, streamed", () => {
  it("sends the Responses event sequence, checked against the SDK's types", async () => {
    app.gateway.chatScript = () => toolCallEvents();
    const stream = client.responses.stream({ model: "auto", input: "Weather in Paris?", tools: [weatherTool] });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();

    assert.deepEqual(
      events.map((e) => e.type),
      [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    for (const [i, event] of events.entries()) assert.equal(event.sequence_number, i);
    const [created, inProgress] = events;
    assert.ok(created?.type === "response.created" && inProgress?.type === "response.in_progress");
    assert.equal(created.response.status, "in_progress");
    assert.deepEqual(created.response.output, []);
    assert.equal(created.response.id, final.id);

    const messageId = final.output[0]?.id;
    const callId = final.output[1]?.id;
    for (const event of events) {
      switch (event.type) {
        case "response.output_text.delta":
          assert.deepEqual(event, {
            type: "response.output_text.delta",
            sequence_number: event.sequence_number,
            item_id: messageId,
            output_index: 0,
            content_index: 0,
            delta: "Let me check.",
            logprobs: [],
          });
          break;
        case "response.output_text.done":
          assert.equal(event.text, "Let me check.");
          assert.equal(event.item_id, messageId);
          break;
        case "response.content_part.added":
          assert.deepEqual(event.part, { type: "output_text", annotations: [], logprobs: [], text: "" });
          break;
        case "response.function_call_arguments.delta":
          assert.equal(event.item_id, callId);
          assert.equal(event.output_index, 1);
          break;
        case "response.function_call_arguments.done":
          assert.equal(event.arguments, '{"city":"Paris"}');
          assert.equal(event.name, "get_weather");
          break;
        case "response.output_item.added":
          assert.equal((event.item as { status?: string }).status, "in_progress");
          break;
        case "response.output_item.done":
          assert.equal((event.item as { status?: string }).status, "completed");
          break;
        default:
          break;
      }
    }
    const completed = events.at(-1);
    assert.ok(completed?.type === "response.completed");
    assert.equal(completed.response.status, "completed");
    assert.deepEqual(completed.response.usage, {
      input_tokens: 30,
      input_tokens_details: { cached_tokens: 8, cache_write_tokens: 0 },
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 39,
    });
    assert.equal(final.output_text, "Let me check.");
    const call = final.output[1];
    assert.ok(call?.type === "function_call");
    assert.equal(call.call_id, "call_w1");
    // Saved before the client read the end.
    const stored = await app.state.getResponse(final.id);
    assert.equal(stored?.output.length, 2);
    assert.equal(app.gateway.chatRequests[0]?.stream, true);
  });

  it("frames SSE as OpenAI does and marks a mid-stream switch with a comment", async () => {
    app.gateway.meta = { ...app.gateway.meta, degraded: "continued on fake/model-2 after a stall" };
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "Hel" },
      { type: "switch", from: TARGET, to: "fake/model-2", reason: "a stall" },
      { type: "text-delta", text: "lo" },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 2 } },
      { type: "finish", reason: "stop" },
    ];
    const res = await post({ model: "auto", input: "Hi", stream: true, tools: [{ type: "code_interpreter" }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /tools of type 'code_interpreter' were left out/);
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /^true; /);
    assert.match(res.text, /\n\n: tandem switched from fake\/model-1 to fake\/model-2/);
    const events = sseEvents(res.text);
    const deltas = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta);
    assert.deepEqual(deltas, ["Hel", "lo"]);
    const done = events.find((e) => e.event === "response.output_text.done");
    assert.equal(done?.data.text, "Hello");
    assert.equal(events.at(-1)?.event, "response.completed");
    assert.equal(events.at(-1)?.data.response.output[0].content[0].text, "Hello");
  });

  it("carries token logprobs when included: on the text part only (not a refusal), tokens before their text too", async () => {
    const token = (t: string, logprob: number, bytes?: number[]) => ({
      token: t,
      logprob,
      ...(bytes && { bytes }),
      topLogprobs: [{ token: t, logprob, ...(bytes && { bytes }) }],
    });
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "", logprobs: [token("\\xe2", -1)] },
      { type: "text-delta", text: "✓ ok", logprobs: [token("\\x9c\\x93", -2, [156, 147]), token(" ok", -0.5)] },
      { type: "text-delta", text: "No.", refusal: true, logprobs: [token("No", -3)] },
      { type: "finish", reason: "stop" },
    ];
    const body = { model: "auto", input: "Hi", include: ["message.output_text.logprobs"], top_logprobs: 1 };
    const whole = await post(body);
    assert.equal(whole.status, 200, whole.text);
    assert.deepEqual(app.gateway.chatRequests.at(-1)?.logprobs, { topLogprobs: 1 });
    // A token the target gave no bytes for has its text's UTF-8.
    const part = {
      type: "output_text",
      annotations: [],
      logprobs: [
        {
          token: "\\xe2",
          logprob: -1,
          bytes: [92, 120, 101, 50],
          top_logprobs: [{ token: "\\xe2", logprob: -1, bytes: [92, 120, 101, 50] }],
        },
        {
          token: "\\x9c\\x93",
          logprob: -2,
          bytes: [156, 147],
          top_logprobs: [{ token: "\\x9c\\x93", logprob: -2, bytes: [156, 147] }],
        },
        {
          token: " ok",
          logprob: -0.5,
          bytes: [32, 111, 107],
          top_logprobs: [{ token: " ok", logprob: -0.5, bytes: [32, 111, 107] }],
        },
      ],
      text: "✓ ok",
    };
    assert.deepEqual(whole.json.output[0].content, [part, { type: "refusal", refusal: "No." }]);
    const streamed = sseEvents((await post({ ...body, stream: true })).text);
    const deltas = streamed.filter((e) => e.event === "response.output_text.delta").map((e) => [e.data.delta, e.data.logprobs]);
    assert.deepEqual(deltas, [
      ["", [{ token: "\\xe2", logprob: -1, top_logprobs: [{ token: "\\xe2", logprob: -1 }] }]],
      [
        "✓ ok",
        [
          { token: "\\x9c\\x93", logprob: -2, top_logprobs: [{ token: "\\x9c\\x93", logprob: -2 }] },
          { token: " ok", logprob: -0.5, top_logprobs: [{ token: " ok", logprob: -0.5 }] },
        ],
      ],
    ]);
    const done = streamed.find((e) => e.event === "response.output_text.done");
    assert.deepEqual(done?.data.logprobs, [...(deltas[0]?.[1] ?? []), ...(deltas[1]?.[1] ?? [])]);
    const completed = streamed.at(-1);
    assert.equal(completed?.event, "response.completed");
    assert.deepEqual(completed?.data.response.output[0].content, [part, { type: "refusal", refusal: "No." }]);
  });

  it("keeps nothing of a stream the client left, and frees its conversation for the next turn", async () => {
    // OpenAI ends a stream's generation when its connection closes (without background), and its
    // id is then a 404 (community.openai.com, "Responses API - reconnect to a streaming response").
    const conversation = await app.state.createConversation({}, []);
    const chat = app.gateway.chat.bind(app.gateway);
    app.gateway.chat = async (request, context) => {
      const stream = await chat(request, context);
      async function* leftHanging() {
        yield { type: "start" as const };
        yield { type: "text-delta" as const, text: "Half an answer" };
        await new Promise((_, reject) =>
          context.signal.addEventListener("abort", () => reject(new GatewayError("canceled", "client left")), { once: true }),
        );
      }
      return { ...stream, events: leftHanging() };
    };
    const controller = new AbortController();
    let id = "";
    try {
      const res = await fetch(`${app.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "auto", input: "Go", stream: true, conversation: conversation.id }),
        signal: controller.signal,
      });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let seen = "";
      while (!seen.includes("response.output_text.delta")) seen += new TextDecoder().decode((await reader.read()).value);
      id = /"id":"(resp_[A-Za-z0-9]+)"/.exec(seen)?.[1] ?? "";
      controller.abort();
    } finally {
      delete (app.gateway as Partial<StubGateway>).chat;
    }
    assert.match(id, /^resp_/);
    // The next turn may have to wait for the server to see the disconnect: it is refused as locked till then.
    let next: { status?: string } | undefined;
    for (let tries = 0; next === undefined && tries < 100; tries++) {
      next = await client.responses
        .create({ model: "auto", input: "Again", conversation: conversation.id })
        .catch(async (err) => {
          assert.equal((err as { code?: string }).code, "conversation_locked");
          await new Promise((resolve) => setTimeout(resolve, 20));
          return undefined;
        });
    }
    assert.equal(next?.status, "completed");
    await assert.rejects(client.responses.retrieve(id), OpenAI.NotFoundError);
    assert.deepEqual(
      (await app.state.conversationItems(conversation.id))?.map((i) => i.item.role),
      ["user", "assistant"],
      "only the later turn's items",
    );
  });

  it("ends a stream that fails with an error event and response.failed", async () => {
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "text-delta", text: "Partial" },
      { type: "throw", error: new GatewayError("rate_limited", "Upstream rate limit") },
    ];
    const res = await post({ model: "auto", input: "Hi", stream: true });
    const events = sseEvents(res.text);
    assert.deepEqual(
      events.slice(-5).map((e) => e.event),
      ["response.output_text.done", "response.content_part.done", "response.output_item.done", "error", "response.failed"],
    );
    assert.deepEqual(events.at(-2)?.data, {
      type: "error",
      sequence_number: events.length - 2,
      code: "rate_limit_exceeded",
      message: "Upstream rate limit",
      param: null,
    });
    // The SDK surfaces the error event as the stream's error.
    const stream = client.responses.stream({ model: "auto", input: "Hi" });
    await assert.rejects(stream.finalResponse());

    const failed = events.at(-1)?.data.response;
    assert.equal(failed.status, "failed");
    assert.deepEqual(failed.error, { code: "rate_limit_exceeded", message: "Upstream rate limit" });
    assert.equal(failed.output[0].status, "incomplete");
  });

  it("ends a function call cut off by max_output_tokens as incomplete, whole and streamed", async () => {
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "tool-call-start", index: 0, id: "call_cut", name: "get_weather" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"ci' },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "length" },
    ];
    const request = { model: "auto", input: "Weather?", tools: [weatherTool], max_output_tokens: 16 };
    const res = await client.responses.create(request);
    assert.equal(res.status, "incomplete");
    assert.deepEqual(res.incomplete_details, { reason: "max_output_tokens" });
    const call = res.output[0];
    assert.equal(call?.type, "function_call");
    assert.deepEqual(call?.type === "function_call" && [call.status, call.arguments, call.call_id], [
      "incomplete",
      '{"ci',
      "call_cut",
    ]);
    const stream = client.responses.stream(request);
    const done: string[] = [];
    for await (const event of stream)
      if (event.type === "response.output_item.done")
        done.push(event.item.type === "function_call" ? (event.item.status ?? "") : event.item.type);
    assert.deepEqual(done, ["incomplete"]);
    const final = await stream.finalResponse();
    assert.equal(final.status, "incomplete");
    assert.equal(final.output[0]?.type === "function_call" && final.output[0].status, "incomplete");
  });

  it("ends a function call cut before its first argument character as incomplete, whole and streamed", async () => {
    // The embedded engine's forced call cut by max_output_tokens at once: a start and an end, no argument text.
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "tool-call-start", index: 0, id: "call_cut", name: "get_weather" },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "length" },
    ];
    const request = { model: "auto", input: "Weather?", tools: [weatherTool], max_output_tokens: 16 };
    const res = await client.responses.create(request);
    assert.equal(res.status, "incomplete");
    const call = res.output[0];
    assert.deepEqual(call?.type === "function_call" && [call.status, call.arguments], ["incomplete", ""]);
    const stream = client.responses.stream(request);
    const done: string[] = [];
    for await (const event of stream)
      if (event.type === "response.output_item.done")
        done.push(event.item.type === "function_call" ? (event.item.status ?? "") : event.item.type);
    assert.deepEqual(done, ["incomplete"]);
    const final = await stream.finalResponse();
    assert.equal(final.output[0]?.type === "function_call" && final.output[0].status, "incomplete");
  });

  it("keeps a call with no arguments completed when the answer finishes with its calls", async () => {
    app.gateway.chatScript = () => [
      { type: "start" },
      { type: "tool-call-start", index: 0, id: "call_now", name: "get_time" },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "tool_calls" },
    ];
    const tool = { type: "function" as const, name: "get_time", parameters: null, strict: false };
    const res = await client.responses.create({ model: "auto", input: "Time?", tools: [tool] });
    assert.equal(res.status, "completed");
    assert.equal(res.output[0]?.type === "function_call" && res.output[0].status, "completed");
    const stream = client.responses.stream({ model: "auto", input: "Time?", tools: [tool] });
    const done: string[] = [];
    for await (const event of stream)
      if (event.type === "response.output_item.done")
        done.push(event.item.type === "function_call" ? (event.item.status ?? "") : event.item.type);
    assert.deepEqual(done, ["completed"]);
  });

  it("streams an incomplete answer as response.incomplete", async () => {
    app.gateway.chatScript = () => [{ type: "start" }, { type: "text-delta", text: "Cut" }, { type: "finish", reason: "length" }];
    const stream = client.responses.stream({ model: "auto", input: "Hi", max_output_tokens: 16 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.equal(types.at(-1), "response.incomplete");
    const final = await stream.finalResponse();
    assert.equal(final.status, "incomplete");
    assert.deepEqual(final.incomplete_details, { reason: "max_output_tokens" });
  });
});
