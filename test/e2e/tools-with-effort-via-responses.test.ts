/**
 * Function tools beside a reasoning effort, which api.openai.com's gpt-5.2 and later refuse on chat
 * completions ("To use function tools, use /v1/responses or set reasoning_effort to 'none'.", or
 * gpt-5.5's "Please use /v1/responses instead."): to an upstream that speaks the Responses API too,
 * tandem sends such a request as a Responses request (effort kept, nothing named about it), whole and
 * streamed: at once for the gpt-5.2-and-later family, and for any other model once it has refused,
 * then there from the start; a request without tools stays on chat completions; an upstream without
 * the Responses API gets effort none, named, as before. The `reasoner-*` models stand for models
 * tandem does not know by name. A chat completions client's own request takes the same path rather
 * than going as it came to be refused. The upstream here is one host, as api.openai.com is: its chat
 * completions answer as the fake OpenAI API (with the refusal in OpenAI's words), its Responses as
 * the fake Responses API.
 */
import assert from "node:assert/strict";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type FakeResponsesUpstream, sealed, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODELS = ["gpt-5.4", "gpt-5.5", "gpt-5.6-terra", "reasoner-a", "reasoner-b", "reasoner-c", "reasoner-old-wording"];

let chat: FakeOpenAIUpstream;
let responses: FakeResponsesUpstream;
let host: Server;
let tandem: RunningTandem;
let anthropic: Anthropic;
let openai: OpenAI;

/**
 * api.openai.com's refusal (gpt-5.5 and later, whose default effort is medium: an effort left out is
 * refused too), in gpt-5.6's words; `reasoner-old-wording` answers in gpt-5.5's, with no `param`.
 */
const toolsWithEffortRefused = (model: string) => ({
  kind: "error" as const,
  status: 400,
  body: {
    error: model.endsWith("old-wording")
      ? {
          message: `Function tools with reasoning_effort are not supported for ${model} in /v1/chat/completions. Please use /v1/responses instead.`,
          type: "invalid_request_error",
          param: null,
          code: null,
        }
      : {
          message: `Function tools with reasoning_effort are not supported for ${model} in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.`,
          type: "invalid_request_error",
          param: "reasoning_effort",
          code: null,
        },
  },
});

