/**
 * POST /v1/responses on the embedded engine, through tiny deterministic models (test/support/gguf):
 * a plain answer, and a function-tool round trip whose first turn is streamed and whose second turn
 * continues it by previous_response_id, the engine answering from the tool's result.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { makeModelDir, writeChatModel, writeToolCallModel } from "../support/gguf/index.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let client: OpenAI;

const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeToolCallModel(join(made.dir, "tools.gguf"));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          chat: { path: join(made.dir, "chat.gguf"), contextSize: 512 },
          tools: { path: join(made.dir, "tools.gguf"), contextSize: 1024 },
        },
      },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

describe("responses on the local engine", () => {
  it("answers a string input", async () => {
    // Loaded first: the request below names the target, whose 10 s first-token limit is not the subject.
    await loadLocalModel(tandem, "local/chat");
    const res = await client.responses.create({ model: "local/chat", input: "Hi" });
    assert.equal(res.status, "completed");
    assert.equal(res.model, "local/chat");
    assert.equal(res.output_text, "Hello from tandem.");
  });

  it("runs a function-tool round trip: the call streamed, the answer by previous_response_id", async () => {
    await loadLocalModel(tandem, "local/tools");
    const stream = client.responses.stream({
      model: "local/tools",
      input: "What's the weather in Paris?",
      tools: [weather],
      temperature: 0,
    });
    const types = new Set<string>();
    for await (const event of stream) types.add(event.type);
    const first = await stream.finalResponse();
    assert.ok(types.has("response.function_call_arguments.delta"));
    assert.ok(types.has("response.function_call_arguments.done"));
    const call = first.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call", JSON.stringify(first.output));
    assert.equal(call.name, "get_weather");
    assert.deepEqual(JSON.parse(call.arguments), { city: "Paris" });

    const second = await client.responses.create({
      model: "local/tools",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: '{"sky": "sunny"}' }],
      tools: [weather],
      temperature: 0,
    });
    assert.equal(second.output_text, "It is sunny in Paris.");
    assert.equal(second.status, "completed");
  });
});
