/**
 * Chat completions' deprecated functions API on the embedded engine (a tiny model written by the
 * test, test/support/gguf): the functions are offered as the engine's functions, the model's call
 * comes back as `message.function_call` with `finish_reason: "function_call"`, whole and streamed as
 * `delta.function_call` pieces, and the call with its `role: "function"` result in the history lets
 * the model answer. The other target kinds: chat-legacy-functions.test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { makeModelDir, writeToolCallModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const FUNCTIONS: OpenAI.ChatCompletionCreateParams.Function[] = [
  { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
];

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let client: OpenAI;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeToolCallModel(join(made.dir, "weather.gguf"), {
    functionName: "get_weather",
    arguments: { city: "Paris" },
    finalAnswer: "Sunny.",
  });
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { weather: { path: join(made.dir, "weather.gguf"), contextSize: 1024 } } },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];

describe("legacy functions on the local engine", () => {
  it("answers the model's call as message.function_call, whole", async () => {
    const answer = await client.chat.completions.create({
      model: "local/weather",
      messages: ask,
      functions: FUNCTIONS,
      temperature: 0,
    });
    const choice = answer.choices[0];
    assert.equal(choice?.finish_reason, "function_call", JSON.stringify(choice));
    assert.equal(choice?.message.function_call?.name, "get_weather");
    assert.deepEqual(JSON.parse(choice?.message.function_call?.arguments ?? ""), { city: "Paris" });
    assert.equal(choice?.message.tool_calls, undefined);
  });

  it("streams it as delta.function_call pieces, never tool_calls", async () => {
    const stream = await client.chat.completions.create({
      model: "local/weather",
      messages: ask,
      functions: FUNCTIONS,
      temperature: 0,
      stream: true,
    });
    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      assert.equal(chunk.choices[0]?.delta.tool_calls, undefined);
      name += chunk.choices[0]?.delta.function_call?.name ?? "";
      args += chunk.choices[0]?.delta.function_call?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(name, "get_weather");
    assert.deepEqual(JSON.parse(args), { city: "Paris" });
    assert.equal(finish, "function_call");
  });

  it("takes the call and its function result back, and the model answers", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...ask,
      { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Paris"}' } },
      { role: "function", name: "get_weather", content: "sunny, 24C" },
    ];
    const final = await client.chat.completions
      .stream({ model: "local/weather", messages, functions: FUNCTIONS, temperature: 0 })
      .finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, "Sunny.");
  });
});