/** One origin over both fakes: POST /v1/responses to the Responses fake, all else to the chat fake. */
async function startOneHost(): Promise<Server> {
  const server = createServer((req, res) => {
    const upstream = new URL(req.url === "/v1/responses" ? responses.url : chat.url);
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const chatBodies = () =>
  chat.requests
    .filter((r) => r.method === "POST" && r.path.endsWith("/chat/completions"))
    .map((r) => r.body as Record<string, unknown>);

const weather = { name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };

/** Claude Code's shape: tools and a thinking budget (2048: effort low), with stop sequences the Responses API has no field for. */
const params = (model: string) => ({
  model,
  max_tokens: 4000,
  thinking: { type: "enabled" as const, budget_tokens: 2048 },
  tools: [weather],
  stop_sequences: ["END"],
  messages: [{ role: "user" as const, content: "Weather in Oslo?" }],
});

/**
 * The next turn, with the first answer's blocks as the assistant's: its thinking signature holds the
 * sealed reasoning, which the model reads back on the Responses API, named nowhere as left out.
 */
async function assertNextTurnReadsBack(model: string, content: Anthropic.ContentBlock[]): Promise<void> {
  responses.responseBodies.length = 0;
  const turn = await anthropic.messages
    .create({
      ...params(model),
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content },
        { role: "user", content: "And in Bergen?" },
      ],
    })
    .withResponse();
  const input = (responses.responseBodies[0]?.input ?? []) as { type?: string; encrypted_content?: string }[];
  assert.deepEqual(
    input.filter((item) => item.type === "reasoning").map((item) => item.encrypted_content),
    [sealed("Oslo is in Norway.")],
  );
  assert.doesNotMatch(turn.response.headers.get("x-tandem-warnings") ?? "", /earlier reasoning/);
}

before(async () => {
  [chat, responses] = await Promise.all([startFakeOpenAI({ models: MODELS }), startFakeOpenAIResponses({ models: MODELS })]);
  host = await startOneHost();
  const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/v1`;
  tandem = await startTandem(
    {
      providers: {
        // api.openai.com's default: chat completions and the Responses API.
        oai: { kind: "openai", baseUrl: url, apiKeys: ["env:UP"], responses: true, local: false, models: MODELS },
        // Any other host's default: chat completions alone.
        compat: { kind: "openai", baseUrl: url, apiKeys: ["env:UP"], local: false, models: MODELS },
      },
      // A client that does not stream gets one whole upstream answer on this route.
      routes: { whole: { tiers: ["oai/reasoner-b"], streamUpstream: false } },
    },
    { env: { UP: "sk-upstream" } },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await new Promise((resolve) => host?.close(resolve));
  await Promise.all([chat?.close(), responses?.close()]);
});

beforeEach(() => {
  chat.requests.length = 0;
  responses.requests.length = 0;
  responses.responseBodies.length = 0;
  chat.script((request: RecordedRequest) => {
    const body = request.body as Record<string, unknown>;
    if (Array.isArray(body.tools) && body.reasoning_effort !== "none") return toolsWithEffortRefused(String(body.model));
    return { kind: "text", text: "Hello from chat" };
  });
  responses.script(() => ({ kind: "answer", reasoning: "Oslo is in Norway.", text: "Hello from responses" }));
});

describe("function tools beside a reasoning effort, refused on chat completions", () => {
  it("go as a Responses request, streamed, effort kept, and the next one goes there from the start", async () => {
    const stream = anthropic.messages.stream(params("oai/reasoner-a"));
    const { response } = await stream.withResponse();
    const message = await stream.finalMessage();
    const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : []));
    assert.deepEqual(text, ["Hello from responses"]);
    assert.ok(message.content.some((block) => block.type === "thinking" && block.thinking === "Oslo is in Norway."));
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low"],
      "one chat request, refused; never sent again at none",
    );
    const sent = responses.responseBodies;
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]?.reasoning, { effort: "low" });
    assert.deepEqual(sent[0]?.tools, [
      { type: "function", name: "get_weather", parameters: weather.input_schema, strict: false },
    ]);
    assert.equal(sent[0]?.stream, true);
    assert.equal(sent[0]?.store, false, "stateless: the whole conversation, nothing kept upstream");
    assert.equal("previous_response_id" in (sent[0] ?? {}), false);
    assert.equal("stop" in (sent[0] ?? {}), false);
    // Nothing about the effort; the stop sequences the Responses API has no field for, by the client's name.
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.doesNotMatch(warnings, /reasoning_effort/);
    assert.match(warnings, /stop_sequences not sent to oai\/reasoner-a/);

    chat.requests.length = 0;
    responses.responseBodies.length = 0;
    const again = anthropic.messages.stream(params("oai/reasoner-a"));
    const { response: next } = await again.withResponse();
    assert.deepEqual(
      (await again.finalMessage()).content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from responses"],
    );
    assert.equal(chatBodies().length, 0, "no refused round trip the second time");
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });
    const nextWarnings = next.headers.get("x-tandem-warnings") ?? "";
    assert.doesNotMatch(nextWarnings, /reasoning_effort/);
    assert.match(nextWarnings, /stop_sequences not sent to oai\/reasoner-a/);

    // The next turn carries the first answer's thinking back (its signature holds the sealed
    // reasoning): the model reads it back on the Responses API, as a Responses-only upstream does.
    await assertNextTurnReadsBack("oai/reasoner-a", message.content);
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });

    // Without tools the same model stays on chat completions, effort as asked.
    chat.requests.length = 0;
    responses.responseBodies.length = 0;
    const { tools: _, ...noTools } = params("oai/reasoner-a");
    const plain = await anthropic.messages.create(noTools);
    assert.deepEqual(
      plain.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from chat"],
    );
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low"],
    );
    assert.equal(responses.responseBodies.length, 0);
  });

  it("go as a whole Responses request when the route asks the upstream for whole answers; without the Responses API at none", async () => {
    const { data, response } = await anthropic.messages.create(params("whole")).withResponse();
    assert.deepEqual(
      data.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from responses"],
    );
    assert.deepEqual(
      chatBodies().map((b) => [b.reasoning_effort, b.stream]),
      [["low", false]],
    );
    assert.equal(responses.responseBodies.length, 1);
    assert.equal(responses.responseBodies[0]?.stream, false);
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);
    assert.equal(response.headers.get("x-tandem-attempts"), "1", "one attempt: the Responses request is part of it");

    // The same request to an upstream without the Responses API: again at effort none, named, as before.
    chat.requests.length = 0;
    responses.responseBodies.length = 0;
    for (let i = 0; i < 2; i++) {
      const { data: compat, response: compatResponse } = await anthropic.messages
        .create(params("compat/gpt-5.6-terra"))
        .withResponse();
      assert.deepEqual(
        compat.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
        ["Hello from chat"],
      );
      assert.match(
        compatResponse.headers.get("x-tandem-warnings") ?? "",
        /reasoning_effort low \(none sent instead\) not sent to compat\/gpt-5\.6-terra/,
      );
    }
    // The refusal once, then none from the start.
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low", "none", "none"],
    );
    assert.equal(responses.responseBodies.length, 0);
  });

  it("without thinking stay on chat completions at none, unnamed; with thinking later still go as a Responses request", async () => {
    const { thinking: _, ...noThinking } = params("oai/reasoner-c");
    const { data, response } = await anthropic.messages.create(noThinking).withResponse();
    assert.deepEqual(
      data.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from chat"],
    );
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      [undefined, "none"],
    );
    assert.equal(responses.responseBodies.length, 0);
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);

    // The model's refusal learned on chat completions does not turn a later effort into none.
    chat.requests.length = 0;
    const { data: thought, response: thoughtResponse } = await anthropic.messages.create(params("oai/reasoner-c")).withResponse();
    assert.deepEqual(
      thought.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from responses"],
    );
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low"],
    );
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });
    assert.doesNotMatch(thoughtResponse.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);
  });

  it("go as a Responses request from the start for gpt-5.5 and later, whose refusal is known by name, reasoning read back from the first turn", async () => {
    for (const model of ["oai/gpt-5.6-terra", "oai/gpt-5.5"]) {
      chat.requests.length = 0;
      responses.responseBodies.length = 0;
      const stream = anthropic.messages.stream(params(model));
      const message = await stream.finalMessage();
      assert.deepEqual(
        message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
        ["Hello from responses"],
      );
      assert.equal(chatBodies().length, 0, `${model}: no refused round trip first`);
      assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });

      // The very next turn already reads back what the first sealed.
      await assertNextTurnReadsBack(model, message.content);
    }
    // Without the Responses API the family goes to chat completions: once refused, then at none.
    chat.requests.length = 0;
    responses.responseBodies.length = 0;
    await anthropic.messages.create(params("compat/gpt-5.5"));
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low", "none"],
    );
    assert.equal(responses.responseBodies.length, 0);
  });

  it("take gpt-5.5's wording of the refusal, with no param, as the same refusal", async () => {
    const { data, response } = await anthropic.messages.create(params("oai/reasoner-old-wording")).withResponse();
    assert.deepEqual(
      data.content.flatMap((block) => (block.type === "text" ? [block.text] : [])),
      ["Hello from responses"],
    );
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low"],
    );
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);

    chat.requests.length = 0;
    responses.responseBodies.length = 0;
    const { response: compat } = await anthropic.messages.create(params("compat/reasoner-old-wording")).withResponse();
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["low", "none"],
    );
    assert.match(
      compat.headers.get("x-tandem-warnings") ?? "",
      /reasoning_effort low \(none sent instead\) not sent to compat\/reasoner-old-wording/,
    );
  });
});

describe("a chat completions client's own request with function tools, to a model that refuses it on chat completions", () => {
  const tool = { type: "function" as const, function: { name: "get_weather", parameters: weather.input_schema } };
  const ask = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) => ({
    model,
    tools: [tool],
    messages: [{ role: "user" as const, content: "Weather in Oslo?" }],
    ...extra,
  });
  const callOslo = () => {
    responses.script(() => ({
      kind: "answer",
      reasoning: "Oslo is in Norway.",
      calls: [{ name: "get_weather", arguments: '{"city":"Oslo"}' }],
    }));
  };

  it("goes as a Responses request with its effort (gpt-5.5 and later by name), streamed: the call comes back in chat chunks", async () => {
    callOslo();
    const stream = await openai.chat.completions.create({ ...ask("oai/gpt-5.5"), reasoning_effort: "high", stream: true });
    let reasoning = "";
    const calls: { name?: string; args: string }[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      reasoning += (choice?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
      for (const call of choice?.delta.tool_calls ?? []) {
        calls[call.index] ??= { args: "" };
        const named = calls[call.index] as { name?: string; args: string };
        if (call.function?.name) named.name = call.function.name;
        named.args += call.function?.arguments ?? "";
      }
      finish = choice?.finish_reason ?? finish;
    }
    assert.deepEqual(calls, [{ name: "get_weather", args: '{"city":"Oslo"}' }]);
    assert.equal(finish, "tool_calls");
    assert.equal(reasoning, "Oslo is in Norway.");
    assert.equal(chatBodies().length, 0, "no refused chat request");
    const sent = responses.responseBodies[0];
    assert.deepEqual(sent?.reasoning, { effort: "high" });
    assert.deepEqual(sent?.tools, [{ type: "function", name: "get_weather", parameters: weather.input_schema, strict: false }]);
    assert.equal(sent?.stream, true);
  });

  it("goes as a Responses request whole, and says nothing about the effort (gpt-5.4 by name too)", async () => {
    callOslo();
    const { data, response } = await openai.chat.completions
      .create(ask("oai/gpt-5.4", { reasoning_effort: "low" }))
      .withResponse();
    const call = data.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type === "function" && call.function.name, "get_weather");
    assert.equal(call?.type === "function" && call.function.arguments, '{"city":"Oslo"}');
    assert.equal(data.choices[0]?.finish_reason, "tool_calls");
    assert.equal(chatBodies().length, 0);
    assert.deepEqual(responses.responseBodies[0]?.reasoning, { effort: "low" });
    assert.doesNotMatch(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort/);
  });

  it("with no effort goes to chat completions at none once gpt-5.5 refuses it (it thinks by default), with none given as it came", async () => {
    const plain = await openai.chat.completions.create(ask("oai/gpt-5.5"));
    assert.equal(plain.choices[0]?.message.content, "Hello from chat");
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      [undefined, "none"],
    );
    assert.equal(responses.responseBodies.length, 0);

    // The client's own `none` is taken as it is: its body, sent once.
    chat.requests.length = 0;
    const none = await openai.chat.completions.create(ask("oai/gpt-5.5", { reasoning_effort: "none" }));
    assert.equal(none.choices[0]?.message.content, "Hello from chat");
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["none"],
    );
  });

  it("with what only its own body carries (an audio part) is a 400 naming it, not an answer without it", async () => {
    const audio = {
      type: "input_audio" as const,
      input_audio: { data: Buffer.from("RIFF").toString("base64"), format: "wav" as const },
    };
    await assert.rejects(
      openai.chat.completions.create(
        {
          ...ask("oai/gpt-5.5", { reasoning_effort: "high" }),
          messages: [{ role: "user", content: [{ type: "text", text: "What is said?" }, audio] }],
        },
        // An audio part is unreadable to privacy classification, so private unless said otherwise.
        { headers: { "x-tandem-sensitivity": "public" } },
      ),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal((err.error as { param?: string }).param, "messages[0].content[1]");
        return true;
      },
    );
    assert.equal(chatBodies().length + responses.responseBodies.length, 0, "nothing sent upstream");
  });

  it("without tools stays the client's own body on chat completions; to an upstream without the Responses API, at none, named", async () => {
    const { tools: _, ...noTools } = ask("oai/gpt-5.5", { reasoning_effort: "high" });
    await openai.chat.completions.create(noTools);
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["high"],
    );
    assert.equal(responses.responseBodies.length, 0);

    chat.requests.length = 0;
    const { data, response } = await openai.chat.completions
      .create(ask("compat/gpt-5.4", { reasoning_effort: "high" }))
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from chat");
    assert.deepEqual(
      chatBodies().map((b) => b.reasoning_effort),
      ["high", "none"],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /reasoning_effort high \(none sent instead\) not sent to compat\/gpt-5\.4/,
    );
  });
});
