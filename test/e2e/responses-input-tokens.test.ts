/**
 * POST /v1/responses/input_tokens through a real tandem server with the official openai SDK
 * (`client.responses.inputTokens.count`): the input a Responses request would use, composed as
 * POST /v1/responses composes it (stored chain, conversation, instructions, tools), counted without
 * generating, storing or calling an upstream.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

const MODEL = "openai/gpt-4o-mini";
const LONG = "Tell me, in some detail, about the history of the lighthouse keepers of the northern coast. ".repeat(8);

before(async () => {
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
    { env: { UP_OPENAI: "sk-upstream-openai" }, state: new MemoryStateStore() },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await openai?.close();
});

beforeEach(() => {
  openai.requests.length = 0;
  openai.script(() => ({ kind: "text", text: "The keepers kept the lights.", usage: { input: 30, output: 6 } }));
});

const count = async (body: OpenAI.Responses.InputTokenCountParams) =>
  (await client.responses.inputTokens.count(body)).input_tokens;

describe("POST /v1/responses/input_tokens", () => {
  it("answers OpenAI's object, counts more for more input, and calls no upstream", async () => {
    const { data, response } = await client.responses.inputTokens.count({ model: MODEL, input: "Hi" }).withResponse();
    assert.equal(data.object, "response.input_tokens");
    assert.ok(Number.isInteger(data.input_tokens) && data.input_tokens > 0, String(data.input_tokens));
    assert.equal(response.headers.get("x-tandem-target"), MODEL);
    const long = await count({ model: MODEL, input: LONG });
    assert.ok(long > data.input_tokens + 100, `${long} vs ${data.input_tokens}`);
    assert.equal(openai.requests.length, 0, "counting sends nothing upstream");
  });

  it("counts the instructions and the tools as well as the input", async () => {
    const bare = await count({ model: MODEL, input: "What is the weather?" });
    const instructed = await count({ model: MODEL, input: "What is the weather?", instructions: LONG });
    assert.ok(instructed > bare + 100, `${instructed} vs ${bare}`);
    const tooled = await count({
      model: MODEL,
      input: "What is the weather?",
      tools: [
        {
          type: "function",
          name: "get_weather",
          description: "The current weather for a city, with the temperature in Celsius and the wind.",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          strict: false,
        },
      ],
    });
    assert.ok(tooled > bare + 10, `${tooled} vs ${bare}`);
  });

  it("counts a stored response's history with a follow-up, and takes its model when none is named", async () => {
    const first = await client.responses.create({ model: MODEL, input: LONG });
    const followUp = await count({ model: MODEL, previous_response_id: first.id, input: "And then?" });
    const alone = await count({ model: MODEL, input: "And then?" });
    assert.ok(followUp > alone + 100, `${followUp} vs ${alone}`);
    const { data, response } = await client.responses.inputTokens
      .count({ previous_response_id: first.id, input: "And then?" })
      .withResponse();
    assert.equal(data.input_tokens, followUp);
    assert.equal(response.headers.get("x-tandem-target"), MODEL);
  });

  it("counts a stored file the input names by file_id (as POST /v1/responses would send it)", async () => {
    const file = await client.files.create({
      file: await toFile(Buffer.from(LONG.repeat(3)), "keepers.txt"),
      purpose: "user_data",
    });
    const question = { type: "input_text" as const, text: "What does it say?" };
    const bare = await count({ model: MODEL, input: [{ role: "user", content: [question] }] });
    const withFile = await count({
      model: MODEL,
      input: [{ role: "user", content: [question, { type: "input_file", file_id: file.id }] }],
    });
    assert.ok(withFile > bare + 100, `${withFile} vs ${bare}`);
    await client.files.delete(file.id);
  });

  it("counts a conversation's items", async () => {
    const conversation = await client.conversations.create({ items: [{ type: "message", role: "user", content: LONG }] });
    const inConversation = await count({ model: MODEL, conversation: conversation.id, input: "Go on." });
    const alone = await count({ model: MODEL, input: "Go on." });
    assert.ok(inConversation > alone + 100, `${inConversation} vs ${alone}`);
    const items = await client.conversations.items.list(conversation.id);
    assert.equal(items.data.length, 1, "counting adds nothing to the conversation");
  });

  it("answers OpenAI's errors: no model, an unknown model, an unknown previous response, a bad input", async () => {
    await assert.rejects(client.responses.inputTokens.count({ input: "Hi" }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.param, "model");
      return true;
    });
    await assert.rejects(client.responses.inputTokens.count({ model: "nope/none", input: "Hi" }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `${String(err)} ${(err as { status?: number }).status}`);
      return true;
    });
    await assert.rejects(
      client.responses.inputTokens.count({ model: MODEL, previous_response_id: "resp_unknown", input: "Hi" }),
      (err: unknown) => {
        // As POST /v1/responses answers it (OpenAI's 400 previous_response_not_found).
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.param, "previous_response_id");
        return true;
      },
    );
    await assert.rejects(
      client.responses.inputTokens.count({ model: MODEL, input: [{ type: "nonsense" } as never] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.match(String(err.param), /^input/);
        return true;
      },
    );
    assert.equal(openai.requests.length, 0);
  });
});
